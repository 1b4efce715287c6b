import { maxExactDigits } from '../../model/decimal.js';
import { maxTimestampMs, minTimestampMs } from './binance-csv.js';

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
 * The values of the fields just read: [0] a field's, [1] a size read with its price (priceSizeEnd). A typed array, not
 * module variables: a double stored in a variable the module holds is boxed at every store (a timestamp is not a small
 * integer), and each line stores several.
 */
const fieldValue = new Float64Array(2);

// Each reader below takes the field starting at `i` and gives where it ends (the byte after it), or -1 when the field is
// not plain. They are small loops each of its own kind rather than one loop that asks per byte which kind it reads: a
// line's bytes are most of a dense backtest's reading (a quarter of a run that holds nothing, bench/backtest.ts).

/** 1 to maxExactDigits digits, their integer in fieldValue[0]. */
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

/** 1 to maxExactDigits digits, checked and not read (an id the quotes and prints do not keep). */
function idEnd(bytes: Uint8Array, i: number): number {
  const from = i;
  for (let c = bytes[i] as number; c >= 48 && c <= 57; c = bytes[i] as number) i += 1;
  return i === from || i - from > maxExactDigits ? -1 : i;
}

/** A millisecond timestamp between 2015 and 2100, as bookTickerFormat reads one, in fieldValue[0]. */
function timestampEnd(bytes: Uint8Array, i: number): number {
  const end = digitsEnd(bytes, i);
  return end >= 0 && (fieldValue[0] as number) >= minTimestampMs && (fieldValue[0] as number) < maxTimestampMs ? end : -1;
}

/**
 * A price: digits with at most one point (digits on both sides of it) and at most `scale` decimals, its units of
 * 10^-scale in fieldValue[0]; -1 also when more digits than a double holds exactly at that scale.
 */
function priceEnd(bytes: Uint8Array, i: number, scale: number): number {
  const from = i;
  let units = 0;
  let pointAt = -1;
  for (;;) {
    const c = bytes[i] as number;
    if (c >= 48 && c <= 57) units = units * 10 + (c - 48);
    else if (c === point && pointAt < 0 && i > from) pointAt = i;
    else break;
    i += 1;
  }
  if (i === from || pointAt === i - 1) return -1;
  const integerDigits = (pointAt < 0 ? i : pointAt) - from;
  const decimals = pointAt < 0 ? 0 : i - pointAt - 1;
  if (decimals > scale || integerDigits + scale > maxExactDigits) return -1;
  fieldValue[0] = units * (powersOfTen[scale - decimals] as number);
  return i;
}

/** A size checked and not read: digits with at most one point, digits on both sides of it. */
function plainEnd(bytes: Uint8Array, i: number): number {
  const from = i;
  let pointAt = -1;
  for (;;) {
    const c = bytes[i] as number;
    if (c === point && pointAt < 0 && i > from) pointAt = i;
    else if (c < 48 || c > 57) break;
    i += 1;
  }
  return i === from || pointAt === i - 1 ? -1 : i;
}

/**
 * A size floored to `scale` (a size is only ever a bound): digits with at most one point, digits on both sides of it,
 * its units of 10^-scale in fieldValue[0]; -1 also when its integer part and the scale take more digits than a double
 * holds exactly.
 */
function sizeEnd(bytes: Uint8Array, i: number, scale: number): number {
  let units = 0;
  let digits = 0;
  let kept = 0;
  let pointAt = -1;
  for (;;) {
    const c = bytes[i] as number;
    if (c >= 48 && c <= 57) {
      digits += 1;
      // Decimals past the scale are dropped.
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
  if (integerDigits + scale > maxExactDigits) return -1;
  fieldValue[0] = units * (powersOfTen[scale - (kept - integerDigits)] as number);
  return i;
}

/**
 * A price and its size, each ended by a comma: past both, the price's units in fieldValue[0] and the size's in
 * fieldValue[1] (floored to `qtyScale`; 0 and only checked when it is -1).
 */
function priceSizeEnd(bytes: Uint8Array, i: number, priceScale: number, qtyScale: number): number {
  i = priceEnd(bytes, i, priceScale);
  if (i < 0 || bytes[i] !== comma) return -1;
  const priceUnits = fieldValue[0] as number;
  i = qtyScale < 0 ? plainEnd(bytes, i + 1) : sizeEnd(bytes, i + 1, qtyScale);
  if (i < 0 || bytes[i] !== comma) return -1;
  fieldValue[1] = qtyScale < 0 ? 0 : (fieldValue[0] as number);
  fieldValue[0] = priceUnits;
  return i + 1;
}

/** Past the comma at `i` (-1: the field before it was not plain, or no comma ends it). */
function pastComma(bytes: Uint8Array, i: number): number {
  return i >= 0 && bytes[i] === comma ? i + 1 : -1;
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
  let i = priceSizeEnd(bytes, pastComma(bytes, idEnd(bytes, start)), priceScale, qtyScale);
  if (i < 0) return false;
  const bidUnits = fieldValue[0] as number;
  const bidQtyUnits = fieldValue[1] as number;
  i = priceSizeEnd(bytes, i, priceScale, qtyScale);
  if (i < 0) return false;
  const askUnits = fieldValue[0] as number;
  const askQtyUnits = fieldValue[1] as number;
  i = pastComma(bytes, timestampEnd(bytes, i));
  if (i < 0) return false;
  const timeMs = fieldValue[0] as number;
  const next = nextLineAt(bytes, timestampEnd(bytes, i));
  // A zero price (not positive), a crossed or locked book, a price off the grid: the text path says which.
  if (next < 0 || bidUnits === 0 || bidUnits >= askUnits || bidUnits % tickUnits !== 0 || askUnits % tickUnits !== 0) return false;
  out.timeMs = timeMs;
  out.bidUnits = bidUnits;
  out.askUnits = askUnits;
  out.bidQtyUnits = bidQtyUnits;
  out.askQtyUnits = askQtyUnits;
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
  let i = priceSizeEnd(bytes, pastComma(bytes, idEnd(bytes, start)), priceScale, qtyScale);
  if (i < 0) return false;
  const priceUnits = fieldValue[0] as number;
  const qtyUnits = fieldValue[1] as number;
  i = pastComma(bytes, timestampEnd(bytes, pastComma(bytes, idEnd(bytes, pastComma(bytes, idEnd(bytes, i))))));
  if (i < 0) return false;
  const timeMs = fieldValue[0] as number;
  const buyerIsMaker = spells(bytes, i, trueBytes);
  if (!buyerIsMaker && !spells(bytes, i, falseBytes)) return false;
  const next = nextLineAt(bytes, i + (buyerIsMaker ? trueBytes.length : falseBytes.length));
  if (next < 0 || priceUnits === 0 || priceUnits % tickUnits !== 0) return false;
  out.timeMs = timeMs;
  out.priceUnits = priceUnits;
  out.qtyUnits = qtyUnits;
  out.buyerIsMaker = buyerIsMaker;
  out.next = next;
  return true;
}
