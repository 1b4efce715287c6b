import type { Side } from '../model/orders.js';
import { terminalOrderStatuses } from '../model/orders.js';
import type { Decimal, Price, Qty, Usd } from '../model/decimal.js';
import {
  add,
  decimalOf,
  entryPriceScale,
  exactAbs,
  exactAdd,
  exactCompare,
  exactDiv,
  exactMul,
  exactNeg,
  exactOf,
  exactSign,
  exactSub,
  isZero,
  neg,
  sign,
  toPrice,
  toQty,
  toUsd,
  zero,
} from '../model/decimal.js';
import type { OwnedDicts } from './dict.js';
import { dictWith, dictWithout, fewKeysDictWith, fewKeysDictWithout, fewKeysEmptyDict, ownedDicts } from './dict.js';
import { copyOrder, copySession, copyState } from './record-copies.js';
import { advanceIndex } from './state-index.js';
import type { CoreOrderStatus, DurableState, Mode, Order, RouteOutcome, RouteProgress, Session } from './state.js';
import { wasProcessed } from './state.js';
import { hasBookedKey, withBookedKey } from './booked-trade-keys.js';

// WAL events: the only way durable state changes. `applyEvent` is the fold; the core's decide() applies
// each event as it emits it, so state == fold(events) holds by construction, and boot replays the same fold.
// Amounts are exact decimal strings. Logs written before exact money types hold JSON numbers there
// (`| LegacyNumber`): the fold reads either as the exact decimal of its shortest form, so old logs replay.

/** Why the exchange traded on a session's account without an order from the engine (see exchange-fills.ts). */
export type ExchangeFillCause = 'protective_stop' | 'liquidation' | 'adl' | 'manual';

/** A JSON number in an amount field of an event written before exact money types; never written now. */
export type LegacyNumber = number;

export type WalEvent =
  | { type: 'engine.initialized'; epoch: string }
  /** A signals.route step routed these users (up to afterUserId, in id order); the route goes on in a later step. */
  /** A route's step: `routed` as in its answer; `atTarget`, the users already at their target, per symbol (RouteProgress). */
  | { type: 'route.progress'; commandId: string; afterUserId: string; routed: RouteOutcome[]; atTarget?: Record<string, string[]> }
  | {
      type: 'command.processed';
      commandId: string;
      userId: string | null;
      commandType: string | null;
      outcome: 'accepted' | 'rejected';
      reason: string | null;
      atMs: number;
    }
  | {
      type: 'session.started';
      userId: string;
      mode: Mode;
      capitalUsd: Usd | LegacyNumber;
      stopLossPct: number | null;
      horizonDeadlineMs: number | null;
      atMs: number;
      /** Exchange leverage the account preflight set (null: not checked, e.g. the deterministic simulation). */
      leverage?: number | null | undefined;
    }
  | { type: 'session.stoploss_set'; userId: string; pct: number }
  | { type: 'session.horizon_set'; userId: string; deadlineMs: number }
  | { type: 'session.paused'; userId: string; paused: boolean }
  | { type: 'session.stopping'; userId: string; commandId: string | null }
  | { type: 'session.closed'; userId: string; atMs: number }
  | { type: 'kill_switch.engaged'; userId: string; reason: string; atMs: number }
  | { type: 'halt.set'; halted: boolean; reason: string | null }
  | { type: 'live.approval_set'; userId: string; approved: boolean }
  | { type: 'intent.set'; userId: string; symbol: string; targetQty: string }
  | { type: 'order.planned'; order: Order }
  | {
      type: 'order.status';
      clientOrderId: string;
      status: CoreOrderStatus;
      exchangeOrderId: string | null;
      filledQty: string;
      avgPrice: string;
      reason: string | null;
      atMs: number;
    }
  | { type: 'order.cancel_requested'; clientOrderId: string }
  | { type: 'fill'; clientOrderId: string; userId: string; symbol: string; side: Side; qty: Qty | LegacyNumber; price: Price | LegacyNumber; atMs: number }
  /**
   * Commission of one trade (positive = charged), booked apart from the fill: REST answers that may report the
   * fill first carry no commission, only the user stream's trade does. `cumQty` (the order's filled quantity
   * after that trade) makes it idempotent. `exchangeRealizedPnlUsd` is the exchange's `rp`, kept for audit.
   */
  | {
      type: 'fee';
      userId: string;
      clientOrderId: string;
      symbol: string;
      feeUsd: Usd;
      cumQty: Qty;
      exchangeRealizedPnlUsd: Usd;
      /**
       * The exchange's trade id (push `t`, trade list `id`): a fee with one is booked once per trade id, whether the
       * push or the trade list told it, and leaves `cumQty` (the legacy key) as it was.
       */
      tradeId?: string;
      atMs: number;
    }
  /** A funding payment (signed: received positive) booked to the session; exchangeId de-duplicates. */
  | { type: 'funding'; userId: string; symbol: string | null; amountUsd: Usd; exchangeId: string; exchangeTimeMs: number; atMs: number }
  /**
   * A trade of an order the engine did not place (a fired protective stop, a liquidation, an ADL close, a manual
   * trade): it moves the position by the trade and books the exchange's own realized PnL (`rp`) and commission.
   * Booked once per `exchangeOrderId` + `cumQty` (the order's filled quantity after this trade).
   */
  | {
      type: 'exchange_fill';
      userId: string;
      symbol: string;
      side: Side;
      qty: Qty;
      price: Price;
      realizedPnlUsd: Usd;
      feeUsd: Usd;
      exchangeOrderId: string;
      clientOrderId: string;
      cumQty: Qty;
      cause: ExchangeFillCause;
      /** The protective stop (client algo id) whose trigger placed the order, when the user stream linked them. */
      clientAlgoId?: string;
      /**
       * The exchange's trade id (push `t`), when the push carried one: the trade's money is booked once per trade id,
       * whether this push or the trade list told it first (foreign-trades.ts). Absent from events written before.
       */
      tradeId?: string;
      /**
       * The trade happened before the exchange's view a position was adopted from (Session.adoptedAsOfMs): the
       * position holds it already, so only its money is booked. Absent: false.
       */
      inAdoptedPosition?: boolean;
      atMs: number;
    }
  /**
   * The money of a trade of an order the engine did not place, read from the trade list because its push never
   * came (foreign-trades.ts): the exchange's realized PnL (`realizedPnl`) and commission, booked once per trade id.
   * The position is not moved: without the push, the position is reconcile's to adopt (it reads the exchange's).
   */
  | {
      type: 'exchange_trade';
      userId: string;
      symbol: string;
      tradeId: string;
      exchangeOrderId: string;
      side: Side;
      qty: Qty;
      price: Price;
      realizedPnlUsd: Usd;
      feeUsd: Usd;
      atMs: number;
    }
  | { type: 'stop.planned'; userId: string; symbol: string; clientAlgoId: string; side: Side; triggerPrice: string; atMs: number }
  | { type: 'stop.status'; userId: string; symbol: string; clientAlgoId: string; status: 'active' | 'unknown' }
  | { type: 'stop.removed'; userId: string; symbol: string; clientAlgoId: string; reason: string }
  /** asOfMs: when the exchange's view it was adopted from was asked for (trades before it are in it); absent in older logs. */
  | { type: 'position.adopted'; userId: string; symbol: string; qty: Qty | LegacyNumber; entryPrice: Price | LegacyNumber; reason: string; asOfMs?: number };

/**
 * Funding ids remembered per session. Binance funds every 8 h, so this covers months; a repeat of an older event
 * is refused anyway when it predates the session (see fees.ts).
 */
export const maxFundingIdsKept = 256;

/** Exchange-side trades remembered per session for de-duplication (each is a rare event: a stop, a liquidation). */
export const maxExchangeFillKeysKept = 256;

/**
 * Trade ids whose commission is booked, remembered per session (a session trades a few hundred times a day; a
 * trade list read reaches back to the session start, so a trade older than the newest thousand read again is
 * older than any gap the backstop covers).
 */
export const maxBookedTradeIdsKept = 1024;

/** A booked trade's key: trade ids are unique per symbol. */
export function bookedTradeKey(symbol: string, tradeId: string): string {
  return `${symbol}:${tradeId}`;
}

/** The session's booked trade keys with this trade's added (bounded: maxBookedTradeIdsKept). */
function withBookedTrade(session: Session, symbol: string, tradeId: string): string[] {
  const key = bookedTradeKey(symbol, tradeId);
  const booked = session.bookedTradeIds ?? [];
  return hasBookedKey(booked, key) ? booked : withBookedKey(booked, key, maxBookedTradeIdsKept);
}

/** What de-duplicates an exchange-side trade: the exchange's order id and the order's filled quantity after it. */
export function exchangeFillKey(exchangeOrderId: string, cumQty: Qty): string {
  return `${exchangeOrderId}:${cumQty}`;
}

export class StateCorruption extends Error {
  constructor(message: string) {
    super(`state corruption: ${message}`);
    this.name = 'StateCorruption';
  }
}

/** A route's at-target counts so far plus one step's users (null: none counted yet). */
export function countAtTarget(counts: Record<string, number> | undefined, users: Record<string, readonly string[]> | undefined): Record<string, number> | null {
  if (users === undefined) return counts ?? null;
  const next: Record<string, number> = { ...counts };
  for (const symbol in users) next[symbol] = (next[symbol] ?? 0) + (users[symbol]?.length ?? 0);
  return next;
}

function requireSession(state: DurableState, userId: string): Session {
  const session = state.sessions.get(userId);
  if (!session) throw new StateCorruption(`event for unknown session ${userId}`);
  return session;
}

function requireOrder(state: DurableState, clientOrderId: string): Order {
  const order = state.orders.get(clientOrderId);
  if (!order) throw new StateCorruption(`event for unknown order ${clientOrderId}`);
  return order;
}

/** How one fold step may write: the Dicts it owns (written in place, see dict.ts) and the retention's drops. */
interface FoldStep {
  owned: OwnedDicts | null;
  droppedOrderIds: string[];
}

function withSession(state: DurableState, session: Session, step: FoldStep): DurableState {
  const next = copyState(state);
  next.sessions = state.sessions.set(session.userId, session, step.owned);
  return next;
}

function withOrder(state: DurableState, order: Order, step: FoldStep): DurableState {
  const next = copyState(state);
  next.orders = state.orders.set(order.clientOrderId, order, step.owned);
  return next;
}

/**
 * New position after a fill; realized PnL of the part that closed. Exact: quantities and PnL are sums and
 * products of decimals; only the average entry price of a position added to is a quotient, kept at
 * entryPriceScale decimals (half-even).
 */
export function applyFillToPosition(
  position: { qty: Qty; entryPrice: Price } | undefined,
  signedQty: Qty,
  price: Price,
): { qty: Qty; entryPrice: Price; realizedPnlUsd: Usd } {
  // Exact values from one parse of each amount, each result written once (the same decimals as the string operations
  // one after another: exact arithmetic has one answer), not a parse and a string per step (every fill, in the fold
  // and again in its ledger entry).
  const entry = position?.entryPrice ?? zero;
  const q = exactOf(position?.qty ?? zero);
  const s = exactOf(signedQty);
  const next = exactAdd(q, s);
  const nextSign = exactSign(next);
  if (exactSign(q) === 0 || exactSign(q) === exactSign(s)) {
    const cost = exactAdd(exactMul(exactAbs(q), exactOf(entry)), exactMul(exactAbs(s), exactOf(price)));
    const entryPrice = nextSign === 0 ? zero : (decimalOf(exactDiv(cost, exactAbs(next), entryPriceScale, 'half-even')) as Price);
    return { qty: decimalOf(next) as Qty, entryPrice, realizedPnlUsd: zero };
  }
  const closed = exactCompare(exactAbs(q), exactAbs(s)) <= 0 ? exactAbs(q) : exactAbs(s);
  const pnl = exactMul(closed, exactSub(exactOf(price), exactOf(entry)));
  const realizedPnlUsd = decimalOf(exactSign(q) > 0 ? pnl : exactNeg(pnl)) as Usd;
  if (nextSign === 0) return { qty: zero, entryPrice: zero, realizedPnlUsd };
  // Reduced but same side keeps the entry; flipped opens at the fill price.
  return { qty: decimalOf(next) as Qty, entryPrice: nextSign === exactSign(q) ? entry : price, realizedPnlUsd };
}

/** An amount as logged (decimal string, or a number in old logs) as an exact decimal; null if it is neither. */
function exactAmount<T extends Decimal>(value: T | LegacyNumber, parse: (v: string | number) => T): T | null {
  try {
    return parse(value);
  } catch {
    return null;
  }
}

function retainTerminal(state: DurableState, clientOrderId: string, maxKept: number, step: FoldStep): DurableState {
  const owned = step.owned?.has(state.terminalOrderIds) === true;
  const terminalOrderIds = owned ? state.terminalOrderIds : [...state.terminalOrderIds];
  if (!owned) step.owned?.add(terminalOrderIds);
  terminalOrderIds.push(clientOrderId);
  const dropped = terminalOrderIds.length > maxKept ? terminalOrderIds.splice(0, terminalOrderIds.length - maxKept) : [];
  step.droppedOrderIds.push(...dropped);
  return copyState(state, { terminalOrderIds, orders: state.orders.delete(dropped, step.owned) });
}

export interface FoldLimits {
  maxRememberedCommandIds: number;
  maxTerminalOrdersKept: number;
}

/**
 * fold(state, event). `owned` (one decision's or one replay's, see dict.ts) lets the Dicts this fold made be
 * written in place instead of copied per event; `index: false` leaves the state's derived index where it is
 * (a scratch fold that must not take it from the state it was made from). See state-index.ts.
 */
export function applyEvent(state: DurableState, event: WalEvent, limits: FoldLimits, options: { owned?: OwnedDicts; index?: boolean } = {}): DurableState {
  const step: FoldStep = { owned: options.owned ?? null, droppedOrderIds: [] };
  const next = foldOne(state, event, limits, step);
  if (options.index !== false) advanceIndex(state, next, event, step.droppedOrderIds);
  return next;
}

function foldOne(state: DurableState, event: WalEvent, limits: FoldLimits, step: FoldStep): DurableState {
  switch (event.type) {
    case 'engine.initialized':
      if (state.epoch !== null) throw new StateCorruption('engine initialized twice');
      return copyState(state, { epoch: event.epoch });

    case 'command.processed': {
      if (wasProcessed(state, event.commandId)) return state;
      const next = copyState(state);
      if (state.routes[event.commandId]) next.routes = dictWithout(state.routes, event.commandId);
      next.processedCommandIds = state.processedCommandIds.with(event.commandId, limits.maxRememberedCommandIds);
      return next;
    }

    case 'route.progress': {
      const before = state.routes[event.commandId];
      const routed = [...(before?.routed ?? []), ...event.routed];
      const atTarget = countAtTarget(before?.atTarget, event.atTarget);
      const progress: RouteProgress = atTarget ? { afterUserId: event.afterUserId, routed, atTarget } : { afterUserId: event.afterUserId, routed };
      return copyState(state, { routes: dictWith(state.routes, event.commandId, progress) });
    }

    case 'session.started': {
      const previous = state.sessions.get(event.userId);
      if (previous && previous.status !== 'closed') throw new StateCorruption(`session ${event.userId} started twice`);
      const session: Session = {
        userId: event.userId,
        mode: event.mode,
        status: 'active',
        capitalUsd: toUsd(event.capitalUsd),
        stopLossPct: event.stopLossPct,
        horizonDeadlineMs: event.horizonDeadlineMs,
        leverage: event.leverage ?? null,
        paused: false,
        killSwitch: { engaged: false, reason: null, atMs: null },
        startedAtMs: event.atMs,
        realizedPnlUsd: zero,
        feesUsd: zero,
        fundingUsd: zero,
        fundingIds: [],
        exchangeFillKeys: [],
        bookedTradeIds: [],
        // A closed session is flat by construction; carry nothing over.
        positions: fewKeysEmptyDict(),
        intents: fewKeysEmptyDict(),
        protectiveStops: fewKeysEmptyDict(),
        stopCommandId: null,
      };
      return withSession(state, session, step);
    }

    case 'session.stoploss_set':
      return withSession(state, copySession(requireSession(state, event.userId), { stopLossPct: event.pct }), step);

    case 'session.horizon_set':
      return withSession(state, copySession(requireSession(state, event.userId), { horizonDeadlineMs: event.deadlineMs }), step);

    case 'session.paused':
      return withSession(state, copySession(requireSession(state, event.userId), { paused: event.paused }), step);

    case 'session.stopping':
      return withSession(
        state,
        copySession(requireSession(state, event.userId), { status: 'stopping', stopCommandId: event.commandId, intents: fewKeysEmptyDict() }),
        step,
      );

    case 'session.closed': {
      const session = requireSession(state, event.userId);
      const open = Object.values(session.positions).filter((p) => !isZero(p.qty));
      if (open.length > 0) throw new StateCorruption(`session ${event.userId} closed with open positions`);
      return withSession(state, copySession(session, { status: 'closed', positions: fewKeysEmptyDict() }), step);
    }

    case 'kill_switch.engaged': {
      const session = requireSession(state, event.userId);
      return withSession(
        state,
        copySession(session, { intents: fewKeysEmptyDict(), killSwitch: { engaged: true, reason: event.reason, atMs: event.atMs } }),
        step,
      );
    }

    case 'halt.set':
      return copyState(state, { halted: event.halted });

    case 'live.approval_set': {
      const liveApprovedUserIds = event.approved
        ? dictWith(state.liveApprovedUserIds, event.userId, true as const)
        : dictWithout(state.liveApprovedUserIds, event.userId);
      return copyState(state, { liveApprovedUserIds });
    }

    case 'intent.set': {
      const session = requireSession(state, event.userId);
      return withSession(state, copySession(session, { intents: fewKeysDictWith(session.intents, event.symbol, event.targetQty) }), step);
    }

    case 'order.planned': {
      if (state.orders.has(event.order.clientOrderId)) throw new StateCorruption(`order id reused: ${event.order.clientOrderId}`);
      requireSession(state, event.order.userId);
      const next = withOrder(state, event.order, step);
      next.orderSeq = state.orderSeq + 1;
      return next;
    }

    case 'order.status': {
      const order = requireOrder(state, event.clientOrderId);
      const wasTerminal = terminalOrderStatuses.has(order.status as never);
      const updated = copyOrder(order, {
        status: event.status,
        exchangeOrderId: event.exchangeOrderId ?? order.exchangeOrderId,
        filledQty: event.filledQty,
        avgPrice: event.avgPrice,
        rejectReason: event.reason ?? order.rejectReason,
        updatedAtMs: event.atMs,
      });
      const next = withOrder(state, updated, step);
      const isTerminal = terminalOrderStatuses.has(event.status as never);
      return isTerminal && !wasTerminal ? retainTerminal(next, order.clientOrderId, limits.maxTerminalOrdersKept, step) : next;
    }

    case 'order.cancel_requested': {
      const order = requireOrder(state, event.clientOrderId);
      return withOrder(state, copyOrder(order, { cancelRequested: true }), step);
    }

    case 'fill': {
      const session = requireSession(state, event.userId);
      const qty = exactAmount(event.qty, toQty);
      const price = exactAmount(event.price, toPrice);
      if (qty === null || price === null || sign(qty) <= 0 || sign(price) <= 0) throw new StateCorruption(`bad fill ${event.qty}@${event.price}`);
      const signed = event.side === 'BUY' ? qty : neg(qty);
      const result = applyFillToPosition(session.positions[event.symbol], signed, price);
      const positions = fewKeysDictWith(session.positions, event.symbol, { qty: result.qty, entryPrice: result.entryPrice });
      return withSession(state, copySession(session, { positions, realizedPnlUsd: add(session.realizedPnlUsd, result.realizedPnlUsd) }), step);
    }

    case 'fee': {
      const session = requireSession(state, event.userId);
      if (event.tradeId !== undefined) {
        const key = bookedTradeKey(event.symbol, event.tradeId);
        if (hasBookedKey(session.bookedTradeIds, key)) return state;
        const bookedTradeIds = withBookedKey(session.bookedTradeIds, key, maxBookedTradeIdsKept);
        return withSession(state, copySession(session, { feesUsd: add(session.feesUsd, toUsd(event.feeUsd)), bookedTradeIds }), step);
      }
      const next = withSession(state, copySession(session, { feesUsd: add(session.feesUsd, toUsd(event.feeUsd)) }), step);
      const order = next.orders.get(event.clientOrderId);
      // The order may be pruned already (terminal retention); the fee still counts.
      return order ? withOrder(next, copyOrder(order, { feeBookedQty: event.cumQty }), step) : next;
    }

    case 'funding': {
      const session = requireSession(state, event.userId);
      const fundingIds = [...session.fundingIds, event.exchangeId].slice(-maxFundingIdsKept);
      const fundingBookedThroughMs = Math.max(session.fundingBookedThroughMs ?? event.exchangeTimeMs, event.exchangeTimeMs);
      return withSession(
        state,
        copySession(session, { fundingUsd: add(session.fundingUsd, toUsd(event.amountUsd)), fundingIds, fundingBookedThroughMs }),
        step,
      );
    }

    case 'exchange_fill': {
      const session = requireSession(state, event.userId);
      const key = exchangeFillKey(event.exchangeOrderId, event.cumQty);
      if (session.exchangeFillKeys.includes(key)) return state;
      if (sign(event.qty) <= 0 || sign(event.price) <= 0) throw new StateCorruption(`bad exchange fill ${event.qty}@${event.price}`);
      const signed = event.side === 'BUY' ? event.qty : neg(event.qty);
      // The exchange's realized PnL, not our own estimate: it is what the wallet actually got or lost.
      const result = applyFillToPosition(session.positions[event.symbol], signed, event.price);
      const positions =
        event.inAdoptedPosition === true
          ? session.positions
          : fewKeysDictWith(session.positions, event.symbol, { qty: result.qty, entryPrice: result.entryPrice });
      return withSession(
        state,
        copySession(session, {
          positions,
          realizedPnlUsd: add(session.realizedPnlUsd, event.realizedPnlUsd),
          feesUsd: add(session.feesUsd, event.feeUsd),
          exchangeFillKeys: [...session.exchangeFillKeys, key].slice(-maxExchangeFillKeysKept),
          ...(event.tradeId !== undefined ? { bookedTradeIds: withBookedTrade(session, event.symbol, event.tradeId) } : {}),
        }),
        step,
      );
    }

    case 'exchange_trade': {
      const session = requireSession(state, event.userId);
      if (hasBookedKey(session.bookedTradeIds, bookedTradeKey(event.symbol, event.tradeId))) return state;
      return withSession(
        state,
        copySession(session, {
          realizedPnlUsd: add(session.realizedPnlUsd, event.realizedPnlUsd),
          feesUsd: add(session.feesUsd, event.feeUsd),
          bookedTradeIds: withBookedTrade(session, event.symbol, event.tradeId),
        }),
        step,
      );
    }

    case 'stop.planned': {
      const session = requireSession(state, event.userId);
      const stop = {
        clientAlgoId: event.clientAlgoId,
        side: event.side,
        triggerPrice: event.triggerPrice,
        status: 'pending' as const,
        plannedAtMs: event.atMs,
      };
      const next = withSession(state, copySession(session, { protectiveStops: fewKeysDictWith(session.protectiveStops, event.symbol, stop) }), step);
      next.orderSeq = state.orderSeq + 1;
      return next;
    }

    case 'stop.status': {
      const session = requireSession(state, event.userId);
      const stop = session.protectiveStops[event.symbol];
      if (!stop || stop.clientAlgoId !== event.clientAlgoId) return state;
      return withSession(
        state,
        copySession(session, { protectiveStops: fewKeysDictWith(session.protectiveStops, event.symbol, { ...stop, status: event.status }) }),
        step,
      );
    }

    case 'stop.removed': {
      const session = requireSession(state, event.userId);
      const stop = session.protectiveStops[event.symbol];
      if (!stop || stop.clientAlgoId !== event.clientAlgoId) return state;
      return withSession(state, copySession(session, { protectiveStops: fewKeysDictWithout(session.protectiveStops, event.symbol) }), step);
    }

    case 'position.adopted': {
      const session = requireSession(state, event.userId);
      const positions = fewKeysDictWith(session.positions, event.symbol, { qty: toQty(event.qty), entryPrice: toPrice(event.entryPrice) });
      const adoptedAsOfMs =
        event.asOfMs === undefined ? session.adoptedAsOfMs : fewKeysDictWith(session.adoptedAsOfMs ?? fewKeysEmptyDict<number>(), event.symbol, event.asOfMs);
      return withSession(state, copySession(session, { positions, ...(adoptedAsOfMs !== undefined ? { adoptedAsOfMs } : {}) }), step);
    }
  }
}

/**
 * fold(state, events). One replay owns what it folds: each session and order map is copied once, not once per
 * event; a replay that folds in batches passes the same `owned` to every batch, so not once per batch either.
 */
export function foldEvents(state: DurableState, events: readonly WalEvent[], limits: FoldLimits, owned: OwnedDicts = ownedDicts()): DurableState {
  const options = { owned };
  let next = state;
  for (const event of events) next = applyEvent(next, event, limits, options);
  return next;
}
