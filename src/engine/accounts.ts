import type { Input } from '../core/decide.js';
import type { Mode } from '../core/state.js';
import type { AccountCredentials, ExchangeAccount, ExchangeConnector, Subscription } from '../exchange/port.js';
import type { Logger } from '../util/logger.js';

// Maps a user to the exchange account their session trades on. Paper sessions trade on the simulator
// through the very same adapter code as live, each user on an account of their own. Live sessions need
// credentials (stored encrypted; see the operator-surfaces work) and an explicitly configured live connector.

/** Accounts closed at once at shutdown (sockets closing, streams finishing their opening). */
const closeAccountsConcurrency = 256;

const paperKeyPrefix = 'paper-';

export function paperCredentials(userId: string): AccountCredentials {
  return { apiKey: `${paperKeyPrefix}${userId}`, apiSecret: `paper-secret-${userId}` };
}

/**
 * The secret of a paper API key, for the paper exchange to check signatures against (undefined: not a paper key,
 * refused with -2015). The paper exchange of `all` (and `simulator --paper-accounts`) is configured with it.
 */
export function paperSecretOf(apiKey: string): string | undefined {
  return apiKey.startsWith(paperKeyPrefix) && apiKey.length > paperKeyPrefix.length
    ? paperCredentials(apiKey.slice(paperKeyPrefix.length)).apiSecret
    : undefined;
}

export interface AccountRegistryOptions {
  paper: ExchangeConnector;
  live: ExchangeConnector | null;
  liveCredentials: (userId: string) => AccountCredentials | null;
  modeOf: (userId: string) => Mode | null;
  onInput: (input: Input) => void;
  logger: Logger;
  /**
   * How long (ms) a pushed position change waits before the engine compares it: Binance does not order events of
   * different types, so the trade that explains it may arrive just after the ACCOUNT_UPDATE.
   */
  positionNewsSettleMs?: number;
}

const defaultPositionNewsSettleMs = 1_000;

interface OpenAccount {
  account: ExchangeAccount;
  stream: Promise<Subscription | null>;
  /** The keys it was opened with: live keys change (rotation, /disconnect) and the account must follow. */
  credentials: AccountCredentials;
}

const sameCredentials = (a: AccountCredentials, b: AccountCredentials): boolean => a.apiKey === b.apiKey && a.apiSecret === b.apiSecret;

export class AccountRegistry {
  private readonly accounts = new Map<string, OpenAccount>();
  private closed = false;

  constructor(private readonly opts: AccountRegistryOptions) {}

  /**
   * The account of the user's session (its mode), or of `mode` when given (a session about to start). None once
   * closed: an effect performed during shutdown must not open an account, and its user-data stream, that nobody
   * closes (its timers kept the process alive).
   */
  resolve(userId: string, mode: Mode = this.opts.modeOf(userId) ?? 'paper'): ExchangeAccount | null {
    if (this.closed) return null;
    const key = `${mode}:${userId}`;
    const credentials = mode === 'paper' ? paperCredentials(userId) : this.opts.liveCredentials(userId);
    const existing = this.accounts.get(key);
    if (existing && credentials && sameCredentials(existing.credentials, credentials)) return existing.account;
    if (existing) {
      // Rotated or removed keys: the old account must not sign another request (a revoked key answers
      // -2015 to everything, flattens included). Its stream and connections are closed in the background.
      this.accounts.delete(key);
      this.opts.logger.warn(
        { userId, mode },
        credentials ? 'exchange keys changed; account re-opened with the new keys' : 'exchange keys removed; account closed',
      );
      void this.retire(existing);
    }
    if (!credentials) return null;
    let account: ExchangeAccount;
    if (mode === 'paper') {
      account = this.opts.paper.account(credentials);
    } else {
      if (!this.opts.live) return null;
      account = this.opts.live.account(credentials);
    }
    // The user-data stream pushes fills as they happen; polling by id in the watchdog is the backstop. After a gap in
    // the stream (expired key, lost or deaf connection) the user's orders and positions are read again (resync).
    const settleMs = this.opts.positionNewsSettleMs ?? defaultPositionNewsSettleMs;
    const stream = account
      .subscribeOrderUpdates(
        (order) => this.opts.onInput({ kind: 'order_update', order, userId, mode }),
        (payment) => this.opts.onInput({ kind: 'funding', userId, payment }),
        {
          onGap: (reason) => {
            this.opts.logger.warn({ userId, mode, reason }, 'user-data stream gap; reconciling orders and positions');
            this.opts.onInput({ kind: 'resync', userId });
          },
          onPositions: (positions) => {
            setTimeout(() => this.opts.onInput({ kind: 'position_news', userId, mode, positions }), settleMs).unref();
          },
          // A stop cancelled on the exchange's side is re-placed at once (core/stop-news.ts), not at the next check.
          onStopUpdate: (update) => this.opts.onInput({ kind: 'stop_news', userId, mode, update }),
          // A setting changed by hand mid-session (core/account-recheck.ts): entries pause if the engine cannot trade under it.
          onAccountConfig: (change) => this.opts.onInput({ kind: 'account_config', userId, mode, change }),
        },
      )
      .catch((error: unknown) => {
        this.opts.logger.warn({ err: error, userId }, 'user-data stream unavailable; relying on order polling');
        return null;
      });
    this.accounts.set(key, { account, stream, credentials });
    return account;
  }

  private async retire(open: OpenAccount): Promise<void> {
    try {
      const sub = await open.stream;
      await sub?.close();
      await open.account.close();
    } catch (error) {
      this.opts.logger.warn({ err: error }, 'closing a retired exchange account failed');
    }
  }

  /**
   * Closes every account and its stream, closeAccountsConcurrency at a time. One after another, a shutdown with
   * 10 000 accounts outlasted the 30-minute bench run: each waited for its socket's close, and a stream still opening
   * for its listen key's turn in the request budget.
   */
  async close(): Promise<void> {
    this.closed = true;
    const open = [...this.accounts.values()];
    for (let i = 0; i < open.length; i += closeAccountsConcurrency) {
      await Promise.all(
        open.slice(i, i + closeAccountsConcurrency).map(async ({ account, stream }) => {
          const sub = await stream;
          await sub?.close();
          await account.close();
        }),
      );
    }
    this.accounts.clear();
  }
}
