import { maxExactDigits, minBigint, parseDecimal } from '../../model/decimal.js';
import type { RowOrigin } from './binance-csv.js';
import type { PathLeg } from '../kline-path.js';
import { sigmaFromRange } from '../kline-path.js';
import type { CsvFormat } from './binance-csv.js';
import type { AggTradeRow, BookTickerRow } from './binance-csv.js';
import { aggTradeFormat, bookTickerFormat, CrossFileOrder, fundingRateFormat, klineFormat, readRowBatches } from './binance-csv.js';
import type { PlainLines } from './byte-rows.js';
import { byteRowItemBatches } from './byte-rows.js';
import type { PlainAggTrade, PlainBookTicker } from './plain-rows.js';
import { readPlainAggTrade, readPlainBookTicker } from './plain-rows.js';
import type { DataFile } from './catalog.js';
import { DataFileError } from './data-file-error.js';
import type { ReadMeter } from './lines.js';

// Quotes (best bid and ask on the symbol's tick grid) and funding times from archive files, streamed in time order
// across a symbol's files, then merged across symbols.

/** The tick grid prices must lie on (paper-exchange SymbolRules' fields). */
export interface TickGrid {
  priceScale: number;
  tickUnits: bigint;
}

/**
 * A quote carries the file and line it was read from (for an error found later, such as a price the exchange refuses),
 * not its parsed row: a batch of quotes lives until it is decided, long enough to be promoted to the old generation,
 * and a row held as the origin kept its four price and size strings (and the chunk they were cut from) alive with it,
 * a third of the bytes a long run promoted (bench/backtest.ts).
 */
export interface Quote extends RowOrigin {
  symbol: string;
  timeMs: number;
  /** Prices in units of 10^-priceScale, multiples of the tick. */
  bidUnits: bigint;
  askUnits: bigint;
  /** bookTicker quotes read with their sizes (queue fills): both best_bid_qty and best_ask_qty, in units of 10^-qtyScale. */
  bidQtyUnits?: bigint;
  askQtyUnits?: bigint;
  /** A kline quote's leg of its bar's path to the next point (absent after the bar's close, and for bookTicker quotes). */
  leg?: PathLeg;
}

/** One aggTrades row: a trade the market printed at one price, taken by one aggressor (its file and line as a quote's). */
export interface TradePrint extends RowOrigin {
  symbol: string;
  timeMs: number;
  /** On the tick grid, in units of 10^-priceScale. */
  priceUnits: bigint;
  /** In units of 10^-qtyScale (floored to that scale), above zero. */
  qtyUnits: bigint;
  /** The buyer was the resting side: the aggressor sold, against the bids. */
  buyerIsMaker: boolean;
}

export interface FundingTime {
  symbol: string;
  timeMs: number;
  /** Fraction per interval, as published. */
  rate: string;
  origin: RowOrigin;
}

/**
 * A price of plain digits and an optional point with at most `scale` decimals, as units of 10^-scale, read on its
 * characters (parseDecimal's pattern test, split and string-built BigInt were most of a quote's read); null for
 * anything else (a sign, more decimals, too many digits), which parseDecimal then reads or refuses.
 */
export function plainUnits(text: string, scale: number): bigint | null {
  const dot = text.indexOf('.');
  const intDigits = dot < 0 ? text.length : dot;
  const decimals = dot < 0 ? 0 : text.length - dot - 1;
  if (intDigits === 0 || (dot >= 0 && decimals === 0) || decimals > scale || intDigits + scale > maxExactDigits) return null;
  let units = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (i === dot) continue;
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return null;
    units = units * 10 + digit;
  }
  for (let i = decimals; i < scale; i += 1) units *= 10;
  return BigInt(units);
}

function unitsOf(text: string, grid: TickGrid, origin: RowOrigin, column: string): bigint {
  const plain = plainUnits(text, grid.priceScale);
  if (plain !== null && plain % grid.tickUnits === 0n) return plain;
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

/** A kline price in units of 10^-readScale. */
function readUnits(text: string, origin: RowOrigin): bigint {
  const parsed = parseDecimal(text, readScale);
  if (!parsed.ok) throw new DataFileError(origin.file, origin.line, `price ${text} is ${parsed.reason}`);
  return parsed.units;
}

/** A price in units of 10^-readScale floored onto the tick grid (kline quotes are synthesised; Binance's prices lie on it). */
function onGrid(readUnitsValue: bigint, grid: TickGrid): bigint {
  const units = readUnitsValue / 10n ** BigInt(readScale - grid.priceScale);
  return (units / grid.tickUnits) * grid.tickUnits;
}

const maxBigint = (a: bigint, b: bigint): bigint => (a > b ? a : b);

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
  meter?: ReadMeter,
): AsyncGenerator<T[]> {
  const order = new CrossFileOrder();
  for (const file of files) {
    for await (const rows of readRowBatches(file.path, format, meter)) {
      const batch: T[] = [];
      let ended = false;
      for (const row of rows) {
        const timeMs = format.timeOf(row);
        const misplaced = order.check(timeMs, row.file, row.line, !format.sameTimeAllowed);
        if (misplaced !== null) throw misplaced;
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

/** A size column read at `qtyScale`, floored to it (a size is only ever a bound), remembering the last text. */
function columnQtyUnits(qtyScale: number): (text: string) => bigint {
  let lastText: string | null = null;
  let lastUnits = 0n;
  return (text) => {
    if (text !== lastText) {
      // The format checked it is a plain non-negative decimal: cut to the scale, it parses.
      const dot = text.indexOf('.');
      const cut = dot < 0 ? text : text.slice(0, dot + 1 + qtyScale);
      const parsed = parseDecimal(cut.endsWith('.') ? cut.slice(0, -1) : cut, qtyScale);
      lastUnits = parsed.ok ? parsed.units : 0n;
      lastText = text;
    }
    return lastUnits;
  };
}

/**
 * How bookTicker and aggTrades files are read: `bytes`, plain lines straight from the file's bytes and only the others
 * as text (byte-rows.ts); `text`, every line cut out as text and read by the format (rowItemBatches), as all files were
 * before: the reading of record, which test/backtest/plain-rows.test.ts holds the bytes reader to.
 */
export type RowReader = 'bytes' | 'text';

/**
 * A column's units as a bigint, made once per run of equal values (consecutive book updates mostly repeat a price). A
 * class, not a closure: asked for every row's prices and sizes, its last units a field rather than a variable a
 * closure holds (a double there is boxed at every store).
 */
class BigintColumn {
  private lastUnits = -1;
  private last = 0n;

  of(units: number): bigint {
    if (units !== this.lastUnits) {
      this.last = BigInt(units);
      this.lastUnits = units;
    }
    return this.last;
  }
}

/**
 * bookTicker rows as quotes, at their transaction time (the exchange's time of the book state), a chunk of a file at
 * a time; with `qtyScale`, each with its touch sizes (queue fills need them; the plain path does not read them).
 */
export function bookTickerQuoteBatches(
  files: readonly DataFile[],
  symbol: string,
  grid: TickGrid,
  fromMs: number,
  toMs: number,
  qtyScale?: number,
  meter?: ReadMeter,
  reader: RowReader = 'bytes',
): AsyncGenerator<Quote[]> {
  const bidUnits = columnUnits(grid, 'best_bid_price');
  const askUnits = columnUnits(grid, 'best_ask_price');
  const bidQty = columnQtyUnits(qtyScale ?? 0);
  const askQty = columnQtyUnits(qtyScale ?? 0);
  const add = (row: BookTickerRow & RowOrigin, out: Quote[]): void => {
    const timeMs = row.transactionTimeMs;
    const bid = bidUnits(row.bid, row);
    const ask = askUnits(row.ask, row);
    out.push(
      qtyScale === undefined
        ? { symbol, timeMs, bidUnits: bid, askUnits: ask, file: row.file, line: row.line }
        : { symbol, timeMs, bidUnits: bid, askUnits: ask, bidQtyUnits: bidQty(row.bidQty), askQtyUnits: askQty(row.askQty), file: row.file, line: row.line },
    );
  };
  if (reader === 'text') return rowItemBatches(files, bookTickerFormat, fromMs, toMs, add, meter);
  const tickUnits = Number(grid.tickUnits);
  const [bid, ask, bidSize, askSize] = [new BigintColumn(), new BigintColumn(), new BigintColumn(), new BigintColumn()];
  const plain: PlainLines<PlainBookTicker, Quote> = {
    scratch: { timeMs: 0, next: 0, bidUnits: 0, askUnits: 0, bidQtyUnits: 0, askQtyUnits: 0 },
    read: (bytes, start, out) => readPlainBookTicker(bytes, start, grid.priceScale, tickUnits, qtyScale ?? -1, out),
    add: (read, file, line, out) => {
      const { timeMs } = read;
      out.push(
        qtyScale === undefined
          ? { symbol, timeMs, bidUnits: bid.of(read.bidUnits), askUnits: ask.of(read.askUnits), file, line }
          : {
              symbol,
              timeMs,
              bidUnits: bid.of(read.bidUnits),
              askUnits: ask.of(read.askUnits),
              bidQtyUnits: bidSize.of(read.bidQtyUnits),
              askQtyUnits: askSize.of(read.askQtyUnits),
              file,
              line,
            },
      );
    },
  };
  return byteRowItemBatches(files, bookTickerFormat, fromMs, toMs, meter, plain, add);
}

/**
 * aggTrades rows as trade prints at their transact_time, a chunk of a file at a time: the price on the tick grid (a
 * price off it is an error naming the file and line), the quantity at `qtyScale`. A row of quantity 0 is dropped: the
 * archive has such rows (https://github.com/binance/binance-public-data/issues/342) and they trade nothing.
 */
export function tradePrintBatches(
  files: readonly DataFile[],
  symbol: string,
  grid: TickGrid,
  qtyScale: number,
  fromMs: number,
  toMs: number,
  meter?: ReadMeter,
  reader: RowReader = 'bytes',
): AsyncGenerator<TradePrint[]> {
  const priceUnits = columnUnits(grid, 'price');
  const qtyUnits = columnQtyUnits(qtyScale);
  const add = (row: AggTradeRow & RowOrigin, out: TradePrint[]): void => {
    const qty = qtyUnits(row.qty);
    if (qty === 0n) return;
    out.push({ symbol, timeMs: row.timeMs, priceUnits: priceUnits(row.price, row), qtyUnits: qty, buyerIsMaker: row.buyerIsMaker, file: row.file, line: row.line });
  };
  if (reader === 'text') return rowItemBatches(files, aggTradeFormat, fromMs, toMs, add, meter);
  const tickUnits = Number(grid.tickUnits);
  const [price, qty] = [new BigintColumn(), new BigintColumn()];
  const plain: PlainLines<PlainAggTrade, TradePrint> = {
    scratch: { timeMs: 0, next: 0, priceUnits: 0, qtyUnits: 0, buyerIsMaker: false },
    read: (bytes, start, out) => readPlainAggTrade(bytes, start, grid.priceScale, tickUnits, qtyScale, out),
    add: (read, file, line, out) => {
      if (read.qtyUnits === 0) return;
      out.push({ symbol, timeMs: read.timeMs, priceUnits: price.of(read.priceUnits), qtyUnits: qty.of(read.qtyUnits), buyerIsMaker: read.buyerIsMaker, file, line });
    },
  };
  return byteRowItemBatches(files, aggTradeFormat, fromMs, toMs, meter, plain, add);
}

/** Quotes synthesised per bar (the spread and path model below): how wide, and how far a bar must trade through. */
export interface KlineQuoteModel {
  /** Spread of every synthesised quote, in ticks (≥ 1). */
  spreadTicks: number;
  /**
   * How far beyond a price the bar must have traded for a resting order there to fill, in basis points of the price
   * (≥ 0; absent = 0): the path stops this short of each extreme (never inside the bar's open–close body).
   */
  throughBps?: number;
}

/**
 * The spread and path model for klines: each bar gives four quotes, a quarter of the bar apart — open, then the
 * extreme nearer the open first (low then high for a rising bar, high then low for a falling one), then close — each
 * with the bid at that price floored to the tick and the ask `spreadTicks` ticks above. A bar's path between those
 * points is unknown, and its extremes are single prints: a resting order at the low was behind the queue at that
 * price and the thin trades there need not have reached it. So the path stops `throughBps` short of each extreme
 * (as a "fill a limit only when the price trades through it by X" backtest setting): a resting order fills only if
 * the bar traded at least that far beyond its price, else it waits or expires and the engine's fallback takes over.
 */
export function klineQuoteBatches(
  files: readonly DataFile[],
  symbol: string,
  grid: TickGrid,
  model: KlineQuoteModel,
  fromMs: number,
  toMs: number,
  meter?: ReadMeter,
): AsyncGenerator<Quote[]> {
  if (!Number.isInteger(model.spreadTicks) || model.spreadTicks < 1) throw new Error(`spreadTicks must be a whole number ≥ 1, got ${model.spreadTicks}`);
  const throughBps = model.throughBps ?? 0;
  if (!Number.isFinite(throughBps) || throughBps < 0) throw new Error(`throughBps must be ≥ 0, got ${throughBps}`);
  const spreadUnits = BigInt(model.spreadTicks) * grid.tickUnits;
  // The margin in parts per million of the price (1 bp = 100 ppm), in exact integer arithmetic.
  const marginPerMillion = BigInt(Math.round(throughBps * 100));
  return rowItemBatches(files, klineFormat, fromMs, toMs, (row, out: Quote[]) => {
    const [open, high, low, close] = [row.open, row.high, row.low, row.close].map((p) => readUnits(p, row));
    const rising = (close as bigint) >= (open as bigint);
    const bodyLow = rising ? (open as bigint) : (close as bigint);
    const bodyHigh = rising ? (close as bigint) : (open as bigint);
    const lowPoint = minBigint(bodyLow, (low as bigint) + ((low as bigint) * marginPerMillion) / 1_000_000n);
    const highPoint = maxBigint(bodyHigh, (high as bigint) - ((high as bigint) * marginPerMillion) / 1_000_000n);
    const path = (rising ? [open, lowPoint, highPoint, close] : [open, highPoint, lowPoint, close]).map((p) => onGrid(p as bigint, grid));
    const barMs = row.closeTimeMs + 1 - row.openTimeMs;
    const quarterMs = Math.floor(barMs / 4);
    const [lowUnits, highUnits] = [Number(onGrid(lowPoint, grid)), Number(onGrid(highPoint, grid))];
    const sigmaPerSqrtMs = sigmaFromRange(highUnits - lowUnits, barMs);
    for (let i = 0; i < path.length; i += 1) {
      const bidUnits = path[i] as bigint;
      const timeMs = row.openTimeMs + i * quarterMs;
      const next = path[i + 1];
      const leg = next === undefined ? undefined : { toMs: timeMs + quarterMs, toUnits: Number(next), lowUnits, highUnits, sigmaPerSqrtMs };
      out.push({ symbol, timeMs, bidUnits, askUnits: bidUnits + spreadUnits, file: row.file, line: row.line, ...(leg ? { leg } : {}) });
    }
  }, meter);
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
