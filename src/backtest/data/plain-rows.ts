import { maxExactDigits, maxTimestampMs, minTimestampMs } from './binance-csv.js';

// One bookTicker or aggTrades line read from the file's bytes (lines.ts readLineChunks), for the quotes and prints a
// backtest runs on: the line as text (cut out, decoded, its fields checked character by character and its prices read
// again into units) was more than half of a quote's whole cost in a run that held nothing, and an aggTrades row had no
// fast path at all (split, trimmed and parsed: a tenth of a run with queue fills). Only a plain line is read here, one
// the format reads (bookTickerFormat.parseLine, aggTradeFormat.parse) and whose prices plainUnits reads on the symbol's
// grid; anything else is left to the text path (byte-rows.ts), so what a run reads, and every error with its file and
// line, stays as it was.

/** What a plain line reader read of one line: written by it, read at once (one object, reused line after line). */
export interface PlainRead {
  /** The row's time (a quote's transaction time, a print's transact time). */
  timeMs: number;
  /** Where the next line starts (past this one's newline; the end of the bytes after the file's last line). */
  next: number;
}

/** What readPlainBookTicker read of one line. */
export interface PlainBookTicker extends PlainRead {
  /** Prices in units of 10^-priceScale, on the tick grid (exact integers: at most maxExactDigits digits). */
  bidUnits: number;
  askUnits: number;
  /** Sizes floored to units of 10^-qtyScale; 0 when they were not asked for (qtyScale -1). */
  bidQtyUnits: number;
  askQtyUnits: number;
}

/** What readPlainAggTrade read of one line. */
export interface PlainAggTrade extends PlainRead {
  /** The price in units of 10^-priceScale, on the tick grid; the quantity floored to units of 10^-qtyScale. */
  priceUnits: number;
  qtyUnits: number;
  buyerIsMaker: boolean;
}

/** 10^0 .. 10^maxExactDigits, exact doubles. */
const powersOfTen: readonly number[] = Array.from({ length: maxExactDigits + 1 }, (_, n) => 10 ** n);

const comma = 44;
const point = 46;
const newline = 10;
const carriageReturn = 13;

/**
 * The value of the field just read. A typed array, not a module variable: a double stored in a variable the module
 * holds is boxed at every store (a timestamp is not a small integer), and each line stores several.
 */
const fieldValue = new Float64Array(1);

/** How a field of a plain line is read: digits, a price on the grid, a size floored to its scale, a timestamp. */
type FieldKind = 'integer' | 'price' | 'size' | 'time';
/** A bookTicker row's fields in order: update id, bid, bid size, ask, ask size, transaction and event times. */
const bookTickerFields: readonly FieldKind[] = ['integer', 'price', 'size', 'price', 'size', 'time', 'time'];
/** An aggTrades row's fields before is_buyer_maker: agg trade id, price, quantity, first and last trade ids, transact time. */
const aggTradeFields: readonly FieldKind[] = ['integer', 'price', 'size', 'integer', 'integer', 'time'];
/** The line's fields as read (one line at a time). */
const fieldValues = new Float64Array(bookTickerFields.length);

/** Digits from `i` (1 to maxExactDigits of them): where they end, their integer in fieldValue; -1 for anything else. */
function digitsEnd(bytes: Uint8Array, i: number): number {
  const from = i;
  let value = 0;
  for (let c = bytes[i] as number; c >= 48 && c <= 57; c = bytes[i] as number) {
    value = value * 10 + (c - 48);
    i += 1;
  }
  if (i === from || i - from > maxExactDigits) return -1;
  fieldValue[0] = value;
  return i;
}

/**
 * A plain decimal from `i` up to the first byte that is neither a digit nor its one point (digits on both sides of
 * it), at `scale`: floored to it when `floor` (a size), else only when it has at most `scale` decimals (a price). Where
 * it ends, its units in fieldValue; -1 for anything else, or for more digits than a double holds exactly at that scale.
 */
function decimalEnd(bytes: Uint8Array, i: number, scale: number, floor: boolean): number {
  let units = 0;
  let digits = 0;
  let kept = 0;
  let pointAt = -1;
  for (;;) {
    const c = bytes[i] as number;
    if (c >= 48 && c <= 57) {
      digits += 1;
      // Decimals past the scale are dropped when flooring (a size is only ever a bound).
      if (pointAt < 0 || digits - pointAt <= scale) {
        units = units * 10 + (c - 48);
        kept += 1;
      }
    } else if (c === point && pointAt < 0 && digits > 0) pointAt = digits;
    else break;
    i += 1;
  }
  if (digits === 0 || pointAt === digits) return -1;
  const integerDigits = pointAt < 0 ? digits : pointAt;
  if ((!floor && digits - integerDigits > scale) || integerDigits + scale > maxExactDigits) return -1;
  fieldValue[0] = units * (powersOfTen[scale - (kept - integerDigits)] as number);
  return i;
}

/** A millisecond timestamp field between 2015 and 2100 from `i`, as bookTickerFormat reads one: where it ends, or -1. */
function timestampEnd(bytes: Uint8Array, i: number): number {
  const end = digitsEnd(bytes, i);
  return end >= 0 && (fieldValue[0] as number) >= minTimestampMs && (fieldValue[0] as number) < maxTimestampMs ? end : -1;
}

/**
 * The fields of a plain line from `start`, by `kinds`, comma-separated, into fieldValues: where the last one ends, or
 * -1 at the first that is not plain (prices at `priceScale`, sizes floored to `sizeScale`).
 */
function fieldsEnd(bytes: Uint8Array, start: number, kinds: readonly FieldKind[], priceScale: number, sizeScale: number): number {
  let i = start;
  for (let f = 0; f < kinds.length; f += 1) {
    if (f > 0) {
      if (bytes[i] !== comma) return -1;
      i += 1;
    }
    const kind = kinds[f];
    i =
      kind === 'integer'
        ? digitsEnd(bytes, i)
        : kind === 'price'
          ? decimalEnd(bytes, i, priceScale, false)
          : kind === 'size'
            ? decimalEnd(bytes, i, sizeScale, true)
            : timestampEnd(bytes, i);
    if (i < 0) return -1;
    fieldValues[f] = fieldValue[0] as number;
  }
  return i;
}

/** Where the next line starts when the line's last field ends at `i`: past a newline (a carriage return before it), at the end of the bytes; -1 for anything else. */
function nextLineAt(bytes: Uint8Array, i: number): number {
  if (i === bytes.length) return i;
  if (bytes[i] === newline) return i + 1;
  if (bytes[i] === carriageReturn && bytes[i + 1] === newline) return i + 2;
  return -1;
}

/**
 * The line starting at `start`, when it is plain: seven fields (update id, bid, bid size, ask, ask size, transaction
 * and event times), prices positive and on the grid (`tickUnits` apart at `priceScale`), sizes non-negative, times
 * between 2015 and 2100, the bid below the ask, the line ended by a newline (a carriage return before it) or by the end
 * of the bytes. Sizes are read at `qtyScale` (-1: checked, not read). False for any other line: the text path reads it.
 */
export function readPlainBookTicker(bytes: Uint8Array, start: number, priceScale: number, tickUnits: number, qtyScale: number, out: PlainBookTicker): boolean {
  const next = nextLineAt(bytes, fieldsEnd(bytes, start, bookTickerFields, priceScale, Math.max(0, qtyScale)));
  if (next < 0) return false;
  const bidUnits = fieldValues[1] as number;
  const askUnits = fieldValues[3] as number;
  // A zero price (not positive), a crossed or locked book, a price off the grid: the text path says which.
  if (bidUnits === 0 || bidUnits >= askUnits || bidUnits % tickUnits !== 0 || askUnits % tickUnits !== 0) return false;
  out.timeMs = fieldValues[5] as number;
  out.bidUnits = bidUnits;
  out.askUnits = askUnits;
  out.bidQtyUnits = qtyScale < 0 ? 0 : (fieldValues[2] as number);
  out.askQtyUnits = qtyScale < 0 ? 0 : (fieldValues[4] as number);
  out.next = next;
  return true;
}

const trueBytes = [116, 114, 117, 101] as const;
const falseBytes = [102, 97, 108, 115, 101] as const;

/** Whether the bytes from `i` spell `word`. */
function spells(bytes: Uint8Array, i: number, word: readonly number[]): boolean {
  for (let k = 0; k < word.length; k += 1) if (bytes[i + k] !== word[k]) return false;
  return true;
}

/**
 * The line starting at `start`, when it is plain: seven fields (agg trade id, price, quantity, first and last trade
 * ids, transact time, is_buyer_maker), the price positive and on the grid, the quantity non-negative (floored to
 * `qtyScale`), the time between 2015 and 2100, is_buyer_maker `true` or `false` as the archive prints it, the line ended
 * as readPlainBookTicker's. False for any other line: the text path reads it.
 */
export function readPlainAggTrade(bytes: Uint8Array, start: number, priceScale: number, tickUnits: number, qtyScale: number, out: PlainAggTrade): boolean {
  let i = fieldsEnd(bytes, start, aggTradeFields, priceScale, qtyScale);
  if (i < 0 || bytes[i] !== comma) return false;
  i += 1;
  const buyerIsMaker = spells(bytes, i, trueBytes);
  if (!buyerIsMaker && !spells(bytes, i, falseBytes)) return false;
  const next = nextLineAt(bytes, i + (buyerIsMaker ? trueBytes.length : falseBytes.length));
  const priceUnits = fieldValues[1] as number;
  if (next < 0 || priceUnits === 0 || priceUnits % tickUnits !== 0) return false;
  out.timeMs = fieldValues[5] as number;
  out.priceUnits = priceUnits;
  out.qtyUnits = fieldValues[2] as number;
  out.buyerIsMaker = buyerIsMaker;
  out.next = next;
  return true;
}
