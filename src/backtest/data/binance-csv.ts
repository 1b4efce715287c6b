import { maxExactDigits } from '../../model/decimal.js';
import { DataFileError } from './data-file-error.js';
import { readLineBatches } from './lines.js';
import type { ReadMeter } from './lines.js';

// The CSV formats of Binance's public data archive (https://data.binance.vision, documented in
// https://github.com/binance/binance-public-data/blob/master/README.md), USDⓈ-M futures (data/futures/um/...):
// - klines: open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,
//   taker_buy_quote_volume,ignore — "same as /fapi/v1/klines" (README, "FUTURES > Klines"); files since 2022 carry
//   this header row, older ones none, so both are read.
// - aggTrades: agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker — "same as
//   /fapi/v1/aggTrades" (README, "FUTURES > AggTrades"); the header row and the lower-case true/false as the archive's
//   files print them (quoted from data/futures/um/monthly/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2023-05.zip in
//   https://github.com/binance/binance-public-data/issues/339).
// - bookTicker: update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time — the
//   bookTicker stream's u,b,B,a,A,T,E (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Individual-Symbol-Book-Ticker-Streams).
// - fundingRate (monthly only): calc_time,funding_interval_hours,last_funding_rate — the rate as a fraction per
//   interval (0.00010000 = 0.01 %), as /fapi/v1/fundingRate's fundingRate.
// Times are milliseconds since the epoch. A row that does not parse, or comes before the row above it, is an error
// naming the file and the line.

export interface BookTickerRow {
  updateId: number;
  bid: string;
  bidQty: string;
  ask: string;
  askQty: string;
  transactionTimeMs: number;
  eventTimeMs: number;
}

export interface KlineRow {
  openTimeMs: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  closeTimeMs: number;
}

export interface FundingRow {
  calcTimeMs: number;
  intervalHours: number;
  /** Fraction per interval, as published (decimal string). */
  rate: string;
}

export interface AggTradeRow {
  aggTradeId: number;
  price: string;
  qty: string;
  timeMs: number;
  buyerIsMaker: boolean;
}

/** Where a row came from: for errors found later (a price off the tick grid). */
export interface RowOrigin {
  file: string;
  line: number;
}

export interface CsvFormat<T> {
  name: string;
  columns: readonly string[];
  /** The row; throws a RowError saying why it is not one. */
  parse(fields: readonly string[]): T;
  /**
   * The fast path of a whole line: the row parse() reads from its fields when every field is plain (digits and at most
   * one point) and the row passes every check; null for any other line, which the general path then reads or refuses
   * (so its errors stay as they are). Splitting, trimming and a regex per line were most of a row's cost.
   */
  parseLine?(line: string): T | null;
  timeOf(row: T): number;
  /** Whether two rows may share a time (book updates in one ms) or must strictly increase (bars, funding times). */
  sameTimeAllowed: boolean;
}

/** Earliest and latest plausible millisecond timestamps: a seconds or microseconds column is refused, not misread. */
export const minTimestampMs = Date.UTC(2015, 0, 1);
export const maxTimestampMs = Date.UTC(2100, 0, 1);

/** Why one row is not a row of its format; readRows adds the file and the line. */
class RowError extends Error {}

function timestamp(text: string | undefined, column: string): number {
  const ms = integer(text, column);
  if (ms < minTimestampMs || ms >= maxTimestampMs) throw new RowError(`${column} ${text} is not a millisecond timestamp between 2015 and 2100`);
  return ms;
}

/** Whether `text` is one or more ASCII digits (a char loop: a regex test was a good part of a row's cost). */
function allDigits(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}


/**
 * The value of `text` when it is one or more ASCII digits, else -1: Number(text), summed on the characters while
 * they are checked (Number() of the text was most of an integer column's cost). Up to maxExactDigits digits every
 * step is an exact integer, so the sum is the value itself, as Number() reads it; longer texts go to Number().
 */
export function digitsValue(text: string): number {
  const length = text.length;
  if (length === 0) return -1;
  let value = 0;
  for (let i = 0; i < length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return length <= maxExactDigits ? value : Number(text);
}

function integer(text: string | undefined, column: string): number {
  const value = text === undefined ? -1 : digitsValue(text);
  if (value < 0) throw new RowError(`${column} is not an integer: ${JSON.stringify(text ?? '')}`);
  return value;
}

/** What a plain decimal (digits, an optional fraction, a leading minus at most) is: its sign, or not one at all. */
type PlainDecimalSign = 'malformed' | 'negative' | 'zero' | 'positive';

/** decimal.ts's plainDecimalPattern and the sign, on the characters (a regex test and a parse were most of a row's cost). */
export function plainDecimalSign(text: string): PlainDecimalSign {
  const start = text.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  const dot = text.indexOf('.');
  const intEnd = dot < 0 ? text.length : dot;
  if (!allDigits(text, start, intEnd) || (dot >= 0 && !allDigits(text, dot + 1, text.length))) return 'malformed';
  for (let i = start; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 49 && c <= 57) return start === 1 ? 'negative' : 'positive';
  }
  return 'zero';
}

/** A plain decimal as Binance prints it (no exponent, no sign but minus): checked on its characters, not parsed. */
function decimal(text: string | undefined, column: string): string {
  if (text === undefined || plainDecimalSign(text) === 'malformed') throw new RowError(`${column} is not a decimal number: ${JSON.stringify(text ?? '')}`);
  return text;
}

function positive(text: string | undefined, column: string): string {
  const sign = text === undefined ? 'malformed' : plainDecimalSign(text);
  if (sign === 'malformed') throw new RowError(`${column} is not a decimal number: ${JSON.stringify(text ?? '')}`);
  if (sign !== 'positive') throw new RowError(`${column} must be above zero: ${text}`);
  return text as string;
}

function nonNegative(text: string | undefined, column: string): string {
  const sign = text === undefined ? 'malformed' : plainDecimalSign(text);
  if (sign === 'malformed') throw new RowError(`${column} is not a decimal number: ${JSON.stringify(text ?? '')}`);
  if (sign === 'negative') throw new RowError(`${column} must not be negative: ${text}`);
  return text as string;
}

/**
 * Orders two non-negative plain decimals (the pattern above) exactly, on their digits: the integer parts without
 * leading zeros by length then digit by digit, then the fractions padded to one length. A bookTicker row compares
 * its bid and ask this way without parsing either (compareDecimal's parse was most of the row's cost).
 */
export function comparePlainDecimals(a: string, b: string): number {
  const dotA = a.indexOf('.');
  const dotB = b.indexOf('.');
  const endA = dotA < 0 ? a.length : dotA;
  const endB = dotB < 0 ? b.length : dotB;
  let startA = 0;
  let startB = 0;
  while (startA < endA - 1 && a.charCodeAt(startA) === 48) startA += 1;
  while (startB < endB - 1 && b.charCodeAt(startB) === 48) startB += 1;
  if (endA - startA !== endB - startB) return endA - startA < endB - startB ? -1 : 1;
  // Compared on the characters, not on slices and padded copies (a row's bid and ask are compared at every row).
  for (let i = 0; i < endA - startA; i += 1) {
    const diff = a.charCodeAt(startA + i) - b.charCodeAt(startB + i);
    if (diff !== 0) return diff < 0 ? -1 : 1;
  }
  const fracA = dotA < 0 ? 0 : a.length - dotA - 1;
  const fracB = dotB < 0 ? 0 : b.length - dotB - 1;
  const width = Math.max(fracA, fracB);
  for (let i = 0; i < width; i += 1) {
    // A fraction shorter than the other reads as padded with zeros.
    const digitA = i < fracA ? a.charCodeAt(dotA + 1 + i) : 48;
    const digitB = i < fracB ? b.charCodeAt(dotB + 1 + i) : 48;
    if (digitA !== digitB) return digitA < digitB ? -1 : 1;
  }
  return 0;
}

/** Most fields a fast-path line has (klines: 12). */
const maxPlainFields = 16;

/**
 * Where each field of a line ends (the index of its comma, or the line's length for the last) into `ends`, found with
 * indexOf (one pass of the line in native code; each field's reader checks its own characters); the number of
 * fields, or -1 for an empty line or one of more than maxPlainFields fields: the general path reads those.
 */
function fieldEndsOf(line: string, ends: Int32Array): number {
  if (line.length === 0) return -1;
  let count = 0;
  for (let comma = line.indexOf(','); comma >= 0; comma = line.indexOf(',', comma + 1)) {
    if (count === maxPlainFields - 1) return -1;
    ends[count] = comma;
    count += 1;
  }
  ends[count] = line.length;
  return count + 1;
}

/** digitsValue of line[from, to) without the slice, for up to maxExactDigits digits; -1 for anything else. */
function digitsAt(line: string, from: number, to: number): number {
  if (to <= from || to - from > maxExactDigits) return -1;
  let value = 0;
  for (let i = from; i < to; i += 1) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value;
}

/** timestamp() of line[from, to) on the fast path: -1 for anything it would refuse (or digitsValue read with Number()). */
function timestampAt(line: string, from: number, to: number): number {
  const ms = digitsAt(line, from, to);
  return ms < minTimestampMs || ms >= maxTimestampMs ? -1 : ms;
}

/**
 * plainDecimalSign of line[from, to) for a field without a sign (one with a sign is the general path's): 'malformed'
 * unless one or more digits, then at most one point followed by one or more digits.
 */
function plainSignAt(line: string, from: number, to: number): PlainDecimalSign {
  let dot = -1;
  let nonZero = false;
  for (let i = from; i < to; i += 1) {
    const c = line.charCodeAt(i);
    if (c === 46 /* . */) {
      if (dot >= 0) return 'malformed';
      dot = i;
    } else if (c < 48 || c > 57) return 'malformed';
    else if (c !== 48) nonZero = true;
  }
  if (dot === from || dot === to - 1 || to <= from) return 'malformed';
  return nonZero ? 'positive' : 'zero';
}

/** Field ends of the line the fast path reads (one buffer: parseLine never re-enters). */
const fieldEnds = new Int32Array(maxPlainFields);

function check(ok: boolean, reason: () => string): void {
  if (!ok) throw new RowError(reason());
}

export const bookTickerFormat: CsvFormat<BookTickerRow> = {
  name: 'bookTicker',
  columns: ['update_id', 'best_bid_price', 'best_bid_qty', 'best_ask_price', 'best_ask_qty', 'transaction_time', 'event_time'],
  parse(f) {
    const row: BookTickerRow = {
      updateId: integer(f[0], 'update_id'),
      bid: positive(f[1], 'best_bid_price'),
      bidQty: nonNegative(f[2], 'best_bid_qty'),
      ask: positive(f[3], 'best_ask_price'),
      askQty: nonNegative(f[4], 'best_ask_qty'),
      transactionTimeMs: timestamp(f[5], 'transaction_time'),
      eventTimeMs: timestamp(f[6], 'event_time'),
    };
    check(comparePlainDecimals(row.bid, row.ask) < 0, () => `best_bid_price ${row.bid} is not below best_ask_price ${row.ask} (a crossed or locked book)`);
    return row;
  },
  parseLine(line) {
    const e = fieldEnds;
    if (fieldEndsOf(line, e) !== 7) return null;
    const e0 = e[0] as number;
    const e1 = e[1] as number;
    const e2 = e[2] as number;
    const e3 = e[3] as number;
    const e4 = e[4] as number;
    const e5 = e[5] as number;
    const updateId = digitsAt(line, 0, e0);
    const transactionTimeMs = timestampAt(line, e4 + 1, e5);
    const eventTimeMs = timestampAt(line, e5 + 1, e[6] as number);
    if (updateId < 0 || transactionTimeMs < 0 || eventTimeMs < 0) return null;
    if (plainSignAt(line, e0 + 1, e1) !== 'positive' || plainSignAt(line, e2 + 1, e3) !== 'positive') return null;
    if (plainSignAt(line, e1 + 1, e2) === 'malformed' || plainSignAt(line, e3 + 1, e4) === 'malformed') return null;
    const row: BookTickerRow = {
      updateId,
      bid: line.slice(e0 + 1, e1),
      bidQty: line.slice(e1 + 1, e2),
      ask: line.slice(e2 + 1, e3),
      askQty: line.slice(e3 + 1, e4),
      transactionTimeMs,
      eventTimeMs,
    };
    return comparePlainDecimals(row.bid, row.ask) < 0 ? row : null;
  },
  timeOf: (row) => row.transactionTimeMs,
  sameTimeAllowed: true,
};

export const klineFormat: CsvFormat<KlineRow> = {
  name: 'klines',
  columns: ['open_time', 'open', 'high', 'low', 'close', 'volume', 'close_time', 'quote_volume', 'count', 'taker_buy_volume', 'taker_buy_quote_volume', 'ignore'],
  parse(f) {
    const row: KlineRow = {
      openTimeMs: timestamp(f[0], 'open_time'),
      open: positive(f[1], 'open'),
      high: positive(f[2], 'high'),
      low: positive(f[3], 'low'),
      close: positive(f[4], 'close'),
      volume: nonNegative(f[5], 'volume'),
      closeTimeMs: timestamp(f[6], 'close_time'),
    };
    check(row.closeTimeMs > row.openTimeMs, () => `close_time ${row.closeTimeMs} is not after open_time ${row.openTimeMs}`);
    const bounds = [row.open, row.close, row.low].every((p) => comparePlainDecimals(row.high, p) >= 0) && [row.open, row.close].every((p) => comparePlainDecimals(row.low, p) <= 0);
    check(bounds, () => `high ${row.high} and low ${row.low} do not bound open ${row.open} and close ${row.close}`);
    return row;
  },
  timeOf: (row) => row.openTimeMs,
  sameTimeAllowed: false,
};

export const fundingRateFormat: CsvFormat<FundingRow> = {
  name: 'fundingRate',
  columns: ['calc_time', 'funding_interval_hours', 'last_funding_rate'],
  parse(f) {
    const row: FundingRow = { calcTimeMs: timestamp(f[0], 'calc_time'), intervalHours: integer(f[1], 'funding_interval_hours'), rate: decimal(f[2], 'last_funding_rate') };
    check(Math.abs(Number(row.rate)) < 1, () => `last_funding_rate ${row.rate} is not a fraction per interval`);
    return row;
  },
  timeOf: (row) => row.calcTimeMs,
  sameTimeAllowed: false,
};

export const aggTradeFormat: CsvFormat<AggTradeRow> = {
  name: 'aggTrades',
  columns: ['agg_trade_id', 'price', 'quantity', 'first_trade_id', 'last_trade_id', 'transact_time', 'is_buyer_maker'],
  parse(f) {
    const maker = (f[6] ?? '').toLowerCase();
    check(maker === 'true' || maker === 'false', () => `is_buyer_maker is not true or false: ${JSON.stringify(f[6] ?? '')}`);
    return {
      aggTradeId: integer(f[0], 'agg_trade_id'),
      price: positive(f[1], 'price'),
      // Archive files carry rows of quantity 0 (https://github.com/binance/binance-public-data/issues/342): read, not refused.
      qty: nonNegative(f[2], 'quantity'),
      timeMs: timestamp(f[5], 'transact_time'),
      buyerIsMaker: maker === 'true',
    };
  },
  timeOf: (row) => row.timeMs,
  sameTimeAllowed: true,
};

/**
 * The rows of one file, in order, each with where it came from, a chunk of the file at a time. A first line that does
 * not start with a digit is the header and must name the format's columns; a line with the wrong number of fields, a
 * field that does not parse, or a time before the previous row's is a DataFileError naming the file and the line.
 */
export async function* readRowBatches<T>(path: string, format: CsvFormat<T>, meter?: ReadMeter): AsyncGenerator<(T & RowOrigin)[]> {
  let lastTimeMs = -Infinity;
  for await (const { firstLine, lines } of readLineBatches(path, meter)) {
    const batch: (T & RowOrigin)[] = [];
    for (let i = 0; i < lines.length; i += 1) {
      const line = firstLine + i;
      const text = lines[i] as string;
      // parse() builds a fresh object: it is completed in place rather than copied with its origin.
      const row = rowOfLine(path, format, text, line) as (T & RowOrigin) | null;
      if (row === null) continue;
      const timeMs = format.timeOf(row);
      checkFileOrder(path, line, timeMs, lastTimeMs, format.sameTimeAllowed);
      lastTimeMs = timeMs;
      row.file = path;
      row.line = line;
      batch.push(row);
    }
    if (batch.length > 0) yield batch;
  }
}

/** A row's time against the row above it in its file: earlier (or the same, where rows may not share one) is an error. */
export function checkFileOrder(path: string, line: number, timeMs: number, lastTimeMs: number, sameTimeAllowed: boolean): void {
  if (timeMs < lastTimeMs || (timeMs === lastTimeMs && !sameTimeAllowed)) {
    throw new DataFileError(path, line, `out of order: time ${timeMs} (${new Date(timeMs).toISOString()}) after ${lastTimeMs} (${new Date(lastTimeMs).toISOString()})`);
  }
}

/**
 * The seams between a symbol's files: a row before the previous file's last (or at its time, where rows may not share
 * one) is out of order. `check` returns that error (the caller throws it when its turn comes), or null. A class with
 * its last time in a field, the error made apart: it is asked at every row, and as a closure (its time in a variable
 * it held, boxed at every store) it was 8 % of a dense backtest.
 */
export class CrossFileOrder {
  private lastMs = -Infinity;

  check(timeMs: number, file: string, line: number, strictly: boolean): DataFileError | null {
    if (timeMs < this.lastMs || (strictly && timeMs === this.lastMs)) return beforePreviousFile(timeMs, file, line);
    this.lastMs = timeMs;
    return null;
  }
}

function beforePreviousFile(timeMs: number, file: string, line: number): DataFileError {
  return new DataFileError(file, line, `out of order: time ${timeMs} (${new Date(timeMs).toISOString()}) is before the previous file's last row`);
}

/**
 * One line as readRowBatches reads it: its row (on the fast path when the format has one and the line is past the
 * header), or null for a blank line or the header; a DataFileError naming the file and the line for anything else.
 */
export function rowOfLine<T>(path: string, format: CsvFormat<T>, text: string, line: number): T | null {
  return (line > 1 && format.parseLine !== undefined ? format.parseLine(text) : null) ?? generalRow(path, format, text, line);
}

/**
 * One line on the general path: its row, or null for a blank line or the header (line 1 when it does not start with a
 * digit: it must name the format's columns); a DataFileError naming the file and the line for anything else.
 */
function generalRow<T>(path: string, format: CsvFormat<T>, text: string, line: number): T | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const split = trimmed.split(',');
  const fields = /\s/.test(trimmed) ? split.map((f) => f.trim()) : split;
  if (line === 1 && !/^\d/.test(fields[0] ?? '')) {
    const expected = format.columns.join(',');
    if (fields.join(',').toLowerCase() !== expected) throw new DataFileError(path, line, `header is not Binance's ${format.name} header ${expected}: ${trimmed.slice(0, 200)}`);
    return null;
  }
  if (fields.length !== format.columns.length) {
    throw new DataFileError(path, line, `${fields.length} fields where ${format.name} has ${format.columns.length} (${format.columns.join(',')})`);
  }
  try {
    return format.parse(fields);
  } catch (error) {
    if (error instanceof RowError) throw new DataFileError(path, line, error.message);
    throw error;
  }
}

/** readRowBatches one row at a time. */
export async function* readRows<T>(path: string, format: CsvFormat<T>): AsyncGenerator<T & RowOrigin> {
  for await (const batch of readRowBatches(path, format)) yield* batch;
}
