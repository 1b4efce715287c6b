// The account trade list: every trade the matching engine made for an account, as GET /fapi/v1/userTrades
// serves it (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Account-Trade-List).
// Kept as plain data (strings and numbers) so the exchange's persisted state can serialize it as is.
import { apiErrors } from './errors.js';
import type { MatchingEngine } from './matching.js';
import { required } from './order-validation.js';
import type { SymbolMarket } from './price-process.js';
import type { Route } from './rest-routes.js';
import { pushKeepingNewest } from '../util/keep-newest.js';

/** One trade as the trade list answers it; amounts are decimal strings as the user stream prints them. */
export interface SimTrade {
  id: number;
  orderId: number;
  symbol: string;
  side: 'BUY' | 'SELL';
  price: string;
  qty: string;
  quoteQty: string;
  realizedPnl: string;
  /**
   * Positive = charged, like the user stream's `n`. (The page above shows a negative number in its example; the
   * live endpoint answers the commission charged as a positive amount, and the engine books its absolute value.)
   */
  commission: string;
  commissionAsset: 'USDT';
  time: number;
  buyer: boolean;
  maker: boolean;
  positionSide: 'BOTH';
}

/**
 * Trades kept per account, oldest dropped first (a block at a time: an account holds up to an eighth more, see
 * util/keep-newest.ts). Binance keeps 6 months; an engine reads its trades within minutes of a gap, so the newest
 * ten thousand are what any read in a test or a simulation reaches.
 */
export const maxTradesKeptPerAccount = 10_000;

/** Default and largest page of the trade list (the page cited above). */
const defaultTradesLimit = 500;
const maxTradesLimit = 1000;
/** "The time between startTime and endTime cannot be longer than 7 days"; without either, the last 7 days. */
const tradesWindowMs = 7 * 24 * 60 * 60 * 1000;

/** Appends a trade to the account's list, dropping the oldest past the bound. */
export function keepTrade(trades: SimTrade[], trade: SimTrade): void {
  pushKeepingNewest(trades, trade, maxTradesKeptPerAccount);
}

/**
 * The trades of one symbol, oldest first: from `fromId` on (not with a time range), or within
 * [startTime, endTime] (at most 7 days; the last 7 days when neither is given), of one order when `orderId`.
 */
export function selectTrades(trades: readonly SimTrade[], params: ReadonlyMap<string, string>, symbol: string, nowMs: number): SimTrade[] {
  const number = (name: string): number | undefined => {
    const text = params.get(name);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (text.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw apiErrors.badParamValue(name);
    return n;
  };
  const fromId = number('fromId');
  const orderId = number('orderId');
  let startTime = number('startTime');
  let endTime = number('endTime');
  const limit = number('limit') ?? defaultTradesLimit;
  if (limit < 1 || limit > maxTradesLimit) throw apiErrors.badParamValue('limit');
  if (fromId !== undefined && (startTime !== undefined || endTime !== undefined)) throw apiErrors.badParamValue('fromId');
  if (fromId === undefined) {
    if (startTime === undefined && endTime === undefined) startTime = nowMs - tradesWindowMs;
    if (startTime === undefined) startTime = (endTime ?? nowMs) - tradesWindowMs;
    if (endTime === undefined) endTime = startTime + tradesWindowMs;
    if (endTime - startTime > tradesWindowMs) throw apiErrors.badParamValue('endTime');
  }
  const out: SimTrade[] = [];
  for (const t of trades) {
    if (t.symbol !== symbol || (orderId !== undefined && t.orderId !== orderId)) continue;
    if (fromId !== undefined ? t.id < fromId : t.time < (startTime ?? 0) || t.time > (endTime ?? 0)) continue;
    out.push(t);
    if (out.length === limit) break;
  }
  return out;
}

/** GET /fapi/v1/userTrades, weight 5 (the page cited above). */
export function tradeHistoryRoutes(engine: MatchingEngine, markets: ReadonlyMap<string, SymbolMarket>): [string, Route][] {
  return [
    [
      'GET /fapi/v1/userTrades',
      {
        security: 'SIGNED',
        weight: () => 5,
        handle: (ctx) => {
          const symbol = required(ctx.params, 'symbol').toUpperCase();
          if (!markets.has(symbol)) throw apiErrors.badSymbol();
          const trades = engine.hasAccount(ctx.accountKey) ? engine.account(ctx.accountKey).trades : [];
          return { body: selectTrades(trades, ctx.params, symbol, ctx.nowMs) };
        },
      },
    ],
  ];
}
