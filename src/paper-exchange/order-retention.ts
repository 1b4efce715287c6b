import type { SimOrder } from './matching.js';

// Which orders Binance still answers for (Query Order, All Orders): "these orders will not be found: order status is
// CANCELED or EXPIRED and order has NO filled trade and created time + 3 days < current time; order create time + 90
// days < current time" (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Order,
// and the same note on .../All-Orders). The simulator answered every order forever, so an engine never met an order it
// held open that the exchange no longer knew (an engine away for days while the exchange cancelled it).

const dayMs = 24 * 60 * 60 * 1000;
/** A cancelled or expired order that never filled is found for this long after its creation (ms). */
export const unfilledFinalOrderFoundMs = 3 * dayMs;
/** Any order is found for this long after its creation (ms). */
export const orderFoundMs = 90 * dayMs;

/** Whether a query (or the order list) still finds `order` at `nowMs`. */
export function foundByQuery(order: Pick<SimOrder, 'status' | 'executedQtyUnits' | 'timeMs'>, nowMs: number): boolean {
  const ageMs = nowMs - order.timeMs;
  if (ageMs > orderFoundMs) return false;
  const finalUnfilled = (order.status === 'CANCELED' || order.status === 'EXPIRED') && order.executedQtyUnits === 0n;
  return !(finalUnfilled && ageMs > unfilledFinalOrderFoundMs);
}
