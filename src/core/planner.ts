import type { Side } from '../model/orders.js';
import type { SymbolFilters } from '../model/market.js';
import type { Qty, Usd } from '../model/decimal.js';
import { abs, compareDecimal, isZero, lt, mul, neg, sign, snapToStep, sub, toDecimal, toNumber, toPrice, toQty, toUsd, zero } from '../model/decimal.js';
import type { Order } from './state.js';

// Signals → target position → order plan. Every price and quantity leaving here is a decimal string on
// the symbol's grid and inside its filters; a plan that cannot satisfy the filters is skipped with a reason.

/** What the planner decides; placeOrder() adds the id and lifecycle fields to make an Order. */
export type PlannedOrder = Pick<Order, 'symbol' | 'side' | 'type' | 'quantity' | 'price' | 'timeInForce' | 'reduceOnly' | 'purpose'>;

export type PlanResult = { kind: 'order'; order: PlannedOrder; targetQty: string } | { kind: 'skip'; reason: string; targetQty: string | null };

export interface Touch {
  bid: number;
  ask: number;
}

/**
 * Target quantity for a weight: |weight| × capital × leverage at mid, snapped toward zero. The ratio is a float
 * estimate (weights are floats); the step grid makes the result an exact Qty.
 */
export function targetQuantity(weight: number, capitalUsd: Usd, maxLeverage: number, touch: Touch, filters: SymbolFilters): Qty {
  const mid = (touch.bid + touch.ask) / 2;
  const qty = toQty(snapToStep((Math.abs(weight) * toNumber(capitalUsd) * maxLeverage) / mid, filters.stepSize, 'down'));
  return weight < 0 ? neg(qty) : qty;
}

function qtyWithinFilters(qty: Qty, filters: SymbolFilters, maxQty: string, step: string): string | null {
  let text = snapToStep(qty, step, 'down');
  if (compareDecimal(text, maxQty) > 0) text = snapToStep(toDecimal(maxQty), step, 'down');
  if (compareDecimal(text, filters.minQty) < 0 || compareDecimal(text, '0') === 0) return null;
  return text;
}

/**
 * Whether the symbol takes new positions: only in contract status TRADING. In any other status the exchange
 * refuses an opening order (-4140) and, on CLOSE, every order (-4141); exits are still tried.
 */
export function opensPositions(filters: SymbolFilters): boolean {
  return filters.status === 'TRADING';
}

/**
 * The PERCENT_PRICE bound on a `side` limit price, on the tick grid toward safety: a BUY at most mark × multiplierUp,
 * a SELL at least mark × multiplierDown (one bound per side, as USDⓈ-M applies it:
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/common-definition). The engine reads no
 * mark-price stream: the touch's mid stands for the mark. Null when the filter is disabled (a zero multiplier).
 */
export function percentPriceLimit(side: Side, touch: Touch, filters: SymbolFilters): string | null {
  const multiplier = Number(side === 'BUY' ? filters.multiplierUp : filters.multiplierDown);
  if (!(multiplier > 0)) return null;
  const mid = (touch.bid + touch.ask) / 2;
  return snapToStep(mid * multiplier, filters.tickSize, side === 'BUY' ? 'down' : 'up');
}

/** A limit price moved inside its side's PERCENT_PRICE bound (unchanged when already inside). */
export function clipToPercentPrice(side: Side, price: string, touch: Touch, filters: SymbolFilters): string {
  const bound = percentPriceLimit(side, touch, filters);
  if (bound === null) return price;
  const beyond = side === 'BUY' ? compareDecimal(price, bound) > 0 : compareDecimal(price, bound) < 0;
  return beyond ? bound : price;
}

/** The skip of a user whose position is its target already: a route's usual outcome, counted rather than listed. */
export const alreadyAtTarget = 'already at target';

/**
 * Post-only (GTX) order at the touch that moves `currentQty` toward `targetQty`. A flip (long → short) first
 * closes the position with a reduce-only order; the next signal opens the other side.
 */
export function planTowardTarget(symbol: string, currentQty: Qty, targetQty: Qty, touch: Touch, filters: SymbolFilters): PlanResult {
  const target = snapToStep(abs(targetQty), filters.stepSize, 'down');
  const targetText = sign(targetQty) < 0 && compareDecimal(target, '0') !== 0 ? `-${target}` : target;
  const flips = !isZero(currentQty) && !isZero(targetQty) && sign(currentQty) !== sign(targetQty);
  const goal: Qty = flips ? zero : targetQty;
  const delta = sub(goal, currentQty);
  if (isZero(delta)) return { kind: 'skip', reason: alreadyAtTarget, targetQty: targetText };
  const reducing = lt(abs(goal), abs(currentQty)) && (isZero(goal) || sign(goal) === sign(currentQty));
  const side: Side = sign(delta) > 0 ? 'BUY' : 'SELL';
  if (!reducing && !opensPositions(filters)) {
    return { kind: 'skip', reason: `${symbol} is ${filters.status} on the exchange: no new positions (exits are still sent)`, targetQty: targetText };
  }
  const touchPrice = side === 'BUY' ? snapToStep(touch.bid, filters.tickSize, 'down') : snapToStep(touch.ask, filters.tickSize, 'up');
  const price = clipToPercentPrice(side, touchPrice, touch, filters);
  const quantity = qtyWithinFilters(abs(delta), filters, filters.maxQty, filters.stepSize);
  if (quantity === null) return { kind: 'skip', reason: `change ${abs(delta)} below minimum quantity ${filters.minQty}`, targetQty: targetText };
  // Reduce-only orders are exempt from MIN_NOTIONAL on Binance; entries are not. Yet a reduction that leaves a position
  // is held to the same minimum as an entry: exempt, a price drift of one step shrank every holder by dust (0.01 SOL,
  // $1.50, at each 0.1 % rise under a constant weight) while the matching growth on a fall waited for the minimum, so
  // positions ratcheted below target and 10 000 sessions sent thousands of such orders a minute (bench sweep). Closing
  // the position (goal zero, a flip's first leg included) is never held back.
  const notional = mul(toQty(quantity), toPrice(price));
  if ((!reducing || !isZero(goal)) && lt(notional, toUsd(filters.minNotional))) {
    return { kind: 'skip', reason: `notional ${toNumber(notional).toFixed(2)} below minimum ${filters.minNotional}`, targetQty: targetText };
  }
  return {
    kind: 'order',
    targetQty: targetText,
    order: { symbol, side, type: 'LIMIT', quantity, price, timeInForce: 'GTX', reduceOnly: reducing, purpose: reducing ? 'reduce' : 'entry' },
  };
}

/**
 * After -5022 (post-only would take): a limit IOC bounded `boundBps` from mid, same side and size, and never beyond
 * the PERCENT_PRICE bound of its side.
 */
export function planFallback(rejected: PlannedOrder, touch: Touch, filters: SymbolFilters, boundBps: number): PlannedOrder {
  const mid = (touch.bid + touch.ask) / 2;
  const bound = boundBps / 10_000;
  const bpsPrice = rejected.side === 'BUY' ? snapToStep(mid * (1 + bound), filters.tickSize, 'down') : snapToStep(mid * (1 - bound), filters.tickSize, 'up');
  return { ...rejected, price: clipToPercentPrice(rejected.side, bpsPrice, touch, filters), timeInForce: 'IOC' };
}

/**
 * Market reduce-only order closing a position, sized on MARKET_LOT_SIZE: up to its step and at least its minimum so
 * no dust is left (reduce-only caps it), at most its maximum (the rest goes in the next). It carries no price: on
 * any quote, old or new, its bound is the exchange's PERCENT_PRICE against its own mark (-4131 beyond it).
 */
export function planFlatten(symbol: string, positionQty: Qty, filters: SymbolFilters): PlannedOrder | null {
  if (isZero(positionQty)) return null;
  let quantity = snapToStep(abs(positionQty), filters.marketStepSize, 'up');
  if (compareDecimal(quantity, filters.marketMinQty) < 0) quantity = snapToStep(toDecimal(filters.marketMinQty), filters.marketStepSize, 'up');
  if (compareDecimal(quantity, filters.marketMaxQty) > 0) quantity = snapToStep(toDecimal(filters.marketMaxQty), filters.marketStepSize, 'down');
  return {
    symbol,
    side: sign(positionQty) > 0 ? 'SELL' : 'BUY',
    type: 'MARKET',
    quantity,
    price: null,
    timeInForce: null,
    reduceOnly: true,
    purpose: 'flatten',
  };
}
