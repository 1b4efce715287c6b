import type { Logger } from '../../util/logger.js';
import type { AccountCredentials, ExchangeAccount, ExchangeConnector, MarketData, Subscription } from '../port.js';
import type { BookTicker, SymbolFilters } from '../../model/market.js';
import type { RateBudget } from '../rate-budget.js';
import type { RequestSlotLimits } from '../request-slots.js';
import { defaultRequestSlotLimits, RequestSlots } from '../request-slots.js';
import type { SignGuard } from '../sign-guard.js';
import { BinanceAccount } from './account.js';
import { toBookTicker, toSymbolFilters } from './mapping.js';
import { SharedClock } from './own-requests.js';
import { createRestClient, syncClock } from './rest-client.js';
import type { StreamRoutes } from './stream-routes.js';
import { bookStreamUrl, defaultStreamRoutes } from './stream-routes.js';
import { openStream } from './ws-stream.js';
import { defaultUserStreamTimings } from './user-stream.js';
import { defaultSilenceProbesPerMinute, createSilenceProbeRation } from './probe-ration.js';

// The Binance USDⓈ-M adapter: REST through the `binance` SDK, streams over plain WebSockets. Pointed at
// the simulator for paper trading and tests, at Binance for live: the same code either way.

export interface BinanceConnectorOptions {
  restBaseUrl?: string;
  wsBaseUrl?: string;
  restTimeoutMs?: number;
  recvWindowMs?: number;
  wsReconnectDelayMs?: number;
  /** User-data stream: keep-alive period (default 30 min), retry after a failed one, silence probe, echo timeout. */
  listenKeyKeepaliveIntervalMs?: number;
  listenKeyKeepaliveRetryMs?: number;
  userStreamSilenceProbeMs?: number;
  userStreamEchoTimeoutMs?: number;
  /** Silence probes (out-of-turn keep-alives) per minute for all accounts of this connector (probe-ration.ts). */
  silenceProbesPerMinute?: number;
  /** A market stream with no message for this long is presumed dead and reconnected. */
  marketIdleTimeoutMs?: number;
  /** This venue's request budget (one per venue and IP): every response's rate headers and 429/418 go into it. */
  rateBudget?: RateBudget;
  logger?: Logger;
  /** The current split stream routes (default) or the retired legacy ones. */
  streamRoutes?: StreamRoutes;
  /** Asked right before every signed request of its accounts: a cluster worker's lease guard (src/cluster/lease-guard.ts). */
  signGuard?: SignGuard;
  /** Sent as X-QE-Client with every REST request, for the simulator's request log (a worker's id); never to a live venue. */
  clientId?: string;
  /** Requests of all its accounts in flight at once, and waiting (request-slots.ts). */
  requestSlotLimits?: RequestSlotLimits;
}

/**
 * How long after its timestamp a signed request may still be accepted: Binance's default recvWindow, 5 000 ms
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info#timing-security).
 */
export const defaultRecvWindowMs = 5_000;

export function createBinanceConnector(opts: BinanceConnectorOptions): ExchangeConnector {
  const restBaseUrl = opts.restBaseUrl ?? 'https://fapi.binance.com';
  const wsBaseUrl = opts.wsBaseUrl ?? 'wss://fstream.binance.com';
  const restTimeoutMs = opts.restTimeoutMs ?? 3_000;
  const recvWindowMs = opts.recvWindowMs ?? defaultRecvWindowMs;
  const wsReconnectDelayMs = opts.wsReconnectDelayMs ?? 250;
  const streamRoutes = opts.streamRoutes ?? defaultStreamRoutes;

  const marketData = (): MarketData => {
    const client = createRestClient({ restBaseUrl, restTimeoutMs, recvWindowMs });
    return {
      async getSymbolFilters(symbols: readonly string[]): Promise<Record<string, SymbolFilters>> {
        return toSymbolFilters(await client.getExchangeInfo(), symbols);
      },
      async subscribeBookTicker(symbols: readonly string[], onTick: (tick: BookTicker) => void): Promise<Subscription> {
        const streams = symbols.map((s) => `${s.toLowerCase()}@bookTicker`);
        return openStream({
          url: () => Promise.resolve(bookStreamUrl(wsBaseUrl, streams, streamRoutes)),
          onMessage: (message) => {
            const tick = toBookTicker(message);
            if (tick) onTick(tick);
          },
          logger: opts.logger,
          reconnectDelayMs: wsReconnectDelayMs,
          maxReconnectDelayMs: 10_000,
          idleTimeoutMs: opts.marketIdleTimeoutMs ?? 15_000,
        });
      },
      async close() {},
    };
  };

  // One clock offset for every account: a request's timestamp depends on the link to the venue, not on the account.
  const timeClient = createRestClient({ restBaseUrl, restTimeoutMs, recvWindowMs });
  const clock = new SharedClock(() => syncClock(timeClient), opts.rateBudget);
  const requestSlots = new RequestSlots(opts.requestSlotLimits ?? defaultRequestSlotLimits);
  // One ration for every account: the weight they spend is the IP's, and a connector is one venue and IP.
  const silenceProbeRation = createSilenceProbeRation(opts.silenceProbesPerMinute ?? defaultSilenceProbesPerMinute);

  return {
    marketData,
    account(credentials: AccountCredentials): ExchangeAccount {
      return new BinanceAccount(credentials, {
        restBaseUrl,
        wsBaseUrl,
        streamRoutes,
        restTimeoutMs,
        recvWindowMs,
        wsReconnectDelayMs,
        userStream: {
          keepaliveIntervalMs: opts.listenKeyKeepaliveIntervalMs ?? defaultUserStreamTimings.keepaliveIntervalMs,
          keepaliveRetryMs: opts.listenKeyKeepaliveRetryMs ?? defaultUserStreamTimings.keepaliveRetryMs,
          silenceProbeMs: opts.userStreamSilenceProbeMs ?? defaultUserStreamTimings.silenceProbeMs,
          echoTimeoutMs: opts.userStreamEchoTimeoutMs ?? defaultUserStreamTimings.echoTimeoutMs,
        },
        silenceProbeRation,
        rateBudget: opts.rateBudget,
        logger: opts.logger,
        clock,
        signGuard: opts.signGuard,
        clientId: opts.clientId,
        requestSlots,
      });
    },
  };
}
