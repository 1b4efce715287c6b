// Public types of the exchange simulator (re-exported from server.ts).
import type { BookSettings } from './order-book.js';
import type { PaperStateStore } from './state-store.js';
import type { GatewayLimits } from './gateway.js';

export interface SimSymbolSpec {
  symbol: string;
  startPrice: number;
  tickSize: string;
  stepSize: string;
  minQty: string;
  maxQty: string;
  minNotional: string;
  spreadTicks: number;
  volatilityBpsPerStep: number;
  /**
   * MARKET_LOT_SIZE, the quantity rules of MARKET orders (checked on top of LOT_SIZE's); each defaults to LOT_SIZE's.
   * Binance publishes both filters per symbol, the market one usually with a lower maxQty.
   */
  marketMinQty?: string;
  marketMaxQty?: string;
  marketStepSize?: string;
  /** PERCENT_PRICE filter (4 decimals): a BUY's price at most mark × up, a SELL's at least mark × down; default 1.0500 / 0.9500. */
  multiplierUp?: string;
  multiplierDown?: string;
  /**
   * PRICE_FILTER's bounds as exchangeInfo publishes them ("0": that bound is off); by default one tick, and
   * startPrice × 1 000 (far enough that price gaps never reach it).
   */
  minPrice?: string;
  maxPrice?: string;
}

export interface SimulatorOptions {
  port?: number; // 0 = random
  host?: string; // default 127.0.0.1
  symbols?: SimSymbolSpec[];
  seed?: number;
  priceStepMs?: number; // price process period, default 250
  startingBalanceUsd?: number;
  /**
   * Also serve the retired legacy stream paths (`/ws/...`, `/stream?streams=...` without a route prefix).
   * Off by default, as on Binance since 2026-04-23: a client must use `/public`, `/market` and `/private`.
   */
  legacyStreamRoutes?: boolean;
  /** Funding rate per funding interval, in basis points (positive: longs pay shorts); default 0 = no funding. */
  fundingRateBps?: number;
  /** Time between funding times, in ms; default 8 h as on Binance. */
  fundingIntervalMs?: number;
  /**
   * The depth model (order-book.ts): `levels` per side (default 10), level notional range, gap between levels,
   * tape volume per step. Defaults are deep enough that the engine's test orders fill within the first levels.
   */
  book?: Partial<BookSettings>;
  /** User-data listen key life after creation or keep-alive, ms (Binance: 60 min); scale it down in tests. */
  listenKeyValidityMs?: number;
  /** A user-data connection is closed by the server this long after it opened (Binance: 24 h). */
  userStreamMaxLifetimeMs?: number;
  /**
   * A market-stream connection (/public, /market, or a legacy path) is closed by the server this long after it opened
   * (Binance: 24 h, "expect to be disconnected at the 24 hour mark"); scale it down in tests.
   */
  marketStreamMaxLifetimeMs?: number;
  /** On expiry: push `listenKeyExpired` (default true) and close the socket (default false: it stays open, silent). */
  listenKeyExpiry?: { pushEvent?: boolean; closeSocket?: boolean };
  /**
   * Every WebSocket connection is sent a ping frame this often (ms; Binance: 3 min) and dropped when no pong came for
   * `wsPongTimeoutMs` (Binance: 10 min). Scale them down in tests.
   */
  wsPingEveryMs?: number;
  wsPongTimeoutMs?: number;
  /**
   * Where the exchange keeps its state across restarts (state-store.ts): restored at start, written before each
   * confirmation; closed by close(). None: in memory only, a blank exchange at every start.
   */
  state?: PaperStateStore;
  /**
   * apiKey -> secret (a table, or a function for key schemes such as the engine's paper accounts); when given, HMAC
   * signatures are verified and unknown keys refused (-2015), else any key is accepted and a per-key account auto-created.
   */
  credentials?: SimCredentials;
  /** The IP and account limits (gateway.ts); default Binance's (2 400 weight a minute, …). Tests lower them. */
  gatewayLimits?: Partial<GatewayLimits>;
}

/** apiKey -> secret: a fixed table, or a lookup answering undefined for a key it does not know. */
export type SimCredentials = Readonly<Record<string, string>> | ((apiKey: string) => string | undefined);

export interface SimFaults {
  /** delay before answering every REST call */
  latencyMs: number;
  /** next N order placements are accepted+executed but the HTTP response is never sent (socket destroyed after latency) */
  timeoutAfterAcceptCount: number;
  /** next N REST calls answer 503 without doing anything */
  http5xxCount: number;
  /** next N calls answer 429 {code:-1003} with Retry-After */
  rateLimit429Count: number;
  /** next N calls each start an IP ban of `banMs`: every request until it ends answers 418 {code:-1003} with Retry-After */
  ban418Count: number;
  /** length of a ban, injected or earned by repeated 429s (ms; Binance's shortest is 2 min) */
  banMs: number;
  /** extra delay per REST path (e.g. {"/fapi/v1/order": 500}), on top of latencyMs */
  latencyByPathMs: Record<string, number>;
  /** every GTX order rejected -5022 */
  forcePostOnlyReject: boolean;
  /**
   * While set, every MARKET order is refused with -4131 "The counterparty's best price does not meet the
   * PERCENT_PRICE filter limit." (a thin or runaway book; Binance answers this to market orders then).
   */
  rejectMarketOrders: boolean;
  /**
   * bookTicker events carry a book state this old (T and E this far in the past) though sent now: a lagging venue,
   * whose quotes look fresh by their arrival and are not. Default 0.
   */
  marketDataLagMs: number;
  /** market-data streams stop sending (connections stay open) */
  wsSilent: boolean;
  /** user-data streams stop sending (connections stay open, pings answered, listen keys still valid) */
  userStreamSilent: boolean;
  /** The server's clock runs this far ahead (positive) or behind of the wall clock, ms: a client that does not
   * sync gets -1021 once the gap passes its recvWindow (GET /fapi/v1/time answers the skewed clock). */
  clockSkewMs: number;
  /** next N order placements are refused -2019 "Margin is insufficient." before the matching engine sees them */
  marginInsufficientCount: number;
  /**
   * While set, every order placement (POST /fapi/v1/order, /fapi/v1/algoOrder) but a reduce-only or close-position one
   * is refused with HTTP 503 -1008 "Request throttled by system-level protection." before the matching engine sees it
   * (Binance under load, errors.ts); cancels, queries and reads pass.
   */
  systemThrottle: boolean;
  /** next N WebSocket messages (market and user data, to any client) are dropped, as a lossy network would */
  wsDropNextMessages: number;
  /** every WebSocket message is delivered this late, ms (order kept per connection) */
  wsDelayMs: number;
  /** closes every WS connection now */
  dropWsConnections(): void;
}

export interface SimOrderRecord {
  accountKey: string;
  clientOrderId: string;
  orderId: number;
  symbol: string;
  side: 'BUY' | 'SELL';
  type: string;
  timeInForce?: string;
  price?: string;
  origQty: string;
  reduceOnly: boolean;
  status: string;
  executedQty: string;
  avgPrice: string;
  /** ms, server wall clock when the request arrived */
  receivedAt: number;
  respondedAt?: number;
}

export interface SimRequestRecord {
  method: string;
  path: string;
  /** ms, server wall clock when the request arrived */
  receivedAt: number;
  weight: number;
  status: number;
  /** The Binance error code answered, if any (-1021: refused on its timestamp/recvWindow before any processing). */
  code?: number;
  /**
   * Who sent it, from the X-QE-Client header (not a Binance header): a cluster worker's id, so a test can tell
   * which worker's request reached the exchange and when (src/exchange/binance/rest-client.ts sends it).
   */
  client?: string;
}

/** One trade of an account as the exchange booked it (its side of the trade: maker or taker, commission charged). */
export interface SimTradeRecord {
  symbol: string;
  side: 'BUY' | 'SELL';
  price: string;
  qty: string;
  commission: string;
  maker: boolean;
  timeMs: number;
}

export interface SimulatorHandle {
  /** Open conditional (algo) orders of an account: protective stops resting on the exchange. */
  openAlgoOrders(accountKey: string): { clientAlgoId: string; symbol: string; side: 'BUY' | 'SELL'; triggerPrice: number }[];
  /** Fault: the exchange drops an account's conditional orders (as after a liquidation or an operator). */
  cancelAlgoOrdersBehindOurBack(accountKey: string): void;
  restBaseUrl: string; // http://127.0.0.1:port
  wsBaseUrl: string; // ws://127.0.0.1:port
  faults: SimFaults;
  /** every order request ever accepted, in arrival order */
  orders(): SimOrderRecord[];
  /** one account's orders (what orders() lists of it, without formatting every other account's) */
  ordersOf(accountKey: string): SimOrderRecord[];
  /** an account's trades, oldest first (bounded as GET /fapi/v1/userTrades keeps them: trade-history.ts) */
  trades(accountKey: string): SimTradeRecord[];
  /** every REST request, with the weight charged to the IP and the HTTP status answered */
  requests(): SimRequestRecord[];
  /** jump the price (e.g. 20% gap); fills resting orders that now cross */
  setMid(symbol: string, price: number): void;
  /**
   * Sets the touch exactly, as a replayed quote (decimal strings on the tick grid; POST /sim/v1/touch is the same
   * over HTTP): pauses the price walk (pausePriceProcess(false) resumes it), redraws the depth around the touch,
   * fills resting orders it trades through and publishes the book, as setMid does. `timeMs` is the book's time
   * (bookTicker `T`, the quote's own time in a replay); default now.
   */
  setTouch(symbol: string, bid: string, ask: string, timeMs?: number): void;
  position(accountKey: string, symbol: string): number;
  pausePriceProcess(paused: boolean): void;
  /** One step of every symbol's price walk now, as the timer makes (a test steps a paused walk by hand). */
  stepPriceProcess(): void;
  /** Control: the funding rate (bps per interval) and interval (ms) from now on; the next funding time is one interval away. */
  setFunding(settings: { rateBps?: number; intervalMs?: number }): void;
  /**
   * Control: a funding time of one symbol now, at `rateBps` (per interval; positive: longs pay shorts), apart from the
   * funding clock: a replay pays the archive's funding times (fundingRate) as they come.
   */
  fundNow(symbol: string, rateBps: number): void;
  funding(): { rateBps: number; intervalMs: number };
  /** Whether the exchange started from stored state (options.state held an earlier run's). */
  restored: boolean;
  /** A blank paper account (one, or every account): erased in memory and in the state store; returns the keys reset. */
  resetAccounts(accountKey?: string): string[];
  close(): Promise<void>;
}
