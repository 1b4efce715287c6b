// Conditional-order queries beyond place / cancel / open list (rest-routes.ts): one order, a symbol's history, and
// cancel-all. Payloads are AlgoBook.json, the shape of
// https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Algo-Order.
import type { AlgoBook, AlgoOrder } from './algo-orders.js';
import { apiErrors } from './errors.js';
import type { MatchingEngine } from './matching.js';
import { required } from './order-validation.js';
import { algoFoundByQuery } from './order-retention.js';
import type { Route } from './rest-routes.js';

const fixed = (w: number) => (): number => w;
/** allAlgoOrders `limit`: default 500, max 1000 (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-All-Algo-Orders). */
const defaultAlgoHistoryLimit = 500;
const maxAlgoHistoryLimit = 1000;

export function algoQueryRoutes(algo: AlgoBook, engine: MatchingEngine): [string, Route][] {
  const body = (o: AlgoOrder): Record<string, unknown> => {
    const rules = engine.rules(o.symbol);
    return algo.json(o, rules.priceScale, rules.qtyScale);
  };
  const symbolOf = (params: ReadonlyMap<string, string>): string => {
    const symbol = required(params, 'symbol').toUpperCase();
    engine.rules(symbol); // throws -1121 for an unknown symbol
    return symbol;
  };
  const optionalInt = (params: ReadonlyMap<string, string>, name: string): number | undefined => {
    const text = params.get(name);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) throw apiErrors.badParamValue(name);
    return Number(text);
  };
  return [
    [
      'GET /fapi/v1/algoOrder',
      {
        security: 'SIGNED',
        weight: fixed(1), // https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Algo-Order
        handle: (ctx) => {
          const algoId = optionalInt(ctx.params, 'algoId');
          const clientAlgoId = ctx.params.get('clientAlgoId');
          if (algoId === undefined && clientAlgoId === undefined) throw apiErrors.mandatory('algoId');
          const order = algo.find(ctx.accountKey, algoId !== undefined ? { algoId } : { clientAlgoId: clientAlgoId ?? '' });
          // Not found past its retention, as Binance (order-retention.ts).
          if (!order || !algoFoundByQuery(order, ctx.nowMs)) throw apiErrors.orderDoesNotExist();
          return { body: body(order) };
        },
      },
    ],
    [
      'GET /fapi/v1/allAlgoOrders',
      {
        security: 'SIGNED',
        weight: fixed(5), // https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-All-Algo-Orders
        handle: (ctx) => {
          const limit = optionalInt(ctx.params, 'limit') ?? defaultAlgoHistoryLimit;
          if (limit < 1 || limit > maxAlgoHistoryLimit) throw apiErrors.badParamValue('limit');
          const algoId = optionalInt(ctx.params, 'algoId');
          const startTime = optionalInt(ctx.params, 'startTime');
          const endTime = optionalInt(ctx.params, 'endTime');
          const orders = algo.history(ctx.accountKey, {
            symbol: symbolOf(ctx.params),
            nowMs: ctx.nowMs,
            limit,
            ...(algoId !== undefined ? { algoId } : {}),
            ...(startTime !== undefined ? { startTime } : {}),
            ...(endTime !== undefined ? { endTime } : {}),
          });
          return { body: orders.map(body) };
        },
      },
    ],
    [
      'DELETE /fapi/v1/algoOpenOrders',
      {
        security: 'SIGNED',
        weight: fixed(1), // https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Cancel-All-Algo-Open-Orders
        handle: (ctx) => {
          algo.cancelAll(ctx.accountKey, symbolOf(ctx.params), ctx.nowMs);
          return { body: { code: 200, msg: 'The operation of cancel all open order is done.' } };
        },
      },
    ],
  ];
}
