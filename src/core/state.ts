import type { OrderStatus, Side } from '../model/orders.js';
import type { Price, Qty, Usd } from '../model/decimal.js';
import { isZero, toPrice, toQty, toUsd } from '../model/decimal.js';
import type { Dict } from './dict.js';
import { dictFrom, dictGet, emptyDict, fewKeysDictFrom } from './dict.js';
import type { ProcessedGeneration } from './processed-ids.js';
import { ProcessedIds } from './processed-ids.js';
import { SharedDict } from './shared-dict.js';
import type { VenueFilters, VenueMarkets } from './venues.js';
import { emptyVenueMarkets } from './venues.js';

export type Mode = 'paper' | 'live';

export interface Position {
  /** Signed quantity: > 0 long, < 0 short. Exact (a decimal string), as are all amounts of durable state. */
  qty: Qty;
  entryPrice: Price;
}

export interface ProtectiveStop {
  clientAlgoId: string;
  side: Side;
  triggerPrice: string;
  /** pending: sent, no answer yet; unknown: the answer was lost; active: the exchange confirmed it. */
  status: 'pending' | 'active' | 'unknown';
  plannedAtMs: number;
}

export interface KillSwitch {
  engaged: boolean;
  reason: string | null;
  atMs: number | null;
}

export interface Session {
  userId: string;
  mode: Mode;
  status: 'active' | 'stopping' | 'closed';
  capitalUsd: Usd;
  /** Loss from capital, in percent, that triggers flatten + kill switch; null = none. */
  stopLossPct: number | null;
  /** UTC wall-clock ms after which the session is flattened; null = none. */
  horizonDeadlineMs: number | null;
  /** Exchange leverage set by the account preflight; null when none ran. */
  leverage: number | null;
  paused: boolean;
  killSwitch: KillSwitch;
  startedAtMs: number;
  realizedPnlUsd: Usd;
  /** Commission charged on this session's trades (positive = paid), as the exchange reported it. */
  feesUsd: Usd;
  /** Funding booked to this session, signed: received positive, paid negative. */
  fundingUsd: Usd;
  /** Exchange ids of the latest funding payments booked (bounded), so a repeated event is booked once. */
  fundingIds: string[];
  /**
   * Exchange time of the newest funding payment booked; absent: none yet. Funding reads start shortly before it
   * (funding-income.ts), so the bounded fundingIds cover every record a read can return again.
   */
  fundingBookedThroughMs?: number;
  /** Keys of the latest exchange-side trades booked (bounded; see exchangeFillKey), so a repeat is booked once. */
  exchangeFillKeys: string[];
  /** Keys of the latest trades whose commission is booked (bounded; see bookedTradeKey); absent: none yet. */
  bookedTradeIds?: string[];
  positions: Dict<Position>;
  /**
   * Per symbol, when the exchange's view its position was last adopted from was asked for (decide.ts onReconcile):
   * a trade before it is in that position already, so its push arriving late moves nothing (exchange-fills.ts).
   */
  adoptedAsOfMs?: Dict<number>;
  /** Latest target quantity per symbol from the signals, as a decimal string. */
  intents: Dict<string>;
  /** Protective stops resting on the exchange, per symbol (one per held symbol while a stop-loss is set). */
  protectiveStops: Dict<ProtectiveStop>;
  /** Command to answer "done" once a stop has flattened everything. */
  stopCommandId: string | null;
}

/** What the order is for: decides lane, routing and what happens on reject. */
export type OrderPurpose = 'entry' | 'reduce' | 'flatten';

/**
 * Core order lifecycle. `pending`: written to the WAL, send in flight. `unknown`: the send's outcome is
 * not known (timeout, 5xx, crash between WAL and answer); it stays unknown until the exchange is queried by
 * its client id. Never re-sent under a new id while unknown.
 */
export type CoreOrderStatus = 'pending' | 'unknown' | OrderStatus;

export interface Order {
  clientOrderId: string;
  userId: string;
  symbol: string;
  side: Side;
  type: 'LIMIT' | 'MARKET';
  quantity: string;
  price: string | null;
  timeInForce: 'GTX' | 'GTC' | 'IOC' | null;
  reduceOnly: boolean;
  purpose: OrderPurpose;
  /** Client id of the post-only order this one replaces after -5022. */
  fallbackOf: string | null;
  status: CoreOrderStatus;
  exchangeOrderId: string | null;
  filledQty: string;
  avgPrice: string;
  createdAtMs: number;
  updatedAtMs: number;
  cancelRequested: boolean;
  rejectReason: string | null;
  /** Cumulative filled quantity whose commission is booked (absent: none yet); a trade at or below it is not booked again. */
  feeBookedQty?: string;
}

/** Everything that must survive a crash. Changed only by folding WAL events (see events.ts). */
export interface DurableState {
  /** Prefix for client order ids, fixed at first boot so ids never repeat across restarts. */
  epoch: string | null;
  orderSeq: number;
  halted: boolean;
  /** Users an admin approved for live trading (besides the configured list); LIVE_TRADING=1 is still required. */
  liveApprovedUserIds: Dict<true>;
  /** By user id; versions share structure (shared-dict.ts), so a step's write costs what it touches. */
  sessions: SharedDict<Session>;
  /** By client order id, as sessions. */
  orders: SharedDict<Order>;
  /** Client ids of terminal orders, oldest first, for bounded retention. */
  terminalOrderIds: string[];
  /**
   * Processed command ids for de-duplication (the newest maxRememberedCommandIds): O(1) to remember and look up,
   * each state its own view of a log shared with the states before it. Written to snapshots as a list of
   * generations of ids, oldest first (the format before). See processed-ids.ts.
   */
  processedCommandIds: ProcessedIds;
  /** signals.route commands part-way through their users, by command id (see route-signals.ts); gone once answered. */
  routes: Dict<RouteProgress>;
}

/** What a route routed so far, and after which user (in id order) its next step starts. */
export interface RouteProgress {
  afterUserId: string;
  /** Orders placed, and users skipped for any reason but being at their target already. */
  routed: RouteOutcome[];
  /** How many users were at their target already, per symbol (absent: none, or a route from before it was counted). */
  atTarget?: Record<string, number>;
}

// A type, not an interface: the reply's schema reads it as an object with an index signature.
export type RouteOutcome = {
  userId: string;
  symbol: string;
  clientOrderId?: string;
  skipped?: string;
};

/** Volatile market view, rebuilt from the feed after a restart; never written to the WAL. */
/**
 * How many of something were started in one window of time (an epoch minute or second): a rate bound's count. The
 * window is the time's index (Math.floor(ms / windowMs)); a count of an earlier window is a count of 0 in this one.
 */
export interface WindowCount {
  readonly window: number;
  readonly count: number;
}

export const noneInWindow: WindowCount = { window: 0, count: 0 };

/** The count in `window` (0 once the window has turned). */
export function countInWindow(counted: WindowCount, window: number): number {
  return counted.window === window ? counted.count : 0;
}

/** One more in `window`. */
export function oneMoreInWindow(counted: WindowCount, window: number): WindowCount {
  return { window, count: countInWindow(counted, window) + 1 };
}

export interface MarketState {
  bootAtMs: number;
  /** Filters, quotes and feed clocks per venue: a session reads only its own venue's (see venues.ts). */
  venues: VenueMarkets;
  /** When each order was last queried by client id; volatile so routine polling does not bloat the WAL. */
  lastQueryAtMs: SharedDict<number>;
  /** When a cancel was last sent per order: a cancel lost in a crash or timeout is sent again. */
  lastCancelAtMs: SharedDict<number>;
  /** Per user: when the exchange's open protective stops were last listed; per user+symbol: last placement. */
  lastStopCheckAtMs: SharedDict<number>;
  lastStopAttemptAtMs: SharedDict<number>;
  /** Periodic stop checks started in an epoch minute: bounded by protectiveStopChecksPerMinute. */
  stopChecksInMinute: WindowCount;
  /** Backstop funding reads started in an epoch minute (config.fundingBackstopReadsPerMinute). */
  fundingBackstopsInMinute: WindowCount;
  /** Per user: when an equity sample was last published (dashboards draw equity curves from these). */
  lastEquitySampleAtMs: SharedDict<number>;
  /** Equity samples published in an epoch second: bounded by maxEquitySamplesPerSecond. */
  equitySamplesInSecond: WindowCount;
  /** Per user:symbol, positions in the account outside the traded symbols that were already reported (once per run). */
  foreignPositionsReported: SharedDict<true>;
  /**
   * Per user:symbol, the side of the protective stop last taken off our books and when: its cancel may lose the
   * race with its trigger, so a trade it makes shortly after is still recognised as the stop's (exchange-fills.ts).
   */
  retiredStops: SharedDict<{ side: Side; atMs: number }>;
  /**
   * Per user:symbol, a trade list read whose trades of other orders were set aside while an order of ours had no
   * exchange id yet (foreign-trades.ts).
   */
  deferredTradeReads: SharedDict<true>;
  /**
   * Per user:symbol:purpose, when to try again after the newest rejected order, where its rejection said
   * (Retry-After of a 429/418, or the local budget's own wait): only while that order is still the newest.
   */
  retryAt: SharedDict<{ clientOrderId: string; retryAtMs: number }>;
  /** Per user:symbol (or user:#funding), when a trade-list or funding read was asked for and not answered yet (trade-reads-owed.ts). */
  owedReadsAskedAtMs: SharedDict<number>;
  /**
   * The keys of owedReadsAskedAtMs asked again in the very millisecond they were owed since: an answer asked in that
   * millisecond may be the earlier read's, made before what asked again (trade-reads-owed.ts settleRead).
   */
  owedReadsAskedAgainInMs: SharedDict<true>;
  /** Per user, when its funding history was last asked for (funding-income.ts requestFundingRead; config.fundingBackstopMs). */
  lastFundingReadAtMs: SharedDict<number>;
  /** Users seen holding a position at a periodic check since their funding history was last asked for: owed a read once due. */
  heldSinceFundingRead: SharedDict<true>;
  /**
   * Per user, the time of a reconcile that found the exchange's position in a symbol other than the engine's and could
   * not adopt it (an order of that symbol unsettled): a stopping session does not close on its own view of flat until
   * a later reconcile agrees (or adopts what the exchange holds, which it then flattens). Cleared by such a reconcile.
   */
  reconcileDisagreedAtMs: SharedDict<number>;
  /**
   * Per user:symbol, why signals for a position there were last skipped for a flat session, as its user was told
   * (route-signals.ts, signal_skipped): told again only for another reason, or once an order for it was placed.
   */
  signalSkipsReported: SharedDict<string>;
}

export interface EngineState {
  durable: DurableState;
  market: MarketState;
}

export function emptyDurableState(): DurableState {
  return {
    epoch: null,
    orderSeq: 0,
    halted: false,
    liveApprovedUserIds: emptyDict(),
    sessions: SharedDict.empty(),
    orders: SharedDict.empty(),
    terminalOrderIds: [],
    processedCommandIds: ProcessedIds.empty(),
    routes: emptyDict(),
  };
}

export function emptyMarketState(bootAtMs: number, filters: VenueFilters = {}): MarketState {
  return {
    bootAtMs,
    venues: emptyVenueMarkets(filters),
    lastQueryAtMs: SharedDict.empty(),
    lastCancelAtMs: SharedDict.empty(),
    lastStopCheckAtMs: SharedDict.empty(),
    lastStopAttemptAtMs: SharedDict.empty(),
    stopChecksInMinute: noneInWindow,
    fundingBackstopsInMinute: noneInWindow,
    lastEquitySampleAtMs: SharedDict.empty(),
    equitySamplesInSecond: noneInWindow,
    foreignPositionsReported: SharedDict.empty(),
    retiredStops: SharedDict.empty(),
    deferredTradeReads: SharedDict.empty(),
    retryAt: SharedDict.empty(),
    owedReadsAskedAtMs: SharedDict.empty(),
    owedReadsAskedAgainInMs: SharedDict.empty(),
    lastFundingReadAtMs: SharedDict.empty(),
    heldSinceFundingRead: SharedDict.empty(),
    reconcileDisagreedAtMs: SharedDict.empty(),
    signalSkipsReported: SharedDict.empty(),
  };
}

/** Snapshots written before exact money types hold amounts as JSON numbers; either form reads back exact. */
type LegacyAmounts<T> = { [K in keyof T]: T[K] extends Qty | Price | Usd ? T[K] | number : T[K] };

function revivePosition(position: LegacyAmounts<Position>): Position {
  return { qty: toQty(position.qty), entryPrice: toPrice(position.entryPrice) };
}

/** A parsed session (snapshot JSON) with its keyed records rebuilt as Dicts and its amounts as exact decimals. */
type SessionJson = LegacyAmounts<Omit<Session, 'positions' | 'feesUsd' | 'fundingUsd' | 'fundingIds' | 'exchangeFillKeys' | 'leverage'>> & {
  // Absent from snapshots written before the account preflight.
  leverage?: number | null;
  positions: Record<string, LegacyAmounts<Position>>;
  // Absent from snapshots written before fees and funding were booked: they read as zero.
  feesUsd?: Usd | number;
  fundingUsd?: Usd | number;
  fundingIds?: string[];
  // Absent from snapshots written before exchange-side trades were booked.
  exchangeFillKeys?: string[];
};

function reviveSession(session: SessionJson): Session {
  const positions = Object.entries(session.positions).map(([symbol, p]): [string, Position] => [symbol, revivePosition(p)]);
  return {
    ...session,
    capitalUsd: toUsd(session.capitalUsd),
    realizedPnlUsd: toUsd(session.realizedPnlUsd),
    feesUsd: toUsd(session.feesUsd ?? 0),
    fundingUsd: toUsd(session.fundingUsd ?? 0),
    fundingIds: session.fundingIds ?? [],
    exchangeFillKeys: session.exchangeFillKeys ?? [],
    leverage: session.leverage ?? null,
    // Records by symbol, of the kind the fold keeps them in (dict.ts fewKeysEmptyDict).
    positions: fewKeysDictFrom(Object.fromEntries(positions)),
    intents: fewKeysDictFrom(session.intents),
    protectiveStops: fewKeysDictFrom(session.protectiveStops),
  };
}

/**
 * Durable state read back from a snapshot: JSON gives plain objects, whose prototype would answer lookups of
 * names like "constructor", so every keyed record is rebuilt as a Dict. Snapshots written before a field
 * existed lack it: fill in the defaults, never guess at trading state.
 */
/** Durable state as a snapshot holds it: processed ids as generations (see processed-ids.ts). */
export type DurableStateJson = Partial<Omit<DurableState, 'processedCommandIds' | 'sessions' | 'orders'>> & {
  processedCommandIds?: readonly ProcessedGeneration[];
  sessions?: Readonly<Record<string, Session>>;
  orders?: Readonly<Record<string, Order>>;
};

export function withDurableDefaults(parsed: DurableStateJson): DurableState {
  const { sessions: parsedSessions = {}, orders: parsedOrders = {}, ...rest } = parsed;
  const state = { ...emptyDurableState(), ...rest, processedCommandIds: ProcessedIds.fromGenerations(parsed.processedCommandIds ?? []) };
  const sessions = Object.entries(parsedSessions).map(([userId, session]): [string, Session] => [userId, reviveSession(session)]);
  return {
    ...state,
    liveApprovedUserIds: dictFrom(state.liveApprovedUserIds),
    sessions: SharedDict.from(sessions),
    orders: SharedDict.from(parsedOrders),
  };
}

/**
 * Whether the session holds a position in any symbol: a loop, not Object.values(...).some(...), as the stop pass and
 * the equity samples ask it of every session they visit (each asked for an array it threw away).
 */
export function holdsPosition(session: Session): boolean {
  for (const symbol in session.positions) {
    const position = session.positions[symbol];
    if (position !== undefined && !isZero(position.qty)) return true;
  }
  return false;
}

export function isLiveApproved(state: DurableState, configured: readonly string[], userId: string): boolean {
  return configured.includes(userId) || dictGet(state.liveApprovedUserIds, userId) === true;
}

export function wasProcessed(state: DurableState, commandId: string): boolean {
  return state.processedCommandIds.has(commandId);
}
