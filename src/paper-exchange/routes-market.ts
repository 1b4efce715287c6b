// Market data from the tape (market-tape.ts): recent trades, aggregate trades, klines, 24 h and price tickers.
import { apiErrors } from './errors.js';
import type { MarketTape } from './market-tape.js';
import { minuteMs } from './market-tape.js';
import { aggTradeJson, klineRow, priceTickerJson, ticker24hJson, tradeJson } from './market-wire.js';
import { required } from './order-validation.js';
import type { SymbolMarket } from './price-process.js';
import type { Route } from './rest-routes.js';
import { inWindow, limitOf, optionalInt } from './routes-history.js';

const fixed = (w: number) => (): number => w;

/**
 * Kline intervals served (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Kline-Candlestick-Data
 * lists 1m … 1M); built from one-minute candles kept 7 days, so 3d, 1w and 1M are not served.
 */
export const klineIntervalsMs: ReadonlyMap<string, number> = new Map(
  Object.entries({ '1m': 1, '3m': 3, '5m': 5, '15m': 15, '30m': 30, '1h': 60, '2h': 120, '4h': 240, '6h': 360, '8h': 480, '12h': 720, '1d': 1440 }).map(
    ([k, minutes]) => [k, minutes * minuteMs],
  ),
);

/** trades: limit default 500, max 1000; aggTrades and klines likewise default 500, max 1000 / 1500 (pages cited per route). */
const defaultLimit = 500;
const maxTradesLimit = 1000;
const maxKlinesLimit = 1500;

/** Kline weight by limit: [1,100) 1, [100,500) 2, [500,1000] 5, > 1000 10 (the klines page). */
function klineWeight(limit: number): number {
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

export function marketDataRoutes(markets: ReadonlyMap<string, SymbolMarket>, tape: MarketTape): [string, Route][] {
  const marketOf = (params: ReadonlyMap<string, string>): SymbolMarket => {
    const market = markets.get(required(params, 'symbol').toUpperCase());
    if (!market) throw apiErrors.badSymbol();
    return market;
  };
  const lastTrade = (m: SymbolMarket) => tape.trades(m.rules.symbol).at(-1);
  const day = (m: SymbolMarket, nowMs: number): Record<string, unknown> => {
    const symbol = m.rules.symbol;
    const first = tape.trades(symbol).find((t) => t.timeMs >= nowMs - 24 * 60 * minuteMs);
    return ticker24hJson({ r: m.rules, day: tape.day(symbol, nowMs), last: lastTrade(m), first, market: m, nowMs });
  };
  const perSymbolOrAll =
    (one: (m: SymbolMarket, nowMs: number) => Record<string, unknown>) => (ctx: { params: ReadonlyMap<string, string>; nowMs: number }) => ({
      body: ctx.params.has('symbol') ? one(marketOf(ctx.params), ctx.nowMs) : [...markets.values()].map((m) => one(m, ctx.nowMs)),
    });
  const priceTicker: Route = {
    security: 'NONE',
    // 1 with a symbol, 2 without (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Symbol-Price-Ticker)
    weight: (p) => (p.has('symbol') ? 1 : 2),
    handle: perSymbolOrAll((m, nowMs) => priceTickerJson(m, lastTrade(m), nowMs)),
  };
  return [
    [
      'GET /fapi/v1/trades',
      {
        security: 'NONE',
        weight: fixed(5), // https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Recent-Trades-List
        handle: (ctx) => {
          const m = marketOf(ctx.params);
          const limit = limitOf(ctx.params, defaultLimit, maxTradesLimit);
          return {
            body: tape
              .trades(m.rules.symbol)
              .slice(-limit)
              .map((t) => tradeJson(t, m.rules)),
          };
        },
      },
    ],
    [
      'GET /fapi/v1/aggTrades',
      {
        security: 'NONE',
        weight: fixed(20), // https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Compressed-Aggregate-Trades-List
        handle: (ctx) => {
          const m = marketOf(ctx.params);
          const limit = limitOf(ctx.params, defaultLimit, maxTradesLimit);
          const fromId = optionalInt(ctx.params, 'fromId');
          const all = tape.trades(m.rules.symbol);
          const picked = fromId !== undefined ? all.filter((t) => t.id >= fromId).slice(0, limit) : inWindow(all, ctx.params, (t) => t.timeMs, limit);
          return { body: picked.map((t) => aggTradeJson(t, m.rules)) };
        },
      },
    ],
    [
      'GET /fapi/v1/klines',
      {
        security: 'NONE',
        weight: (p) => klineWeight(Number(p.get('limit') ?? defaultLimit)),
        handle: (ctx) => {
          const m = marketOf(ctx.params);
          const intervalMs = klineIntervalsMs.get(required(ctx.params, 'interval'));
          if (intervalMs === undefined) throw apiErrors.badParamValue('interval');
          const limit = limitOf(ctx.params, defaultLimit, maxKlinesLimit);
          const candles = tape.klines(m.rules.symbol, intervalMs, optionalInt(ctx.params, 'startTime') ?? 0, optionalInt(ctx.params, 'endTime') ?? ctx.nowMs);
          // With startTime the first `limit` from there, else the most recent `limit`.
          const picked = ctx.params.has('startTime') ? candles.slice(0, limit) : candles.slice(-limit);
          return { body: picked.map((c) => klineRow(c, intervalMs, m.rules)) };
        },
      },
    ],
    [
      'GET /fapi/v1/ticker/24hr',
      {
        security: 'NONE',
        // 1 with a symbol, 40 without (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/24hr-Ticker-Price-Change-Statistics)
        weight: (p) => (p.has('symbol') ? 1 : 40),
        handle: perSymbolOrAll(day),
      },
    ],
    ['GET /fapi/v1/ticker/price', priceTicker],
    ['GET /fapi/v2/ticker/price', priceTicker],
  ];
}
