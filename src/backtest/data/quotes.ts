import { parseDecimal } from '../../model/decimal.js';
import type { RowOrigin } from './binance-csv.js';
import { bookTickerFormat, fundingRateFormat, klineFormat, readRows } from './binance-csv.js';
import type { DataFile } from './catalog.js';
import { DataFileError } from './data-file-error.js';

// Quotes (best bid and ask on the symbol's tick grid) and funding times from archive files, streamed in time order
// across a symbol's files, then merged across symbols.

/** The tick grid prices must lie on (paper-exchange SymbolRules' fields). */
export interface TickGrid {
  priceScale: number;
  tickUnits: bigint;
}

export interface Quote {
  symbol: string;
  timeMs: number;
  /** Prices in units of 10^-priceScale, multiples of the tick. */
  bidUnits: bigint;
  askUnits: bigint;
  origin: RowOrigin;
}

export interface FundingTime {
  symbol: string;
  timeMs: number;
  /** Fraction per interval, as published. */
  rate: string;
  origin: RowOrigin;
}

/** Digits a price is read at before it is put on the grid: Binance prints at most 8. */
const readScale = 12;

function unitsOf(text: string, grid: TickGrid, origin: RowOrigin, column: string): bigint {
  const parsed = parseDecimal(text, readScale);
  if (!parsed.ok) throw new DataFileError(origin.file, origin.line, `${column} ${text} is ${parsed.reason}`);
  const divisor = 10n ** BigInt(readScale - grid.priceScale);
  if (parsed.units % divisor !== 0n || (parsed.units / divisor) % grid.tickUnits !== 0n) {
    throw new DataFileError(origin.file, origin.line, `${column} ${text} is not on the symbol's tick grid`);
  }
  return parsed.units / divisor;
}

/** A price floored onto the tick grid (kline prices are synthesised into quotes; they lie on it in Binance's files). */
function flooredUnits(text: string, grid: TickGrid, origin: RowOrigin): bigint {
  const parsed = parseDecimal(text, readScale);
  if (!parsed.ok) throw new DataFileError(origin.file, origin.line, `price ${text} is ${parsed.reason}`);
  const units = parsed.units / 10n ** BigInt(readScale - grid.priceScale);
  return (units / grid.tickUnits) * grid.tickUnits;
}

/** Checks time order across a symbol's files: the next file must start where the last one ended, or later. */
function crossFileOrder(): (timeMs: number, origin: RowOrigin, strictly: boolean) => void {
  let last = -Infinity;
  return (timeMs, origin, strictly) => {
    if (timeMs < last || (strictly && timeMs === last)) {
      throw new DataFileError(origin.file, origin.line, `out of order: time ${timeMs} (${new Date(timeMs).toISOString()}) is before the previous file's last row`);
    }
    last = timeMs;
  };
}

/** bookTicker rows as quotes, at their transaction time (the exchange's time of the book state). */
export async function* bookTickerQuotes(files: readonly DataFile[], symbol: string, grid: TickGrid, fromMs: number, toMs: number): AsyncGenerator<Quote> {
  const order = crossFileOrder();
  for (const file of files) {
    for await (const row of readRows(file.path, bookTickerFormat)) {
      const origin = { file: row.file, line: row.line };
      order(row.transactionTimeMs, origin, false);
      if (row.transactionTimeMs < fromMs) continue;
      if (row.transactionTimeMs >= toMs) return;
      yield { symbol, timeMs: row.transactionTimeMs, bidUnits: unitsOf(row.bid, grid, origin, 'best_bid_price'), askUnits: unitsOf(row.ask, grid, origin, 'best_ask_price'), origin };
    }
  }
}

/** Quotes synthesised per bar (klines.ts's spread model): how many, and how wide. */
export interface KlineQuoteModel {
  /** Spread of every synthesised quote, in ticks (≥ 1). */
  spreadTicks: number;
}

/**
 * The spread model for klines: each bar gives four quotes, a quarter of the bar apart — open, then the extreme
 * nearer the open first (low then high for a rising bar, high then low for a falling one), then close — each with the
 * bid at that price floored to the tick and the ask `spreadTicks` ticks above. A bar's path between those four points
 * is unknown; this one visits both extremes, so a resting order inside the bar's range trades through.
 */
export async function* klineQuotes(
  files: readonly DataFile[],
  symbol: string,
  grid: TickGrid,
  model: KlineQuoteModel,
  fromMs: number,
  toMs: number,
): AsyncGenerator<Quote> {
  if (!Number.isInteger(model.spreadTicks) || model.spreadTicks < 1) throw new Error(`spreadTicks must be a whole number ≥ 1, got ${model.spreadTicks}`);
  const spreadUnits = BigInt(model.spreadTicks) * grid.tickUnits;
  const order = crossFileOrder();
  for (const file of files) {
    for await (const row of readRows(file.path, klineFormat)) {
      const origin = { file: row.file, line: row.line };
      order(row.openTimeMs, origin, true);
      if (row.openTimeMs < fromMs) continue;
      if (row.openTimeMs >= toMs) return;
      const rising = Number(row.close) >= Number(row.open);
      const path = rising ? [row.open, row.low, row.high, row.close] : [row.open, row.high, row.low, row.close];
      const quarterMs = Math.floor((row.closeTimeMs + 1 - row.openTimeMs) / 4);
      for (let i = 0; i < path.length; i += 1) {
        const bidUnits = flooredUnits(path[i] as string, grid, origin);
        yield { symbol, timeMs: row.openTimeMs + i * quarterMs, bidUnits, askUnits: bidUnits + spreadUnits, origin };
      }
    }
  }
}

/** Funding times of one symbol within [fromMs, toMs). */
export async function* fundingTimes(files: readonly DataFile[], symbol: string, fromMs: number, toMs: number): AsyncGenerator<FundingTime> {
  const order = crossFileOrder();
  for (const file of files) {
    for await (const row of readRows(file.path, fundingRateFormat)) {
      const origin = { file: row.file, line: row.line };
      order(row.calcTimeMs, origin, true);
      if (row.calcTimeMs < fromMs) continue;
      if (row.calcTimeMs >= toMs) return;
      yield { symbol, timeMs: row.calcTimeMs, rate: row.rate, origin };
    }
  }
}

/** Merges time-ordered streams into one, oldest first (ties: the stream listed first). */
export async function* mergeByTime<T extends { timeMs: number }>(streams: readonly AsyncIterator<T>[]): AsyncGenerator<T> {
  const heads: (T | null)[] = await Promise.all(streams.map(async (s) => (await s.next()).value ?? null));
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i += 1) {
      const h = heads[i];
      if (h && (best < 0 || h.timeMs < (heads[best] as T).timeMs)) best = i;
    }
    if (best < 0) return;
    yield heads[best] as T;
    const next = await (streams[best] as AsyncIterator<T>).next();
    heads[best] = next.done ? null : next.value;
  }
}
