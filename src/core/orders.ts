import type { CancelOutcome, OrderSnapshot, PlaceOutcome, QueryOutcome } from '../model/orders.js';
import type { SymbolFilters } from '../model/market.js';
import { orderFoundMs, terminalOrderStatuses, unfilledFinalOrderFoundMs } from '../model/orders.js';
import type { DecisionContext } from './context.js';
import { StateCorruption } from './events.js';
import { requestTrades } from './trade-backstop.js';
import type { Lane } from '../model/lane.js';
import type { PlannedOrder } from './planner.js';
import { opensPositions, planFallback } from './planner.js';
import { capToExposureLimit } from './exposure.js';
import type { Decimal, Price, Qty } from '../model/decimal.js';
import {
  abs,
  add,
  compareDecimal,
  div,
  entryPriceScale,
  isDecimal,
  lt,
  mul,
  neg,
  sign,
  snapToStep,
  sub,
  toDecimal,
  toNumber,
  toPrice,
  toQty,
  toUsd,
  zero,
} from '../model/decimal.js';
import { rejectionBackoffMs, rejectionStreak, retryKey } from './rejections.js';
import type { Order } from './state.js';
import { fillNotice } from './fill-notice.js';
import { entryQuoteOf, filtersOf, venueOfUser } from './venues.js';

export const postOnlyWouldTakeCode = -5022;
export const reduceOnlyRejectedCode = -2022;
/**
 * The exchange refused the API key itself: -2015 "Invalid API-key, IP, or permissions for action", -2014
 * "API-key format invalid" (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code).
 * Nothing this user sends will pass, flattens included, until the keys are replaced: say so and how.
 */
export const apiKeyRefusedCodes: ReadonlySet<number> = new Set([-2015, -2014]);

export function isTerminal(order: Order): boolean {
  return terminalOrderStatuses.has(order.status as never);
}

export function laneFor(order: { purpose: Order['purpose'] }): Lane {
  return order.purpose === 'flatten' ? 'priority' : 'normal';
}

/** Client order id: epoch (fixed at first boot) + sequence. Deterministic, unique, <= 36 chars. */
export function nextClientOrderId(ctx: DecisionContext): string {
  if (ctx.durable.epoch === null) throw new StateCorruption('order planned before engine.initialized');
  return `qe${ctx.durable.epoch}-${ctx.durable.orderSeq + 1}`;
}

/** Writes the order to the WAL (status pending) and asks the shell to send it. WAL first, always. */
export function placeOrder(ctx: DecisionContext, userId: string, planned: PlannedOrder, fallbackOf: string | null = null): Order {
  const order: Order = {
    clientOrderId: nextClientOrderId(ctx),
    userId,
    // Field by field: `planned` may be a whole earlier Order (fallback), whose id must not leak in.
    symbol: planned.symbol,
    side: planned.side,
    type: planned.type,
    quantity: planned.quantity,
    price: planned.price,
    timeInForce: planned.timeInForce,
    reduceOnly: planned.reduceOnly,
    purpose: planned.purpose,
    fallbackOf,
    status: 'pending',
    exchangeOrderId: null,
    filledQty: '0',
    avgPrice: '0',
    createdAtMs: ctx.nowMs,
    updatedAtMs: ctx.nowMs,
    cancelRequested: false,
    rejectReason: null,
  };
  ctx.emit({ type: 'order.planned', order });
  ctx.effect({
    kind: 'place',
    userId,
    lane: laneFor(order),
    notAfterMs: order.createdAtMs + ctx.config.orderSendWindowMs,
    order: {
      clientOrderId: order.clientOrderId,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: order.quantity,
      ...(order.price !== null ? { price: order.price } : {}),
      ...(order.timeInForce !== null ? { timeInForce: order.timeInForce } : {}),
      reduceOnly: order.reduceOnly,
    },
  });
  return order;
}

export function requestQuery(ctx: DecisionContext, order: Order): void {
  ctx.noteQuery(order.clientOrderId);
  ctx.effect({ kind: 'query', userId: order.userId, lane: laneFor(order), symbol: order.symbol, clientOrderId: order.clientOrderId });
}

/**
 * Asks the exchange to cancel a resting order. Cancelling by client id is idempotent, so a cancel whose
 * answer never came (timeout, crash) is simply sent again once orderQueryIntervalMs has passed.
 */
export function requestCancel(ctx: DecisionContext, order: Order, lane: Lane): void {
  const resting = order.status === 'NEW' || order.status === 'PARTIALLY_FILLED';
  if (!resting) return;
  const lastSent = ctx.market.lastCancelAtMs.get(order.clientOrderId);
  if (lastSent !== undefined && ctx.nowMs - lastSent < ctx.config.orderQueryIntervalMs) return;
  if (!order.cancelRequested) ctx.emit({ type: 'order.cancel_requested', clientOrderId: order.clientOrderId });
  ctx.noteCancel(order.clientOrderId);
  ctx.effect({ kind: 'cancel', userId: order.userId, lane, symbol: order.symbol, clientOrderId: order.clientOrderId });
}

/**
 * Folds an exchange snapshot into the order: a fill event for any newly executed quantity (with the
 * marginal price derived from cumulative average prices), then the status. Stale snapshots (less executed
 * than we already know, or non-final after final) are ignored, so duplicate and reordered updates are safe.
 */
export function applySnapshot(ctx: DecisionContext, order: Order, snapshot: OrderSnapshot): void {
  if (!isDecimal(snapshot.executedQty)) return;
  const known = toQty(order.filledQty);
  const executed = toQty(snapshot.executedQty);
  if (lt(executed, known)) return;
  if (isTerminal(order) && !terminalOrderStatuses.has(snapshot.status)) return;
  const delta = sub(executed, known);
  const filled = sign(delta) > 0;
  if (filled) {
    const price = tradePrice(snapshot, delta) ?? marginalPrice(order, snapshot, known, executed, delta);
    if (price === null) throw new StateCorruption(`fill price ${snapshot.avgPrice} (was ${order.avgPrice}) for ${order.clientOrderId}`);
    ctx.emit({
      type: 'fill',
      clientOrderId: order.clientOrderId,
      userId: order.userId,
      symbol: order.symbol,
      side: order.side,
      qty: delta,
      price,
      atMs: ctx.nowMs,
    });
    // The session the order was placed in (an order from before it, learnt late, belongs to none that is open).
    const session = ctx.durable.sessions.get(order.userId);
    const sessionStartedAtMs = session !== undefined && order.createdAtMs >= session.startedAtMs ? session.startedAtMs : null;
    const { symbol, side, clientOrderId, purpose } = order;
    ctx.alert(
      order.userId,
      'fill',
      `${order.side} ${delta} ${order.symbol} @ ${Number(toNumber(price).toPrecision(12))} (${order.purpose}, ${order.clientOrderId})`,
      fillNotice({ sessionStartedAtMs, symbol, side, clientOrderId, purpose, qty: delta, price }, snapshot.trade),
    );
  }
  if (snapshot.status !== order.status || filled || order.exchangeOrderId !== snapshot.exchangeOrderId) {
    ctx.emit({
      type: 'order.status',
      clientOrderId: order.clientOrderId,
      status: snapshot.status,
      exchangeOrderId: snapshot.exchangeOrderId,
      filledQty: snapshot.executedQty,
      avgPrice: snapshot.avgPrice,
      reason: null,
      atMs: ctx.nowMs,
    });
  }
}

/**
 * The exact price of the newly executed part when the update reports exactly that one trade (`l` equal to the
 * new quantity, `L` its price): an order walking several levels sends one update per trade, and the average
 * price is printed to 5 decimals only, so the trade's own price is the better figure.
 */
function tradePrice(snapshot: OrderSnapshot, delta: Qty): Price | null {
  const { lastQty, lastPrice } = snapshot.trade ?? {};
  if (lastQty === undefined || lastPrice === undefined || !isDecimal(lastQty) || !isDecimal(lastPrice)) return null;
  if (compareDecimal(lastQty, delta) !== 0 || sign(toDecimal(lastPrice)) <= 0) return null;
  return toPrice(lastPrice);
}

/**
 * Price of the newly executed part, from cumulative averages: (executed × avg − known × knownAvg) / delta, at
 * entryPriceScale decimals. Null when an average is not a decimal or the result is not positive.
 */
function marginalPrice(order: Order, snapshot: OrderSnapshot, known: Qty, executed: Qty, delta: Qty): Price | null {
  if (!isDecimal(snapshot.avgPrice) || !isDecimal(order.avgPrice)) return null;
  const cost = sub<Decimal>(mul(executed, toDecimal(snapshot.avgPrice)), mul(known, toDecimal(order.avgPrice)));
  const price = div(cost, delta, entryPriceScale, 'half-even') as Price;
  return sign(price) > 0 ? price : null;
}

/** Alerts a rejection once, and once more when it recurs (with the back-off); repeats after that stay quiet. */
function alertRejection(ctx: DecisionContext, order: Order, code: number, message: string): void {
  const streak = rejectionStreak(ctx.durable, order.userId, order.symbol, order.purpose);
  const what = `${order.purpose} ${order.side} ${order.quantity} ${order.symbol}`;
  if (streak.count >= 2) {
    if (streak.count > 2) return;
    const backoffS = rejectionBackoffMs(streak, ctx.config) / 1000;
    ctx.alert(
      order.userId,
      'order_rejected',
      `${what} rejected again: ${code} ${message}; it keeps recurring, so the engine backs off (next attempt in ${backoffS} s, doubling up to ${ctx.config.maxRejectionBackoffMs / 1000} s) and stays quiet about repeats`,
    );
    return;
  }
  const nextStep = apiKeyRefusedCodes.has(code)
    ? "; the exchange refused this account's API key, so no order (flattens included) can pass until it is replaced: check the key is valid, futures trading is enabled and this server's IP is allowed, then /connect the new key"
    : '';
  ctx.alert(order.userId, 'order_rejected', `${what} rejected: ${code} ${message}${nextStep}`);
}

function markRejected(ctx: DecisionContext, order: Order, reason: string): void {
  ctx.emit({
    type: 'order.status',
    clientOrderId: order.clientOrderId,
    status: 'REJECTED',
    exchangeOrderId: order.exchangeOrderId,
    filledQty: order.filledQty,
    avgPrice: order.avgPrice,
    reason,
    atMs: ctx.nowMs,
  });
}

function markUnknown(ctx: DecisionContext, order: Order, reason: string): void {
  ctx.emit({
    type: 'order.status',
    clientOrderId: order.clientOrderId,
    status: 'unknown',
    exchangeOrderId: order.exchangeOrderId,
    filledQty: order.filledQty,
    avgPrice: order.avgPrice,
    reason,
    atMs: ctx.nowMs,
  });
}

export { markUnknown };

function mayEnter(ctx: DecisionContext, userId: string): boolean {
  const session = ctx.durable.sessions.get(userId);
  return !!session && session.status === 'active' && !session.paused && !session.killSwitch.engaged && !ctx.durable.halted;
}

/**
 * The market may have moved since the post-only order was planned: an entry fallback is re-sized so the
 * session's exposure limit still holds at today's prices, and dropped if what is left is below the filters.
 */
function sizeFallback(
  ctx: DecisionContext,
  rejected: Order,
  fallback: PlannedOrder,
  quote: { bid: number; ask: number },
  filters: SymbolFilters,
): PlannedOrder | null {
  if (rejected.purpose !== 'entry') return fallback;
  const current = ctx.durable.sessions.get(rejected.userId)?.positions[rejected.symbol]?.qty ?? zero;
  const signed = rejected.side === 'BUY' ? toQty(rejected.quantity) : neg(toQty(rejected.quantity));
  const capped = capToExposureLimit(ctx, rejected.userId, rejected.symbol, add(current, signed), quote, filters);
  const quantity = snapToStep(abs(sub(capped, current)), filters.stepSize, 'down');
  const notional = fallback.price === null ? zero : mul(toQty(quantity), toPrice(fallback.price));
  if (compareDecimal(quantity, filters.minQty) < 0 || lt(notional, toUsd(filters.minNotional))) return null;
  return { ...fallback, quantity: compareDecimal(quantity, fallback.quantity) < 0 ? quantity : fallback.quantity };
}

export function onPlaceResult(ctx: DecisionContext, clientOrderId: string, outcome: PlaceOutcome): void {
  const order = ctx.durable.orders.get(clientOrderId);
  if (!order) return; // pruned long ago: nothing to update
  switch (outcome.kind) {
    case 'accepted':
      applySnapshot(ctx, order, outcome.order);
      return;
    case 'unknown':
      if (order.status === 'pending') markUnknown(ctx, order, outcome.reason);
      requestQuery(ctx, ctx.durable.orders.get(clientOrderId) ?? order);
      return;
    case 'rejected': {
      if (order.status !== 'pending' && order.status !== 'unknown') return;
      markRejected(ctx, order, `${outcome.code} ${outcome.message}`);
      const retryAtMs = outcome.retryAtMs ?? (outcome.retryAfterMs !== undefined ? ctx.nowMs + outcome.retryAfterMs : undefined);
      if (retryAtMs !== undefined) ctx.noteRetryAt(retryKey(order.userId, order.symbol, order.purpose), order.clientOrderId, retryAtMs);
      const venue = venueOfUser(ctx.durable, order.userId);
      // The fallback takes liquidity at a price set from the quote: only on a young one (entryQuoteMaxAgeMs).
      const quote = entryQuoteOf(ctx.market.venues, venue, order.symbol, ctx.nowMs, ctx.config);
      const filters = filtersOf(ctx.market.venues, venue, order.symbol);
      if (outcome.code === postOnlyWouldTakeCode && order.timeInForce === 'GTX' && order.fallbackOf === null && quote && filters) {
        // The audited system's best idea, kept: post-only first, then a limit bounded 15 bps from mark.
        if (order.purpose === 'reduce' || (mayEnter(ctx, order.userId) && opensPositions(filters))) {
          const fallback = sizeFallback(ctx, order, planFallback(order, quote, filters, ctx.config.fallbackBoundBps), quote, filters);
          if (fallback) {
            placeOrder(ctx, order.userId, fallback, order.clientOrderId);
            return;
          }
        }
      }
      alertRejection(ctx, order, outcome.code, outcome.message);
      if (outcome.code === reduceOnlyRejectedCode) {
        // The exchange says there is nothing to reduce: our position view is wrong. Re-read it.
        ctx.effect({ kind: 'reconcile', userId: order.userId, requestedAtMs: ctx.nowMs });
      }
      return;
    }
  }
}

/** Whole days from an order's creation to now, as its alerts and reasons say them. */
const daysSince = (ctx: DecisionContext, order: Order): number => Math.floor((ctx.nowMs - order.createdAtMs) / (24 * 60 * 60 * 1000));

/** A fill the engine may have missed on an order the exchange forgot: the account's trades and position are re-read. */
function rereadTradesAndPosition(ctx: DecisionContext, order: Order): void {
  requestTrades(ctx, order.userId, order.symbol);
  ctx.effect({ kind: 'reconcile', userId: order.userId, requestedAtMs: ctx.nowMs });
}

export function onQueryResult(ctx: DecisionContext, clientOrderId: string, outcome: QueryOutcome): void {
  const order = ctx.durable.orders.get(clientOrderId);
  if (!order) return;
  if (outcome.kind === 'found') {
    applySnapshot(ctx, order, outcome.order);
    return;
  }
  if (outcome.kind === 'not_found' && (order.status === 'unknown' || order.status === 'pending')) {
    // Only after the request's recvWindow has surely passed can "not found" mean "never accepted".
    const ageMs = ctx.nowMs - order.createdAtMs;
    if (ageMs < ctx.config.orderNotFoundGraceMs) return;
    // Binance still finds an order that ended unfilled for 3 days (model/orders.ts): within them, it never arrived.
    if (ageMs <= unfilledFinalOrderFoundMs) markRejected(ctx, order, 'never reached the exchange');
    else notFoundLongAfter(ctx, order, ageMs);
    return;
  }
  if (outcome.kind === 'not_found' && (order.status === 'NEW' || order.status === 'PARTIALLY_FILLED')) {
    // An open order is always found: one the engine holds open that a query no longer finds past 3 days is final there.
    if (ctx.nowMs - order.createdAtMs > unfilledFinalOrderFoundMs) forgottenByExchange(ctx, order);
  }
}

/**
 * A sent order never confirmed (pending, unknown) that the exchange does not find, past the age at which it forgets
 * orders (an engine away for days): it may never have reached the exchange, or reached it and ended there unfilled and
 * been forgotten (3 days), or past 90 days ended in any way, a fill included. It is closed with no fill, as an order
 * that never arrived; past 90 days the account's trades are read (kept six months) and its position re-read, so a fill
 * it may have had is booked and the position adopted.
 */
function notFoundLongAfter(ctx: DecisionContext, order: Order, ageMs: number): void {
  const mayHaveFilled = ageMs > orderFoundMs;
  markRejected(
    ctx,
    order,
    `not found ${daysSince(ctx, order)} days after it was sent: it never reached the exchange, or ended there ${mayHaveFilled ? '(filled or not)' : 'unfilled'} and is no longer kept`,
  );
  if (mayHaveFilled) rereadTradesAndPosition(ctx, order);
}

/**
 * An order the engine held open that the exchange no longer finds (unfilledFinalOrderFoundMs): it ended while
 * the engine was not told (away for days), and the engine would otherwise hold it open for good, querying and cancelling
 * it in vain and keeping its symbol and the session's stop waiting on it. It is closed as cancelled at the fill the
 * engine knows. Within 90 days of its creation the exchange forgets only orders that never filled; past that, it may
 * have filled more than the engine heard: the account's trades are read (the trade list keeps six months) and its
 * position re-read, so any such fill is booked and the position adopted.
 */
function forgottenByExchange(ctx: DecisionContext, order: Order): void {
  const ageDays = daysSince(ctx, order);
  ctx.emit({
    type: 'order.status',
    clientOrderId: order.clientOrderId,
    status: 'CANCELED',
    exchangeOrderId: order.exchangeOrderId,
    filledQty: order.filledQty,
    avgPrice: order.avgPrice,
    reason: `no longer found on the exchange ${ageDays} days after it was placed: ended while the engine was not told`,
    atMs: ctx.nowMs,
  });
  ctx.alert(
    order.userId,
    'reconcile',
    `order ${order.clientOrderId} (${order.side} ${order.quantity} ${order.symbol}) is no longer found on the exchange ${ageDays} days after it was placed; closed as cancelled at the ${order.filledQty} filled the engine knows, the account's trades and position re-read`,
  );
  rereadTradesAndPosition(ctx, order);
}

export function onCancelResult(ctx: DecisionContext, clientOrderId: string, outcome: CancelOutcome): void {
  const order = ctx.durable.orders.get(clientOrderId);
  if (!order) return;
  if (outcome.kind === 'canceled') applySnapshot(ctx, order, outcome.order);
  else requestQuery(ctx, order); // already final (-2011) or unknown: learn the truth by id
}
