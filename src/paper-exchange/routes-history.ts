// Order history and funding: GET allOrders, openOrder, premiumIndex and fundingRate, as the USDⓈ-M pages document
// them (cited per route). userTrades lives with the fills (another module).
import { apiErrors } from './errors.js';
import type { FundingHistory, FundingSettings } from './funding.js';
import type { MatchingEngine, SimOrder } from './matching.js';
import { fundingRateText, premiumIndexJson } from './market-wire.js';
import { parseOrderRef, required } from './order-validation.js';
import type { SymbolMarket } from './price-process.js';
import type { Route } from './rest-routes.js';
import { orderJson } from './wire-format.js';
import { foundByQuery } from './order-retention.js';

const fixed = (w: number) => (): number => w;

/** What the funding routes read: the clock's settings and grid, and the funding times that happened. */
export interface FundingView {
  history: FundingHistory;
  settings(): FundingSettings;
  nextFundingTimeMs(nowMs: number): number;
}

/** allOrders: limit default 500, max 1000 (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/All-Orders). */
const defaultAllOrdersLimit = 500;
/** fundingRate: limit default 100, max 1000 (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Get-Funding-Rate-History). */
const defaultFundingLimit = 100;
const maxHistoryLimit = 1000;

export function optionalInt(params: ReadonlyMap<string, string>, name: string): number | undefined {
  const text = params.get(name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw apiErrors.badParamValue(name);
  return Number(text);
}

export function limitOf(params: ReadonlyMap<string, string>, fallback: number, max: number): number {
  const limit = optionalInt(params, 'limit') ?? fallback;
  if (limit < 1 || limit > max) throw apiErrors.badParamValue('limit');
  return limit;
}

/** The last `limit` of `items` within [startTime, endTime] (inclusive) by `timeOf`, oldest first. */
export function inWindow<T>(items: readonly T[], params: ReadonlyMap<string, string>, timeOf: (item: T) => number, limit: number): T[] {
  const start = optionalInt(params, 'startTime') ?? 0;
  const end = optionalInt(params, 'endTime') ?? Number.MAX_SAFE_INTEGER;
  const out: T[] = [];
  for (let i = items.length - 1; i >= 0 && out.length < limit; i--) {
    const item = items[i] as T;
    const t = timeOf(item);
    if (t >= start && t <= end) out.push(item);
  }
  return out.reverse();
}

export function historyRoutes(engine: MatchingEngine, markets: ReadonlyMap<string, SymbolMarket>, funding: FundingView): [string, Route][] {
  const marketOf = (params: ReadonlyMap<string, string>): SymbolMarket => {
    const market = markets.get(required(params, 'symbol').toUpperCase());
    if (!market) throw apiErrors.badSymbol();
    return market;
  };
  const body = (o: SimOrder): Record<string, unknown> => orderJson(o, engine.rules(o.symbol));
  return [
    [
      'GET /fapi/v1/allOrders',
      {
        security: 'SIGNED',
        weight: fixed(5), // the All-Orders page cited above
        handle: (ctx) => {
          const symbol = marketOf(ctx.params).rules.symbol;
          const limit = limitOf(ctx.params, defaultAllOrdersLimit, maxHistoryLimit);
          const fromId = optionalInt(ctx.params, 'orderId');
          const mine = engine.hasAccount(ctx.accountKey)
            ? [...engine.account(ctx.accountKey).orders.values()].filter((o) => o.symbol === symbol && foundByQuery(o, ctx.nowMs))
            : [];
          // "If orderId is set, it will get orders >= that orderId. Otherwise most recent orders are returned."
          const orders = fromId !== undefined ? mine.filter((o) => o.orderId >= fromId).slice(0, limit) : inWindow(mine, ctx.params, (o) => o.timeMs, limit);
          return { body: orders.map(body) };
        },
      },
    ],
    [
      'GET /fapi/v1/openOrder',
      {
        security: 'SIGNED',
        weight: fixed(1), // https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Current-Open-Order
        handle: (ctx) => {
          const order = engine.find(ctx.accountKey, marketOf(ctx.params).rules.symbol, parseOrderRef(ctx.params));
          // "If the queried order has been filled or cancelled, the error message 'Order does not exist' will be returned."
          if (!order || (order.status !== 'NEW' && order.status !== 'PARTIALLY_FILLED')) throw apiErrors.orderDoesNotExist();
          return { body: body(order) };
        },
      },
    ],
    [
      'GET /fapi/v1/premiumIndex',
      {
        security: 'NONE',
        // 1 with a symbol, 10 without (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Mark-Price)
        weight: (p) => (p.has('symbol') ? 1 : 10),
        handle: (ctx) => {
          const entry = (m: SymbolMarket): Record<string, unknown> =>
            premiumIndexJson(m, funding.settings().rateBps, funding.nextFundingTimeMs(ctx.nowMs), ctx.nowMs);
          return { body: ctx.params.has('symbol') ? entry(marketOf(ctx.params)) : [...markets.values()].map(entry) };
        },
      },
    ],
    [
      'GET /fapi/v1/fundingRate',
      {
        security: 'NONE',
        weight: fixed(1), // the page cited above: a shared 500 / 5 min / IP limit instead, not modelled
        handle: (ctx) => {
          const limit = limitOf(ctx.params, defaultFundingLimit, maxHistoryLimit);
          const symbols = ctx.params.has('symbol') ? [marketOf(ctx.params).rules.symbol] : funding.history.symbols();
          const records = symbols.flatMap((s) => funding.history.of(s)).sort((a, b) => a.timeMs - b.timeMs);
          return {
            body: inWindow(records, ctx.params, (r) => r.timeMs, limit).map((r) => ({
              symbol: r.symbol,
              fundingRate: fundingRateText(r.rateBps),
              fundingTime: r.timeMs,
              markPrice: r.mark,
            })),
          };
        },
      },
    ],
  ];
}
