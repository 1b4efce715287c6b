// The REST endpoint table: path, security type, request weight and handler for each supported call.
import { foundByQuery } from './order-retention.js';
import type { AlgoBook } from './algo-orders.js';
import { apiErrors } from './errors.js';
import type { ListenKeys } from './listen-keys.js';
import type { MatchingEngine, SimOrder } from './matching.js';
import { parseNewOrder, parseOrderRef, required } from './order-validation.js';
import type { SymbolMarket } from './price-process.js';
import type { SecurityType } from './signing.js';
import type { SymbolRules } from './symbols.js';
import type { MarginBook } from './margin.js';
import { accountConfigRoutes } from './routes-account.js';
import { algoQueryRoutes } from './routes-algo.js';
import { historyRoutes, type FundingView } from './routes-history.js';
import { marketDataRoutes } from './routes-market.js';
import type { MarketTape } from './market-tape.js';
import { tradeHistoryRoutes } from './trade-history.js';
import { apiKeyRoutes } from './routes-api-key.js';
import { accountJson, balanceEntry, bookTickerRest, depthJson, exchangeInfoJson, orderJson, positionRiskV2, positionRiskV3 } from './wire-format.js';
import { defaultIncomeLimit, selectIncome } from './income-history.js';

export interface RestDeps {
  engine: MatchingEngine;
  algo: AlgoBook;
  /** Leverage, margin, liquidation (margin.ts). */
  margin: MarginBook;
  markets: ReadonlyMap<string, SymbolMarket>;
  rulesList: readonly SymbolRules[];
  listenKeys: ListenKeys;
  /** The public tape and funding, for market data and history routes. */
  marketData: { tape: MarketTape; funding: FundingView };
  isPostOnlyForcedReject(): boolean;
  areMarketOrdersRejected(): boolean;
  onListenKeyRevoked(listenKey: string): void;
  /** Control API: funding settings now (and after a change). */
  setFunding(settings: { rateBps?: number; intervalMs?: number }): { rateBps: number; intervalMs: number };
}

export interface RouteContext {
  params: ReadonlyMap<string, string>;
  accountKey: string; // '' for public endpoints
  nowMs: number;
  receivedAt: number;
}

export interface RouteResult {
  body: unknown;
  /** Set by order placement so the server can stamp respondedAt and apply the timeout fault. */
  placedOrder?: SimOrder;
}

export interface Route {
  security: SecurityType;
  /** Binance request weight, counted into X-MBX-USED-WEIGHT-1M. */
  weight(params: ReadonlyMap<string, string>): number;
  /** Counts towards X-MBX-ORDER-COUNT-1M. */
  countsAsOrder?: boolean;
  handle(ctx: RouteContext): RouteResult;
}

const fixed = (w: number) => (): number => w;

export function buildRoutes(deps: RestDeps): Map<string, Route> {
  const { engine, markets } = deps;

  const marketOf = (params: ReadonlyMap<string, string>): SymbolMarket => {
    const market = markets.get(required(params, 'symbol').toUpperCase());
    if (!market) throw apiErrors.badSymbol();
    return market;
  };
  const optionalMarket = (params: ReadonlyMap<string, string>): SymbolMarket | undefined => (params.has('symbol') ? marketOf(params) : undefined);
  const rulesOf = (symbol: string): SymbolRules => engine.rules(symbol);
  const orderBody = (order: SimOrder): Record<string, unknown> => orderJson(order, rulesOf(order.symbol));

  const positionRisk =
    (version: 2 | 3) =>
    (ctx: RouteContext): RouteResult => {
      const only = optionalMarket(ctx.params);
      const out: Record<string, unknown>[] = [];
      for (const [symbol, market] of markets) {
        if (only && only !== market) continue;
        const pos = engine.position(ctx.accountKey, symbol);
        // v3 lists only symbols with a position (or open orders); v2 lists every symbol.
        if (version === 3 && pos.qtyUnits === 0n && engine.openOrders(ctx.accountKey, symbol).length === 0) continue;
        const m = deps.margin.positionMargin(ctx.accountKey, symbol);
        out.push(version === 2 ? positionRiskV2(symbol, pos, market, m) : positionRiskV3(symbol, pos, market, m));
      }
      return { body: out };
    };
  const balance = (ctx: RouteContext): RouteResult => {
    engine.account(ctx.accountKey);
    return { body: [balanceEntry(deps.margin.totals(ctx.accountKey), ctx.nowMs)] };
  };
  const account =
    (version: 2 | 3) =>
    (ctx: RouteContext): RouteResult => ({
      body: accountJson(engine.account(ctx.accountKey), markets, deps.margin, version, ctx.nowMs),
    });

  const routes = new Map<string, Route>();
  const add = (method: string, path: string, route: Route): void => {
    routes.set(`${method} ${path}`, route);
  };

  // 1 each: https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Test-Connectivity, .../Check-Server-Time, .../Exchange-Information.
  add('GET', '/fapi/v1/ping', { security: 'NONE', weight: fixed(1), handle: () => ({ body: {} }) });
  add('GET', '/fapi/v1/time', { security: 'NONE', weight: fixed(1), handle: (ctx) => ({ body: { serverTime: ctx.nowMs } }) });
  add('GET', '/fapi/v1/exchangeInfo', {
    security: 'NONE',
    weight: fixed(1),
    handle: (ctx) => ({ body: exchangeInfoJson(deps.rulesList, ctx.nowMs) }),
  });
  add('GET', '/fapi/v1/ticker/bookTicker', {
    security: 'NONE',
    // 2 for a single symbol; 5 when the symbol parameter is omitted (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Symbol-Order-Book-Ticker)
    weight: (p) => (p.has('symbol') ? 2 : 5),
    handle: (ctx) => {
      const only = optionalMarket(ctx.params);
      return { body: only ? bookTickerRest(only) : [...markets.values()].map(bookTickerRest) };
    },
  });
  // limit 5, 10, 20, 50: 2; 100: 5; 500: 10; 1000: 20 (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Order-Book)
  add('GET', '/fapi/v1/depth', {
    security: 'NONE',
    weight: (p) => depthWeight(Number(p.get('limit') ?? '500')),
    handle: (ctx) => {
      const limitText = ctx.params.get('limit') ?? '500';
      const limit = Number(limitText);
      if (!validDepthLimits.includes(limit)) throw apiErrors.badParamValue('limit');
      return { body: depthJson(marketOf(ctx.params), limit, ctx.nowMs) };
    },
  });

  add('POST', '/fapi/v1/order', {
    security: 'SIGNED',
    // 0 on the IP limit; 1 on the 10 s and 1 min order-count limits (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Order)
    weight: fixed(0),
    countsAsOrder: true,
    handle: (ctx) => {
      const market = marketOf(ctx.params);
      const { input, respType } = parseNewOrder(ctx.params, market, ctx.nowMs);
      if (input.type === 'MARKET' && deps.areMarketOrdersRejected()) throw apiErrors.marketOrderRejected();
      deps.margin.checkOrder(ctx.accountKey, input, market);
      const { accepted, order } = engine.place(ctx.accountKey, input, {
        forcePostOnlyReject: deps.isPostOnlyForcedReject(),
        receivedAt: ctx.receivedAt,
        nowMs: ctx.nowMs,
      });
      return { body: orderBody(respType === 'ACK' ? accepted : order), placedOrder: order };
    },
  });
  const algoBody = (o: Parameters<AlgoBook['json']>[0]): Record<string, unknown> => {
    const rules = rulesOf(o.symbol);
    return deps.algo.json(o, rules.priceScale, rules.qtyScale);
  };
  add('POST', '/fapi/v1/algoOrder', {
    security: 'SIGNED',
    // 0 on the IP limit; 1 on the order-count limits (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Algo-Order)
    weight: fixed(0),
    countsAsOrder: true,
    handle: (ctx) => ({ body: algoBody(deps.algo.place(ctx.accountKey, ctx.params, marketOf(ctx.params), ctx.nowMs)) }),
  });
  add('DELETE', '/fapi/v1/algoOrder', {
    security: 'SIGNED',
    weight: fixed(1), // https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Cancel-Algo-Order
    handle: (ctx) => {
      const algoId = ctx.params.get('algoId');
      const clientAlgoId = ctx.params.get('clientAlgoId');
      if (algoId === undefined && clientAlgoId === undefined) throw apiErrors.mandatory('algoId');
      const order = deps.algo.cancel(ctx.accountKey, algoId !== undefined ? { algoId: Number(algoId) } : { clientAlgoId: clientAlgoId ?? '' }, ctx.nowMs);
      return { body: { algoId: order.algoId, clientAlgoId: order.clientAlgoId, code: '200', msg: 'success' } };
    },
  });
  add('GET', '/fapi/v1/openAlgoOrders', {
    security: 'SIGNED',
    // 1 for a single symbol; 40 when the symbol parameter is omitted (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Current-All-Algo-Open-Orders)
    weight: (p) => (p.has('symbol') ? 1 : 40),
    handle: (ctx) => ({ body: deps.algo.open(ctx.accountKey, ctx.params.get('symbol')?.toUpperCase()).map(algoBody) }),
  });
  add('GET', '/fapi/v1/order', {
    security: 'SIGNED',
    weight: fixed(1), // https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Order
    handle: (ctx) => {
      const market = marketOf(ctx.params);
      const order = engine.find(ctx.accountKey, market.rules.symbol, parseOrderRef(ctx.params));
      if (!order || !foundByQuery(order, ctx.nowMs)) throw apiErrors.orderDoesNotExist();
      return { body: orderBody(order) };
    },
  });
  add('DELETE', '/fapi/v1/order', {
    security: 'SIGNED',
    weight: fixed(1), // https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Cancel-Order
    handle: (ctx) => {
      const market = marketOf(ctx.params);
      return { body: orderBody(engine.cancel(ctx.accountKey, market.rules.symbol, parseOrderRef(ctx.params), ctx.nowMs)) };
    },
  });
  add('GET', '/fapi/v1/openOrders', {
    security: 'SIGNED',
    // 1 for a single symbol; 40 when the symbol parameter is omitted (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Current-All-Open-Orders)
    weight: (p) => (p.has('symbol') ? 1 : 40),
    handle: (ctx) => {
      const only = optionalMarket(ctx.params);
      return { body: engine.openOrders(ctx.accountKey, only?.rules.symbol).map(orderBody) };
    },
  });
  add('DELETE', '/fapi/v1/allOpenOrders', {
    security: 'SIGNED',
    weight: fixed(1), // https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Cancel-All-Open-Orders
    handle: (ctx) => {
      engine.cancelAll(ctx.accountKey, marketOf(ctx.params).rules.symbol, ctx.nowMs);
      return { body: { code: 200, msg: 'The operation of cancel all open order is done.' } };
    },
  });
  // 5 each, with or without a symbol: https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Position-Information-V3 (and -V2),
  // https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Futures-Account-Balance-V3, https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Account-Information-V3.
  for (const v of [2, 3] as const) {
    add('GET', `/fapi/v${v}/positionRisk`, { security: 'SIGNED', weight: fixed(5), handle: positionRisk(v) });
    add('GET', `/fapi/v${v}/balance`, { security: 'SIGNED', weight: fixed(5), handle: balance });
    add('GET', `/fapi/v${v}/account`, { security: 'SIGNED', weight: fixed(5), handle: account(v) });
  }

  // Income history, 100 by default (max 1000), filtered by symbol, incomeType and an inclusive time range: from
  // startTime forward when it is sent, else the newest (selectIncome;
  // https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-Income-History).
  add('GET', '/fapi/v1/income', {
    security: 'SIGNED',
    weight: fixed(30), // the page cited above
    handle: (ctx) => {
      const only = optionalMarket(ctx.params);
      const type = ctx.params.get('incomeType');
      const records = engine.hasAccount(ctx.accountKey) ? engine.account(ctx.accountKey).income : [];
      const body = selectIncome(records, {
        ...(only !== undefined ? { symbol: only.rules.symbol } : {}),
        ...(type !== undefined ? { incomeType: type } : {}),
        ...(ctx.params.get('startTime') !== undefined ? { startTimeMs: Number(ctx.params.get('startTime')) } : {}),
        ...(ctx.params.get('endTime') !== undefined ? { endTimeMs: Number(ctx.params.get('endTime')) } : {}),
        nowMs: ctx.nowMs,
        limit: Number(ctx.params.get('limit') ?? String(defaultIncomeLimit)),
      });
      return { body };
    },
  });

  // Simulator control (not a Binance endpoint): POST /sim/v1/funding?rateBps=&intervalMs= sets either; answers both.
  add('POST', '/sim/v1/funding', {
    security: 'NONE',
    weight: fixed(1),
    handle: (ctx) => {
      const number = (name: string): number | undefined => {
        const text = ctx.params.get(name);
        if (text === undefined) return undefined;
        const n = Number(text);
        if (text.trim() === '' || !Number.isFinite(n)) throw apiErrors.badParamValue(name);
        return n;
      };
      const rateBps = number('rateBps');
      const intervalMs = number('intervalMs');
      try {
        return { body: deps.setFunding({ ...(rateBps !== undefined ? { rateBps } : {}), ...(intervalMs !== undefined ? { intervalMs } : {}) }) };
      } catch {
        throw apiErrors.badParamValue('intervalMs');
      }
    },
  });

  // 1 each: https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Start-User-Data-Stream (Keepalive, Close likewise).
  add('POST', '/fapi/v1/listenKey', {
    security: 'USER_STREAM',
    weight: fixed(1),
    handle: (ctx) => ({ body: { listenKey: deps.listenKeys.obtain(ctx.accountKey, ctx.nowMs) } }),
  });
  add('PUT', '/fapi/v1/listenKey', {
    security: 'USER_STREAM',
    weight: fixed(1),
    handle: (ctx) => {
      const listenKey = deps.listenKeys.keepAlive(ctx.accountKey, ctx.nowMs);
      if (!listenKey) throw apiErrors.listenKeyMissing();
      return { body: { listenKey } };
    },
  });
  add('DELETE', '/fapi/v1/listenKey', {
    security: 'USER_STREAM',
    weight: fixed(1),
    handle: (ctx) => {
      const revoked = deps.listenKeys.revoke(ctx.accountKey);
      if (revoked) deps.onListenKeyRevoked(revoked);
      return { body: {} };
    },
  });
  for (const [key, route] of accountConfigRoutes(deps.margin, markets)) routes.set(key, route);
  for (const [key, route] of algoQueryRoutes(deps.algo, engine)) routes.set(key, route);
  for (const [key, route] of historyRoutes(engine, markets, deps.marketData.funding)) routes.set(key, route);
  for (const [key, route] of marketDataRoutes(markets, deps.marketData.tape)) routes.set(key, route);
  for (const [key, route] of tradeHistoryRoutes(engine, markets)) routes.set(key, route);
  for (const [key, route] of apiKeyRoutes()) routes.set(key, route);
  return routes;
}

const validDepthLimits = [5, 10, 20, 50, 100, 500, 1000];

function depthWeight(limit: number): number {
  if (limit <= 50) return 2;
  if (limit <= 100) return 5;
  if (limit <= 500) return 10;
  return 20;
}
