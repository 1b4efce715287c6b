import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bookTickerFormat, readRows } from '../../src/backtest/data/binance-csv.js';
import type { BookTickerRow } from '../../src/backtest/data/binance-csv.js';

// A bookTicker line is read on its characters (parseLine) when every field is plain, the general path (split, trim,
// parse) reads the rest: the fast path must give the row the general path gives, and leave to it every line it
// would refuse, so its errors stay the same.

/** The general path's reading of a line (readRowBatches's, past the header): the row, or the reason it is refused. */
function general(line: string): BookTickerRow | string {
  const fields = line.trim().split(',');
  const trimmed = /\s/.test(line.trim()) ? fields.map((f) => f.trim()) : fields;
  if (trimmed.length !== bookTickerFormat.columns.length) return 'field count';
  try {
    return bookTickerFormat.parse(trimmed);
  } catch (error) {
    return (error as Error).message;
  }
}

const t0 = Date.UTC(2026, 0, 1);
/** Characters a fuzzed line is made of: the plain ones most, and some the fast path leaves to the general one. */
const unit = fc.constantFrom(...'0000111223456789....,,,', '-', ' ', 'e', '\t');
const field = fc.string({ unit, minLength: 0, maxLength: 14 });
const decimalText = fc.oneof(
  field,
  fc.tuple(fc.nat(99_999), fc.nat(999), fc.nat(3)).map(([i, f, d]) => (d === 0 ? String(i) : `${i}.${String(f).padStart(d, '0')}`)),
);
const timeText = fc.oneof(field, fc.integer({ min: t0 - 10, max: t0 + 10 }).map(String), fc.constantFrom('1420070399999', '4102444800000', '1767247200000000'));
const line = fc.oneof(
  fc.tuple(fc.oneof(field, fc.nat().map(String)), decimalText, decimalText, decimalText, decimalText, timeText, timeText).map((f) => f.join(',')),
  fc.string({ unit, maxLength: 60 }),
);

describe('bookTicker fast path', () => {
  it('reads a line as the general path does, or leaves it to it', () => {
    fc.assert(
      fc.property(line, (text) => {
        const fast = bookTickerFormat.parseLine?.(text) ?? null;
        if (fast !== null) expect(fast).toEqual(general(text));
      }),
      { numRuns: 50_000 },
    );
  });

  it('reads every line of the shipped bookTicker files (they are all plain)', async () => {
    const path = 'samples/binance-data/data/futures/um/daily/bookTicker/BTCUSDT/BTCUSDT-bookTicker-2026-01-01.zip';
    let rows = 0;
    for await (const row of readRows(path, bookTickerFormat)) {
      const { file: _file, line: _line, ...fields } = row;
      const text = [fields.updateId, fields.bid, fields.bidQty, fields.ask, fields.askQty, fields.transactionTimeMs, fields.eventTimeMs].join(',');
      expect(bookTickerFormat.parseLine?.(text)).toEqual(fields);
      rows += 1;
    }
    expect(rows).toBeGreaterThan(10_000);
  });

  it('leaves a line with a field it refuses to the general path', () => {
    const ok = `1,50000.0,1.5,50000.1,0.5,${t0},${t0 + 1}`;
    expect(bookTickerFormat.parseLine?.(ok)).toEqual(general(ok));
    for (const bad of [
      `1,50000.,1.5,50000.1,0.5,${t0},${t0 + 1}`,
      `1,.5,1.5,50000.1,0.5,${t0},${t0 + 1}`,
      `1,0.0,1.5,50000.1,0.5,${t0},${t0 + 1}`,
      `1,50000.0,1.5.1,50000.1,0.5,${t0},${t0 + 1}`,
      `1,50000.1,1.5,50000.1,0.5,${t0},${t0 + 1}`,
      `1.5,50000.0,1.5,50000.1,0.5,${t0},${t0 + 1}`,
      `1,50000.0,1.5,50000.1,0.5,1420070399999,${t0 + 1}`,
      `1,50000.0,1.5,50000.1,0.5,${t0},4102444800000`,
      `1,50000.0,1.5,50000.1,0.5,${t0}`,
      `1,50000.0,1.5,50000.1,0.5,${t0},${t0 + 1},`,
      `1,50000.0,,50000.1,0.5,${t0},${t0 + 1}`,
      '',
    ]) {
      expect(bookTickerFormat.parseLine?.(bad), bad).toBeNull();
      expect(typeof general(bad), bad).toBe('string');
    }
  });
});
