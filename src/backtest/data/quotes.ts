import { parseDecimal } from '../../model/decimal.js';
import type { RowOrigin } from './binance-csv.js';
import type { CsvFormat } from './binance-csv.js';
import { bookTickerFormat, fundingRateFormat, klineFormat, readRowBatches } from './binance-csv.js';
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

function unitsOf(text: string, grid: TickGrid, origin: RowOrigin, column: string): bigint {
  const parsed = parseDecimal(text, grid.priceScale);
  if (!parsed.ok && parsed.reason === 'malformed') throw new DataFileError(origin.file, origin.line, `${column} ${text} is malformed`);
  if (!parsed.ok || parsed.units % grid.tickUnits !== 0n) throw new DataFileError(origin.file, origin.line, `${column} ${text} is not on the symbol's tick grid`);
  return parsed.units;
}

/** One price column read onto the grid, remembering the last text: consecutive book updates mostly repeat a price. */
function columnUnits(grid: TickGrid, column: string): (text: string, origin: RowOrigin) => bigint {
  let lastText: string | null = null;
  let lastUnits = 0n;
  return (text, origin) => {
    if (text !== lastText) {
      lastUnits = unitsOf(text, grid, origin, column);
      lastText = text;
    }
    return lastUnits;
  };
}

/** Digits a kline price is read at before it is floored onto the grid: Binance prints at most 8. */
const readScale = 12;

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

/**
 * A symbol's rows within [fromMs, toMs), in time order across its files (each file's rows are checked by readRowBatches,
 * the seams between files here), turned into items by `add` a chunk of a file at a time.
 */
async function* rowItemBatches<R, T>(
  files: readonly DataFile[],
  format: CsvFormat<R>,
  fromMs: number,
  toMs: number,
  add: (row: R & RowOrigin, out: T[]) => void,
): AsyncGenerator<T[]> {
  const order = crossFileOrder();
  for (const file of files) {
    for await (const rows of readRowBatches(file.path, format)) {
      const batch: T[] = [];
      let ended = false;
      for (const row of rows) {
        const timeMs = format.timeOf(row);
        order(timeMs, row, !format.sameTimeAllowed);
        if (timeMs < fromMs) continue;
        if (timeMs >= toMs) {
          ended = true;
          break;
        }
        add(row, batch);
      }
      if (batch.length > 0) yield batch;
      if (ended) return;
    }
  }
}

async function* oneAtATime<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const batch of batches) yield* batch;
}

/** bookTicker rows as quotes, at their transaction time (the exchange's time of the book state), a chunk of a file at a time. */
export function bookTickerQuoteBatches(files: readonly DataFile[], symbol: string, grid: TickGrid, fromMs: number, toMs: number): AsyncGenerator<Quote[]> {
  const bidUnits = columnUnits(grid, 'best_bid_price');
  const askUnits = columnUnits(grid, 'best_ask_price');
  return rowItemBatches(files, bookTickerFormat, fromMs, toMs, (row, out: Quote[]) => {
    // The row is its own origin (file and line): one object less a quote.
    out.push({ symbol, timeMs: row.transactionTimeMs, bidUnits: bidUnits(row.bid, row), askUnits: askUnits(row.ask, row), origin: row });
  });
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
export function klineQuoteBatches(
  files: readonly DataFile[],
  symbol: string,
  grid: TickGrid,
  model: KlineQuoteModel,
  fromMs: number,
  toMs: number,
): AsyncGenerator<Quote[]> {
  if (!Number.isInteger(model.spreadTicks) || model.spreadTicks < 1) throw new Error(`spreadTicks must be a whole number ≥ 1, got ${model.spreadTicks}`);
  const spreadUnits = BigInt(model.spreadTicks) * grid.tickUnits;
  return rowItemBatches(files, klineFormat, fromMs, toMs, (row, out: Quote[]) => {
    const rising = Number(row.close) >= Number(row.open);
    const path = rising ? [row.open, row.low, row.high, row.close] : [row.open, row.high, row.low, row.close];
    const quarterMs = Math.floor((row.closeTimeMs + 1 - row.openTimeMs) / 4);
    for (let i = 0; i < path.length; i += 1) {
      const bidUnits = flooredUnits(path[i] as string, grid, row);
      out.push({ symbol, timeMs: row.openTimeMs + i * quarterMs, bidUnits, askUnits: bidUnits + spreadUnits, origin: row });
    }
  });
}

/** Funding times of one symbol within [fromMs, toMs). */
export function fundingTimes(files: readonly DataFile[], symbol: string, fromMs: number, toMs: number): AsyncGenerator<FundingTime> {
  return oneAtATime(
    rowItemBatches(files, fundingRateFormat, fromMs, toMs, (row, out: FundingTime[]) => {
      out.push({ symbol, timeMs: row.calcTimeMs, rate: row.rate, origin: { file: row.file, line: row.line } });
    }),
  );
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

/**
 * Merges time-ordered streams of batches into one stream of batches, oldest first (ties: the stream listed first).
 * One stream passes through as it is; with several, a merged batch ends where one stream's batch runs out.
 */
export async function* mergeBatchesByTime<T extends { timeMs: number }>(streams: readonly AsyncIterator<T[]>[]): AsyncGenerator<T[]> {
  if (streams.length === 1) {
    const only = streams[0] as AsyncIterator<T[]>;
    for (let next = await only.next(); !next.done; next = await only.next()) yield next.value;
    return;
  }
  const nextBatch = async (stream: AsyncIterator<T[]>): Promise<T[] | null> => {
    for (;;) {
      const next = await stream.next();
      if (next.done) return null;
      if (next.value.length > 0) return next.value;
    }
  };
  const heads = await Promise.all(streams.map(nextBatch));
  const at = heads.map(() => 0);
  for (;;) {
    const out: T[] = [];
    let emptied = -1;
    while (emptied < 0) {
      let best = -1;
      let bestMs = Infinity;
      for (let i = 0; i < heads.length; i += 1) {
        const h = heads[i];
        if (h && (h[at[i] as number] as T).timeMs < bestMs) {
          best = i;
          bestMs = (h[at[i] as number] as T).timeMs;
        }
      }
      if (best < 0) break;
      const head = heads[best] as T[];
      out.push(head[at[best] as number] as T);
      at[best] = (at[best] as number) + 1;
      if (at[best] === head.length) emptied = best;
    }
    if (out.length > 0) yield out;
    if (emptied < 0) return;
    heads[emptied] = await nextBatch(streams[emptied] as AsyncIterator<T[]>);
    at[emptied] = 0;
  }
}
