// An order as the simulator's test handle lists it (SimOrderRecord): the same record for the exchange served over
// HTTP (server.ts orders()) and for the matching engine in process (the backtest's venue), so a test compares the
// orders of both paths field by field (test/backtest/parity.test.ts).
import { formatUnits } from '../model/decimal.js';
import type { SimOrder } from './matching.js';
import type { SymbolRules } from './symbols.js';
import type { SimOrderRecord } from './types.js';
import { avgPriceOf, priceOf } from './wire-format.js';

export function orderRecord(order: SimOrder, rules: SymbolRules): SimOrderRecord {
  const record: SimOrderRecord = {
    accountKey: order.accountKey,
    clientOrderId: order.clientOrderId,
    orderId: order.orderId,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    origQty: formatUnits(order.origQtyUnits, rules.qtyScale),
    reduceOnly: order.reduceOnly,
    status: order.status,
    executedQty: formatUnits(order.executedQtyUnits, rules.qtyScale),
    avgPrice: avgPriceOf(order, rules),
    receivedAt: order.receivedAt,
  };
  if (order.type === 'LIMIT') {
    record.timeInForce = order.timeInForce;
    record.price = priceOf(order, rules);
  }
  if (order.respondedAt !== undefined) record.respondedAt = order.respondedAt;
  return record;
}
