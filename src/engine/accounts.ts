import type { Input } from '../core/decide.js';
import type { Mode } from '../core/state.js';
import type { AccountCredentials, ExchangeAccount, ExchangeConnector, Subscription } from '../exchange/port.js';
import type { Logger } from '../util/logger.js';

// Maps a user to the exchange account their session trades on. Paper sessions trade on the simulator
// through the very same adapter code as live, each user on an account of their own. Live sessions need
// credentials (stored encrypted; see the operator-surfaces work) and an explicitly configured live connector.

export function paperCredentials(userId: string): AccountCredentials {
  return { apiKey: `paper-${userId}`, apiSecret: `paper-secret-${userId}` };
}

export interface AccountRegistryOptions {
  paper: ExchangeConnector;
  live: ExchangeConnector | null;
  liveCredentials: (userId: string) => AccountCredentials | null;
  modeOf: (userId: string) => Mode | null;
  onInput: (input: Input) => void;
  logger: Logger;
}

export class AccountRegistry {
  private readonly accounts = new Map<string, { account: ExchangeAccount; stream: Promise<Subscription | null> }>();

  constructor(private readonly opts: AccountRegistryOptions) {}

  resolve(userId: string): ExchangeAccount | null {
    const mode = this.opts.modeOf(userId) ?? 'paper';
    const key = `${mode}:${userId}`;
    const existing = this.accounts.get(key);
    if (existing) return existing.account;
    let account: ExchangeAccount;
    if (mode === 'paper') {
      account = this.opts.paper.account(paperCredentials(userId));
    } else {
      const credentials = this.opts.liveCredentials(userId);
      if (!this.opts.live || !credentials) return null;
      account = this.opts.live.account(credentials);
    }
    // The user-data stream pushes fills as they happen; polling by id in the watchdog is the backstop.
    const stream = account
      .subscribeOrderUpdates((order) => this.opts.onInput({ kind: 'order_update', order }))
      .catch((error: unknown) => {
        this.opts.logger.warn({ err: error, userId }, 'user-data stream unavailable; relying on order polling');
        return null;
      });
    this.accounts.set(key, { account, stream });
    return account;
  }

  async close(): Promise<void> {
    for (const { account, stream } of this.accounts.values()) {
      const sub = await stream;
      await sub?.close();
      await account.close();
    }
    this.accounts.clear();
  }
}
