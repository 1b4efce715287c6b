import type { DurableState, MarketState, Order, Session } from './state.js';

// Copies of the fold's records, field by field. The fold makes a new state (and session, order) per event from
// the one before, and V8 copies a spread of an object that was itself made by a spread (`{ ...state, x }` a million
// times in a row) 20–40× slower than it builds an object literal: ~1.5 µs against ~35 ns for the state on Node 20,
// which was most of the fold's time. A copy holds exactly the record's fields (an optional one only when set,
// as a spread would); a field added to a record type must be added here too, which the checks below enforce.
// Plain values in, plain values out: nothing here is impure.

/** The optional keys of T. */
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];
/** `true` when `Copied` names every optional key of T, else the keys it misses: a type error where `true` is given. */
type CopiesEveryOptionalKey<T, Copied extends keyof T> = [Exclude<OptionalKeys<T>, Copied>] extends [never] ? true : Exclude<OptionalKeys<T>, Copied>;

/** `{ ...s, ...patch }` (every field of the state is required: a new one is a type error in the literal below). */
export function copyState(s: DurableState, patch?: Partial<DurableState>): DurableState {
  const copy: DurableState = {
    epoch: s.epoch,
    orderSeq: s.orderSeq,
    halted: s.halted,
    liveApprovedUserIds: s.liveApprovedUserIds,
    sessions: s.sessions,
    orders: s.orders,
    terminalOrderIds: s.terminalOrderIds,
    processedCommandIds: s.processedCommandIds,
    routes: s.routes,
  };
  return patch === undefined ? copy : Object.assign(copy, patch);
}

/** `{ ...s, ...patch }`. */
export function copySession(s: Session, patch?: Partial<Session>): Session {
  const copy: Session = {
    userId: s.userId,
    mode: s.mode,
    status: s.status,
    capitalUsd: s.capitalUsd,
    stopLossPct: s.stopLossPct,
    horizonDeadlineMs: s.horizonDeadlineMs,
    leverage: s.leverage,
    paused: s.paused,
    killSwitch: s.killSwitch,
    startedAtMs: s.startedAtMs,
    realizedPnlUsd: s.realizedPnlUsd,
    feesUsd: s.feesUsd,
    fundingUsd: s.fundingUsd,
    fundingIds: s.fundingIds,
    exchangeFillKeys: s.exchangeFillKeys,
    positions: s.positions,
    intents: s.intents,
    protectiveStops: s.protectiveStops,
    stopCommandId: s.stopCommandId,
  };
  if (s.fundingBookedThroughMs !== undefined) copy.fundingBookedThroughMs = s.fundingBookedThroughMs;
  if (s.bookedTradeIds !== undefined) copy.bookedTradeIds = s.bookedTradeIds;
  if (s.adoptedAsOfMs !== undefined) copy.adoptedAsOfMs = s.adoptedAsOfMs;
  return patch === undefined ? copy : Object.assign(copy, patch);
}
// Compile-time: an optional Session field that copySession does not copy fails the typecheck here.
const everySessionKeyCopied: CopiesEveryOptionalKey<Session, 'fundingBookedThroughMs' | 'bookedTradeIds' | 'adoptedAsOfMs'> = true;
void everySessionKeyCopied;

/** `{ ...o, ...patch }`. */
export function copyOrder(o: Order, patch?: Partial<Order>): Order {
  const copy: Order = {
    clientOrderId: o.clientOrderId,
    userId: o.userId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    quantity: o.quantity,
    price: o.price,
    timeInForce: o.timeInForce,
    reduceOnly: o.reduceOnly,
    purpose: o.purpose,
    fallbackOf: o.fallbackOf,
    status: o.status,
    exchangeOrderId: o.exchangeOrderId,
    filledQty: o.filledQty,
    avgPrice: o.avgPrice,
    createdAtMs: o.createdAtMs,
    updatedAtMs: o.updatedAtMs,
    cancelRequested: o.cancelRequested,
    rejectReason: o.rejectReason,
  };
  if (o.feeBookedQty !== undefined) copy.feeBookedQty = o.feeBookedQty;
  return patch === undefined ? copy : Object.assign(copy, patch);
}
// Compile-time: an optional Order field that copyOrder does not copy fails the typecheck here.
const everyOrderKeyCopied: CopiesEveryOptionalKey<Order, 'feeBookedQty'> = true;
void everyOrderKeyCopied;

/**
 * `{ ...m, ...patch }` for the market view: every tick replaces its venues, and a spread of a market made by a spread
 * took V8's slow path on each (every field of the market is required: a new one is a type error in the literal).
 */
export function copyMarket(m: MarketState, patch?: Partial<MarketState>): MarketState {
  const copy: MarketState = {
    bootAtMs: m.bootAtMs,
    venues: m.venues,
    lastQueryAtMs: m.lastQueryAtMs,
    lastCancelAtMs: m.lastCancelAtMs,
    lastStopCheckAtMs: m.lastStopCheckAtMs,
    lastStopAttemptAtMs: m.lastStopAttemptAtMs,
    stopChecksInMinute: m.stopChecksInMinute,
    fundingBackstopsInMinute: m.fundingBackstopsInMinute,
    lastEquitySampleAtMs: m.lastEquitySampleAtMs,
    equitySamplesInSecond: m.equitySamplesInSecond,
    foreignPositionsReported: m.foreignPositionsReported,
    retiredStops: m.retiredStops,
    deferredTradeReads: m.deferredTradeReads,
    retryAt: m.retryAt,
    owedReadsAskedAtMs: m.owedReadsAskedAtMs,
    owedReadsAskedAgainInMs: m.owedReadsAskedAgainInMs,
    lastFundingReadAtMs: m.lastFundingReadAtMs,
    heldSinceFundingRead: m.heldSinceFundingRead,
    reconcileDisagreedAtMs: m.reconcileDisagreedAtMs,
    signalSkipsReported: m.signalSkipsReported,
  };
  return patch === undefined ? copy : Object.assign(copy, patch);
}
// Compile-time: MarketState has no optional field for copyMarket to miss.
const everyMarketKeyCopied: CopiesEveryOptionalKey<MarketState, never> = true;
void everyMarketKeyCopied;
