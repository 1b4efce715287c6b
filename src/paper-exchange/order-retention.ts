import type { SimOrder } from './matching.js';
import type { AlgoOrder } from './algo-orders.js';
import { orderFoundMs, unfilledFinalOrderFoundMs } from '../model/orders.js';

// Which orders Binance still answers for (Query Order, All Orders): "these orders will not be found: order status is
// CANCELED or EXPIRED and order has NO filled trade and created time + 3 days < current time; order create time + 90
// days < current time" (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Order,
// and the same note on .../All-Orders). The simulator answered every order forever, so an engine never met an order it
// held open that the exchange no longer knew (an engine away for days while the exchange cancelled it).

/** The rule itself, for an order `ageMs` after its creation, ended CANCELED or EXPIRED with no fill or not. */
function foundAtAge(ageMs: number, finalUnfilled: boolean): boolean {
  return ageMs <= orderFoundMs && !(finalUnfilled && ageMs > unfilledFinalOrderFoundMs);
}

/** Whether a query (or the order list) still finds `order` at `nowMs`. */
export function foundByQuery(order: Pick<SimOrder, 'status' | 'executedQtyUnits' | 'timeMs'>, nowMs: number): boolean {
  return foundAtAge(nowMs - order.timeMs, (order.status === 'CANCELED' || order.status === 'EXPIRED') && order.executedQtyUnits === 0n);
}

/**
 * Whether a query (GET /fapi/v1/algoOrder, allAlgoOrders) still finds a conditional order at `nowMs`: the same rule,
 * on the Query Algo Order page (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Algo-Order,
 * and Query-All-Algo-Orders). A conditional order CANCELED or EXPIRED left NEW that way, its order never placed: it has
 * no trade.
 */
export function algoFoundByQuery(order: Pick<AlgoOrder, 'status' | 'createTime'>, nowMs: number): boolean {
  return foundAtAge(nowMs - order.createTime, order.status === 'CANCELED' || order.status === 'EXPIRED');
}

/** A conditional order that may still change: resting (NEW), or its triggered order still working (TRIGGERED). */
export function algoIsOpen(order: Pick<AlgoOrder, 'status'>): boolean {
  return order.status === 'NEW' || order.status === 'TRIGGERED';
}
