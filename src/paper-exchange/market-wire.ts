// Wire shapes of market data beyond the book (REST and streams), as the USDⓈ-M pages print them; cited per function.
import { div, formatUnits, mustParseDecimal, toDecimal } from '../model/decimal.js';
import type { Candle, PublicTrade } from './market-tape.js';
import { quoteText } from './market-tape.js';
import type { SymbolMarket } from './price-process.js';
import type { SymbolRules } from './symbols.js';

/** The mark price: the mid of the touch, exact at one more decimal than the tick (funding.ts funds at it too). */
export function markText(market: SymbolMarket): string {
  return formatUnits(market.markTwice * 5n, market.rules.priceScale + 1);
}

/** A decimal printed with exactly `scale` decimals, as Binance prints rates and percentages ("0.00010000"). */
function atScale(text: string, scale: number): string {
  return formatUnits(mustParseDecimal(text, scale), scale);
}

/** A funding rate in bps as Binance prints rates: a fraction with 8 decimals ("0.00010000"). */
export function fundingRateText(rateBps: number): string {
  return atScale(div(toDecimal(rateBps), toDecimal(10_000), 8, 'half-even'), 8);
}

/**
 * GET /fapi/v1/premiumIndex entry
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Mark-Price). No index is
 * modelled: indexPrice and estimatedSettlePrice are the mark; interestRate is 0.
 */
export function premiumIndexJson(market: SymbolMarket, rateBps: number, nextFundingTimeMs: number, nowMs: number): Record<string, unknown> {
  const mark = markText(market);
  return {
    symbol: market.rules.symbol,
    markPrice: mark,
    indexPrice: mark,
    estimatedSettlePrice: mark,
    lastFundingRate: fundingRateText(rateBps),
    interestRate: '0.00000000',
    nextFundingTime: nextFundingTimeMs,
    time: nowMs,
  };
}

/** `<symbol>@markPrice[@1s]` (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Mark-Price-Stream). */
export function markPriceEvent(market: SymbolMarket, rateBps: number, nextFundingTimeMs: number, nowMs: number): Record<string, unknown> {
  const mark = markText(market);
  // ap, the mark price moving average: no average is modelled, so the mark itself.
  return { e: 'markPriceUpdate', E: nowMs, s: market.rules.symbol, p: mark, ap: mark, i: mark, P: mark, r: fundingRateText(rateBps), T: nextFundingTimeMs };
}

const price = (units: bigint, r: SymbolRules): string => formatUnits(units, r.priceScale);
const qty = (units: bigint, r: SymbolRules): string => formatUnits(units, r.qtyScale);

/** GET /fapi/v1/trades entry (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Recent-Trades-List). */
export function tradeJson(t: PublicTrade, r: SymbolRules): Record<string, unknown> {
  return {
    id: t.id,
    price: price(t.priceUnits, r),
    qty: qty(t.qtyUnits, r),
    quoteQty: quoteText(t.priceUnits * t.qtyUnits, r.priceScale, r.qtyScale),
    time: t.timeMs,
    isBuyerMaker: t.isBuyerMaker,
    isRPITrade: false, // the paper exchange takes no RPI (Retail Price Improvement) orders
  };
}

/** `nq`, the quantity without trades against RPI orders: all of it, as the paper exchange takes no RPI orders. */
const normalQty = (t: PublicTrade, r: SymbolRules): string => qty(t.qtyUnits, r);

/**
 * GET /fapi/v1/aggTrades entry
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Compressed-Aggregate-Trades-List):
 * each tape trade is its own aggregate (first = last = its id).
 */
export function aggTradeJson(t: PublicTrade, r: SymbolRules): Record<string, unknown> {
  return { a: t.id, p: price(t.priceUnits, r), q: qty(t.qtyUnits, r), nq: normalQty(t, r), f: t.id, l: t.id, T: t.timeMs, m: t.isBuyerMaker };
}

/** `<symbol>@aggTrade` (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Aggregate-Trade-Streams). */
export function aggTradeEvent(t: PublicTrade, r: SymbolRules, nowMs: number): Record<string, unknown> {
  return {
    e: 'aggTrade',
    E: nowMs,
    s: r.symbol,
    a: t.id,
    p: price(t.priceUnits, r),
    q: qty(t.qtyUnits, r),
    nq: normalQty(t, r),
    f: t.id,
    l: t.id,
    T: t.timeMs,
    m: t.isBuyerMaker,
  };
}

/** `<symbol>@trade`: the aggTrade stream's fields per single trade, X the trade type (MARKET). */
export function tradeEvent(t: PublicTrade, r: SymbolRules, nowMs: number): Record<string, unknown> {
  return { e: 'trade', E: nowMs, T: t.timeMs, s: r.symbol, t: t.id, p: price(t.priceUnits, r), q: qty(t.qtyUnits, r), X: 'MARKET', m: t.isBuyerMaker };
}

/**
 * GET /fapi/v1/klines row (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Kline-Candlestick-Data):
 * open time, open, high, low, close, volume, close time, quote volume, trades, taker buy base, taker buy quote, ignore.
 */
export function klineRow(c: Candle, intervalMs: number, r: SymbolRules): unknown[] {
  return [
    c.openTimeMs,
    price(c.openUnits, r),
    price(c.highUnits, r),
    price(c.lowUnits, r),
    price(c.closeUnits, r),
    qty(c.volumeUnits, r),
    c.openTimeMs + intervalMs - 1,
    quoteText(c.quoteUnits, r.priceScale, r.qtyScale),
    c.count,
    qty(c.takerBuyVolumeUnits, r),
    quoteText(c.takerBuyQuoteUnits, r.priceScale, r.qtyScale),
    '0',
  ];
}

interface DayStats {
  r: SymbolRules;
  day: Candle | undefined;
  last: PublicTrade | undefined;
  first: PublicTrade | undefined;
  market: SymbolMarket;
  nowMs: number;
}

/** GET /fapi/v1/ticker/24hr (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/24hr-Ticker-Price-Change-Statistics). */
export function ticker24hJson({ r, day, last, first, market, nowMs }: DayStats): Record<string, unknown> {
  const lastUnits = last?.priceUnits ?? market.top.bidUnits;
  const openUnits = day?.openUnits ?? lastUnits;
  const change = lastUnits - openUnits;
  const volume = day?.volumeUnits ?? 0n;
  const quote = day?.quoteUnits ?? 0n;
  return {
    symbol: r.symbol,
    priceChange: price(change, r),
    priceChangePercent: openUnits === 0n ? '0.000' : atScale(div(toDecimal(price(change * 100n, r)), toDecimal(price(openUnits, r)), 3, 'half-even'), 3),
    weightedAvgPrice: volume === 0n ? price(lastUnits, r) : formatUnits(quote / volume, r.priceScale),
    lastPrice: price(lastUnits, r),
    lastQty: qty(last?.qtyUnits ?? 0n, r),
    openPrice: price(openUnits, r),
    highPrice: price(day?.highUnits ?? lastUnits, r),
    lowPrice: price(day?.lowUnits ?? lastUnits, r),
    volume: qty(volume, r),
    quoteVolume: quoteText(quote, r.priceScale, r.qtyScale),
    openTime: day?.openTimeMs ?? nowMs,
    closeTime: nowMs,
    firstId: first?.id ?? 0,
    lastId: last?.id ?? 0,
    count: day?.count ?? 0,
  };
}

/** `<symbol>@miniTicker` (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Individual-Symbol-Mini-Ticker-Stream). */
export function miniTickerEvent(t: Record<string, unknown>, nowMs: number): Record<string, unknown> {
  return { e: '24hrMiniTicker', E: nowMs, s: t.symbol, c: t.lastPrice, o: t.openPrice, h: t.highPrice, l: t.lowPrice, v: t.volume, q: t.quoteVolume };
}

/** GET /fapi/v1/ticker/price and /fapi/v2/ticker/price (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Symbol-Price-Ticker). */
export function priceTickerJson(market: SymbolMarket, last: PublicTrade | undefined, nowMs: number): Record<string, unknown> {
  return { symbol: market.rules.symbol, price: price(last?.priceUnits ?? market.top.bidUnits, market.rules), time: nowMs };
}
