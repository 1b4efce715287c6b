import type { Side } from '../model/orders.js';
import type { SymbolFilters } from '../model/market.js';
import { compareDecimal, snapToStep } from './decimal.js';
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

/** Target quantity for a weight: |weight| × capital × leverage at mid, snapped toward zero. */
export function targetQuantity(weight: number, capitalUsd: number, maxLeverage: number, touch: Touch, filters: SymbolFilters): number {
  const mid = (touch.bid + touch.ask) / 2;
  const qty = Number(snapToStep((Math.abs(weight) * capitalUsd * maxLeverage) / mid, filters.stepSize, 'down'));
  return weight < 0 ? -qty : qty;
}

function qtyWithinFilters(qty: number, filters: SymbolFilters, maxQty: string, step: string): string | null {
  let text = snapToStep(qty, step, 'down');
  if (compareDecimal(text, maxQty) > 0) text = snapToStep(Number(maxQty), step, 'down');
  if (compareDecimal(text, filters.minQty) < 0 || Number(text) === 0) return null;
  return text;
}

/**
 * Post-only (GTX) order at the touch that moves `currentQty` toward `targetQty`. A flip (long → short) first
 * closes the position with a reduce-only order; the next signal opens the other side.
 */
export function planTowardTarget(symbol: string, currentQty: number, targetQty: number, touch: Touch, filters: SymbolFilters): PlanResult {
  const target = snapToStep(Math.abs(targetQty), filters.stepSize, 'down');
  const targetText = targetQty < 0 && Number(target) !== 0 ? `-${target}` : target;
  const flips = currentQty !== 0 && targetQty !== 0 && Math.sign(currentQty) !== Math.sign(targetQty);
  const goal = flips ? 0 : targetQty;
  const delta = goal - currentQty;
  if (Math.abs(delta) < 1e-12) return { kind: 'skip', reason: 'already at target', targetQty: targetText };
  const reducing = Math.abs(goal) < Math.abs(currentQty) && (goal === 0 || Math.sign(goal) === Math.sign(currentQty));
  const side: Side = delta > 0 ? 'BUY' : 'SELL';
  const price = side === 'BUY' ? snapToStep(touch.bid, filters.tickSize, 'down') : snapToStep(touch.ask, filters.tickSize, 'up');
  const quantity = qtyWithinFilters(Math.abs(delta), filters, filters.maxQty, filters.stepSize);
  if (quantity === null) return { kind: 'skip', reason: `change ${Math.abs(delta)} below minimum quantity ${filters.minQty}`, targetQty: targetText };
  // Reduce-only orders are exempt from MIN_NOTIONAL on Binance; entries are not.
  const notional = Number(quantity) * Number(price);
  if (!reducing && notional < Number(filters.minNotional)) {
    return { kind: 'skip', reason: `notional ${notional.toFixed(2)} below minimum ${filters.minNotional}`, targetQty: targetText };
  }
  return {
    kind: 'order',
    targetQty: targetText,
    order: { symbol, side, type: 'LIMIT', quantity, price, timeInForce: 'GTX', reduceOnly: reducing, purpose: reducing ? 'reduce' : 'entry' },
  };
}

/** After -5022 (post-only would take): a limit IOC bounded `boundBps` from mid, same side and size. */
export function planFallback(rejected: PlannedOrder, touch: Touch, filters: SymbolFilters, boundBps: number): PlannedOrder {
  const mid = (touch.bid + touch.ask) / 2;
  const bound = boundBps / 10_000;
  const price = rejected.side === 'BUY' ? snapToStep(mid * (1 + bound), filters.tickSize, 'down') : snapToStep(mid * (1 - bound), filters.tickSize, 'up');
  return { ...rejected, price, timeInForce: 'IOC' };
}

/** Market reduce-only order closing a position; sized up so no dust is left (reduce-only caps it). */
export function planFlatten(symbol: string, positionQty: number, filters: SymbolFilters): PlannedOrder | null {
  if (positionQty === 0) return null;
  let quantity = snapToStep(Math.abs(positionQty), filters.marketStepSize, 'up');
  if (compareDecimal(quantity, filters.marketMaxQty) > 0) quantity = snapToStep(Number(filters.marketMaxQty), filters.marketStepSize, 'down');
  return {
    symbol,
    side: positionQty > 0 ? 'SELL' : 'BUY',
    type: 'MARKET',
    quantity,
    price: null,
    timeInForce: null,
    reduceOnly: true,
    purpose: 'flatten',
  };
}
