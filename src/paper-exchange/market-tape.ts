// The public tape of the paper exchange: the volume the market trades at the touch at each price step (the depth
// model's tape, order-book.ts), as public trades, and the 1-minute candles and 24 h statistics derived from them.
// What REST market data (routes-market.ts) and the trade / kline / ticker streams (market-streams.ts) serve.
// Not on the tape: the fills of paper accounts' own taker orders (they trade against the depth, not the tape).
import { formatUnits } from '../model/decimal.js';
import type { SymbolMarket } from './price-process.js';
import { pushKeepingNewest } from '../util/keep-newest.js';

export interface PublicTrade {
  id: number;
  priceUnits: bigint;
  qtyUnits: bigint;
  timeMs: number;
  /** The buyer was the maker: a seller hit the bid. */
  isBuyerMaker: boolean;
}

export interface Candle {
  openTimeMs: number;
  openUnits: bigint;
  highUnits: bigint;
  lowUnits: bigint;
  closeUnits: bigint;
  volumeUnits: bigint;
  /** Σ price × qty, at priceScale + qtyScale. */
  quoteUnits: bigint;
  count: number;
  takerBuyVolumeUnits: bigint;
  takerBuyQuoteUnits: bigint;
}

/**
 * Trades kept per symbol for /fapi/v1/trades and aggTrades: Binance serves at most 1000 recent ones a call. The oldest
 * are dropped a block at a time (up to an eighth more kept, util/keep-newest.ts), not one splice of them all a step.
 */
export const maxTradesPerSymbol = 10_000;
/** One-minute candles kept per symbol: 7 days, enough for every 1d kline of a week and the 24 h ticker. */
export const maxMinuteCandlesPerSymbol = 7 * 24 * 60;
export const minuteMs = 60_000;
export const dayMs = 24 * 60 * minuteMs;

interface SymbolTape {
  trades: PublicTrade[];
  candles: Candle[];
}

export class MarketTape {
  private readonly bySymbol = new Map<string, SymbolTape>();
  private nextTradeId = 1;

  private tapeOf(symbol: string): SymbolTape {
    let tape = this.bySymbol.get(symbol);
    if (!tape) {
      tape = { trades: [], candles: [] };
      this.bySymbol.set(symbol, tape);
    }
    return tape;
  }

  /** Records this step's tape (sellers at the bid, buyers at the ask) and answers the new trades. */
  record(market: SymbolMarket, nowMs: number): PublicTrade[] {
    const { bidUnits, askUnits } = market.top;
    const out: PublicTrade[] = [];
    const atBid = market.depth.tradedAgainst('BUY');
    const atAsk = market.depth.tradedAgainst('SELL');
    if (atBid > 0n) out.push({ id: this.nextTradeId++, priceUnits: bidUnits, qtyUnits: atBid, timeMs: nowMs, isBuyerMaker: true });
    if (atAsk > 0n) out.push({ id: this.nextTradeId++, priceUnits: askUnits, qtyUnits: atAsk, timeMs: nowMs, isBuyerMaker: false });
    const tape = this.tapeOf(market.rules.symbol);
    for (const trade of out) {
      pushKeepingNewest(tape.trades, trade, maxTradesPerSymbol);
      addToCandles(tape.candles, trade);
    }
    if (tape.candles.length > maxMinuteCandlesPerSymbol) tape.candles.splice(0, tape.candles.length - maxMinuteCandlesPerSymbol);
    return out;
  }

  trades(symbol: string): readonly PublicTrade[] {
    return this.tapeOf(symbol).trades;
  }

  /** Candles of `intervalMs` (a multiple of a minute), aligned on the epoch, oldest first, from the 1-minute ones. */
  klines(symbol: string, intervalMs: number, fromMs: number, toMs: number): Candle[] {
    const out: Candle[] = [];
    for (const minute of this.tapeOf(symbol).candles) {
      if (minute.openTimeMs < fromMs - (fromMs % intervalMs) || minute.openTimeMs > toMs) continue;
      const openTimeMs = minute.openTimeMs - (minute.openTimeMs % intervalMs);
      const last = out[out.length - 1];
      if (last?.openTimeMs === openTimeMs) merge(last, minute);
      else out.push({ ...minute, openTimeMs });
    }
    return out;
  }

  /** The last 24 h as one candle (the minute candles that opened within it), or undefined before the first trade. */
  day(symbol: string, nowMs: number): Candle | undefined {
    let out: Candle | undefined;
    for (const minute of this.tapeOf(symbol).candles) {
      if (minute.openTimeMs < nowMs - dayMs) continue;
      if (out) merge(out, minute);
      else out = { ...minute };
    }
    return out;
  }
}

function addToCandles(candles: Candle[], trade: PublicTrade): void {
  const openTimeMs = trade.timeMs - (trade.timeMs % minuteMs);
  const quote = trade.priceUnits * trade.qtyUnits;
  const single: Candle = {
    openTimeMs,
    openUnits: trade.priceUnits,
    highUnits: trade.priceUnits,
    lowUnits: trade.priceUnits,
    closeUnits: trade.priceUnits,
    volumeUnits: trade.qtyUnits,
    quoteUnits: quote,
    count: 1,
    takerBuyVolumeUnits: trade.isBuyerMaker ? 0n : trade.qtyUnits,
    takerBuyQuoteUnits: trade.isBuyerMaker ? 0n : quote,
  };
  const last = candles[candles.length - 1];
  if (last?.openTimeMs === openTimeMs) merge(last, single);
  else candles.push(single);
}

/** Folds a later candle into `into`. */
function merge(into: Candle, next: Candle): void {
  if (next.highUnits > into.highUnits) into.highUnits = next.highUnits;
  if (next.lowUnits < into.lowUnits) into.lowUnits = next.lowUnits;
  into.closeUnits = next.closeUnits;
  into.volumeUnits += next.volumeUnits;
  into.quoteUnits += next.quoteUnits;
  into.count += next.count;
  into.takerBuyVolumeUnits += next.takerBuyVolumeUnits;
  into.takerBuyQuoteUnits += next.takerBuyQuoteUnits;
}

/** Σ price × qty as a decimal string (quote volume). */
export function quoteText(units: bigint, priceScale: number, qtyScale: number): string {
  return formatUnits(units, priceScale + qtyScale);
}
