import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DataFile, DataKind } from '../../src/backtest/data/catalog.js';
import type { RowReader, TickGrid } from '../../src/backtest/data/quotes.js';
import { bookTickerQuoteBatches, tradePrintBatches } from '../../src/backtest/data/quotes.js';
import { singleEntryZip } from '../../src/backtest/data/zip-writer.js';
import { maxLineBytes, readLineBatches, readLineChunks } from '../../src/backtest/data/lines.js';
import { readPlainAggTrade, readPlainBookTicker } from '../../src/backtest/data/plain-rows.js';

// bookTicker and aggTrades files are read from their bytes (plain-rows.ts, byte-rows.ts) with only the lines that are
// not plain cut out as text. The text reader, which read every file before, is the reading of record: over random
// files — plain rows and rows the fast path must leave to the text path (prices with extra decimals or off the tick
// grid, sizes finer than their scale, signs, spaces, stray characters, missing or extra fields, True for true), blank
// lines, a header or none, CRLF endings, no final newline, times out of order within a file and across files, zipped
// or plain, lines across the reader's 64 KiB chunks — both give the same quotes and prints (file and line included),
// or fail with the same error.

const dir = mkdtempSync(join(tmpdir(), 'qe-plain-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const t0 = Date.UTC(2026, 0, 1);
/** A grid whose tick (0.05) is coarser than its scale (2 decimals): a price can be plain and still off the grid. */
const grid: TickGrid = { priceScale: 2, tickUnits: 5n };

/** A price on the grid (mostly), as text: sometimes with zeros past the scale or no decimals, rarely off the grid or finer. */
const priceForm = fc.oneof(
  { weight: 300, arbitrary: fc.constant('plain') },
  { weight: 10, arbitrary: fc.constant('padded') },
  { weight: 10, arbitrary: fc.constant('whole') },
  { weight: 1, arbitrary: fc.constant('fine') },
  { weight: 1, arbitrary: fc.constant('offGrid') },
);
const priceText = fc.tuple(fc.integer({ min: 0, max: 800_000 }), priceForm).map(([ticks, form]) => {
  const units = ticks * 5 + (form === 'offGrid' ? 1 : 0);
  const text = `${Math.floor(units / 100)}.${String(units % 100).padStart(2, '0')}`;
  if (form === 'padded') return `${text}0`;
  if (form === 'whole') return String(Math.floor(units / 100));
  if (form === 'fine') return `${text}7`;
  return text;
});
/** A size, sometimes finer than any scale read (floored), sometimes zero (a print of quantity 0 is dropped). */
const sizeText = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.tuple(fc.nat(99_999), fc.nat(99_999), fc.nat(5)).map(([i, f, d]) => (d === 0 ? String(i) : `${i}.${String(f).padStart(5, '0').slice(0, d)}`)),
  },
  { weight: 1, arbitrary: fc.constantFrom('0', '0.000', '0.0001') },
);
/** Characters a broken field is made of: the plain ones most, and some only the text path reads (or refuses). */
const brokenField = fc.string({ unit: fc.constantFrom(...'0000111223456789....,', '-', ' ', 'e', '\t', '+', 'é'), maxLength: 14 });

/** A field made nearly plain: a second point, a point at an end, a sign, spaces, an exponent, too many digits, nothing. */
const nearlyPlain = fc.constantFrom<(field: string) => string>(
  (f) => `${f}.5`,
  (f) => `${f}.`,
  (f) => `.${f}`,
  (f) => `-${f}`,
  (f) => `+${f}`,
  (f) => ` ${f}`,
  (f) => `${f} `,
  (f) => `${f}e0`,
  (f) => `${f}0000000000000000`,
  (f) => `0000000000000000${f}`,
  () => '',
);

/** A line of a file: a row made at its time (`dt` after the row above), a broken one as its fields, or a blank one. */
interface RowSpec {
  kind: 'row' | 'broken' | 'blank';
  dt: number;
  fields: string[];
  make?: (timeMs: number) => string[];
}

interface Format {
  kind: DataKind;
  header: string;
  /** The fields of a row written at `timeMs`. */
  row: fc.Arbitrary<(timeMs: number) => string[]>;
  read(files: DataFile[], fromMs: number, toMs: number, qtyScale: number | undefined, reader: RowReader): AsyncGenerator<unknown[]>;
}

const bookTicker: Format = {
  kind: 'bookTicker',
  header: 'update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time',
  row: fc.tuple(fc.nat(), priceText, sizeText, fc.integer({ min: 0, max: 400 }), sizeText, fc.nat(3)).map(([id, bid, bidQty, spreadTicks, askQty, lag]) => {
    // The ask a whole number of ticks above the bid (or at it: a locked book the reader refuses).
    const askUnits = Math.round(Number(bid) * 100) + spreadTicks * 5;
    const ask = `${Math.floor(askUnits / 100)}.${String(askUnits % 100).padStart(2, '0')}`;
    return (timeMs: number) => [String(id), bid, bidQty, ask, askQty, String(timeMs), String(timeMs + lag)];
  }),
  read: (files, fromMs, toMs, qtyScale, reader) => bookTickerQuoteBatches(files, 'BTCUSDT', grid, fromMs, toMs, qtyScale, undefined, reader),
};

const aggTrades: Format = {
  kind: 'aggTrades',
  header: 'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker',
  row: fc
    .tuple(
      fc.nat(),
      priceText,
      sizeText,
      fc.nat(),
      fc.nat(5),
      fc.oneof({ weight: 20, arbitrary: fc.constantFrom('true', 'false') }, { weight: 1, arbitrary: fc.constantFrom('True', 'FALSE', 'yes') }),
    )
    .map(([id, price, qty, first, count, maker]) => (timeMs: number) => [String(id), price, qty, String(first), String(first + count), String(timeMs), maker]),
  // Prints are read at a quantity scale always (3 when none is asked for).
  read: (files, fromMs, toMs, qtyScale, reader) => tradePrintBatches(files, 'BTCUSDT', grid, qtyScale ?? 3, fromMs, toMs, undefined, reader),
};

const rowOf = (format: Format): fc.Arbitrary<RowSpec> =>
  fc.oneof(
    { weight: 400, arbitrary: fc.tuple(format.row, fc.integer({ min: -1, max: 1_000 })).map(([make, dt]): RowSpec => ({ kind: 'row', dt, fields: [], make })) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.array(brokenField, { minLength: 5, maxLength: 8 }), fc.nat(100)).map(([fields, dt]): RowSpec => ({ kind: 'broken', dt, fields })),
    },
    { weight: 4, arbitrary: fc.constant<RowSpec>({ kind: 'blank', dt: 0, fields: [] }) },
    // A good row with one field made nearly plain: the fast path must leave it to the text path, which reads or refuses it.
    {
      weight: 4,
      arbitrary: fc.tuple(format.row, fc.integer({ min: 0, max: 1_000 }), fc.nat(6), nearlyPlain).map(([make, dt, at, spoil]): RowSpec => ({
        kind: 'row',
        dt,
        fields: [],
        make: (timeMs) => make(timeMs).map((field, i) => (i === at ? spoil(field) : field)),
      })),
    },
  );

interface FileSpec {
  rows: RowSpec[];
  header: boolean;
  crlf: boolean;
  finalNewline: boolean;
  zipped: boolean;
  /** Where this file's times start against the last file's end: an overlap puts a row before the previous file's last. */
  startShiftMs: number;
}

const fileSpec = (format: Format, maxRows: number): fc.Arbitrary<FileSpec> =>
  fc.record({
    rows: fc.array(rowOf(format), { minLength: 0, maxLength: maxRows }),
    header: fc.boolean(),
    crlf: fc.boolean(),
    finalNewline: fc.boolean(),
    zipped: fc.boolean(),
    startShiftMs: fc.integer({ min: -300, max: 1_000 }),
  });

let written = 0;

/** The files of one case, written out: their times run on from file to file (each row's dt after the one above). */
function writeFiles(format: Format, specs: readonly FileSpec[]): DataFile[] {
  let timeMs = t0;
  return specs.map((spec) => {
    timeMs += spec.startShiftMs;
    const lines: string[] = spec.header ? [format.header] : [];
    for (const r of spec.rows) {
      if (r.kind === 'blank') lines.push('');
      else if (r.kind === 'broken' || r.make === undefined) lines.push(r.fields.join(','));
      else {
        timeMs += r.dt;
        lines.push(r.make(timeMs).join(','));
      }
    }
    const eol = spec.crlf ? '\r\n' : '\n';
    const text = lines.join(eol) + (spec.finalNewline ? eol : '');
    written += 1;
    const name = `BTCUSDT-${format.kind}-${written}.csv`;
    const path = join(dir, spec.zipped ? `${name}.zip` : name);
    writeFileSync(path, spec.zipped ? singleEntryZip(name, Buffer.from(text, 'utf8')) : text);
    return { path, symbol: 'BTCUSDT', kind: format.kind, fromMs: t0, toMs: t0 + 86_400_000 };
  });
}

/** Every item a reader gives, or the error it stops with (its message names the file and the line). */
async function readAll(
  format: Format,
  files: DataFile[],
  fromMs: number,
  toMs: number,
  qtyScale: number | undefined,
  reader: RowReader,
): Promise<unknown[] | string> {
  const items: unknown[] = [];
  try {
    for await (const batch of format.read(files, fromMs, toMs, qtyScale, reader)) items.push(...batch);
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
  return items;
}

const bounds = fc.oneof(
  fc.constant<[number, number]>([-Infinity, Infinity]),
  fc
    .tuple(fc.integer({ min: -100, max: 20_000 }), fc.integer({ min: 0, max: 40_000 }))
    .map(([from, length]): [number, number] => [t0 + from, t0 + from + length]),
);

describe.each([bookTicker, aggTrades])('$kind read from bytes', (format) => {
  it('gives what the text reader gives, or fails with its error, over random files', async () => {
    let compared = 0;
    let failures = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fileSpec(format, 40), { minLength: 1, maxLength: 3 }),
        bounds,
        fc.constantFrom(undefined, 0, 3),
        async (specs, [fromMs, toMs], qtyScale) => {
          const files = writeFiles(format, specs);
          const text = await readAll(format, files, fromMs, toMs, qtyScale, 'text');
          const bytes = await readAll(format, files, fromMs, toMs, qtyScale, 'bytes');
          expect(bytes).toEqual(text);
          compared += typeof text === 'string' ? 0 : text.length;
          failures += typeof text === 'string' ? 1 : 0;
        },
      ),
      { numRuns: 400 },
    );
    // Both sides were exercised: many rows read, and many files refused.
    expect(compared).toBeGreaterThan(1_000);
    expect(failures).toBeGreaterThan(20);
  });

  it('leaves a row with one field nearly plain to the text reader, whatever the field', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(format.row, fc.nat(6), nearlyPlain, fc.constantFrom(undefined, 3), async (make, at, spoil, qtyScale) => {
        const spoiled = make(t0 + 1).map((field, i) => (i === at ? spoil(field) : field));
        const files = writeFiles(format, [
          {
            rows: [
              { kind: 'row', dt: 0, fields: [], make },
              { kind: 'broken', dt: 0, fields: spoiled },
            ],
            header: true,
            crlf: false,
            finalNewline: true,
            zipped: false,
            startShiftMs: 0,
          },
        ]);
        const text = await readAll(format, files, -Infinity, Infinity, qtyScale, 'text');
        expect(await readAll(format, files, -Infinity, Infinity, qtyScale, 'bytes')).toEqual(text);
        refused += typeof text === 'string' ? 1 : 0;
      }),
      { numRuns: 1_500 },
    );
    expect(refused).toBeGreaterThan(300);
  });

  it('reads lines across the 64 KiB chunks of a long file as the text reader does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(format.row, { minLength: 3_000, maxLength: 4_000 }), fc.boolean(), fc.boolean(), async (makes, crlf, zipped) => {
        // Only rows that go forward in time: the whole file is read, chunk after chunk.
        const rows = makes.map((make, i): RowSpec => ({ kind: 'row', dt: i % 7, fields: [], make }));
        const files = writeFiles(format, [{ rows, header: true, crlf, finalNewline: true, zipped, startShiftMs: 0 }]);
        const text = await readAll(format, files, -Infinity, Infinity, 3, 'text');
        expect(await readAll(format, files, -Infinity, Infinity, 3, 'bytes')).toEqual(text);
      }),
      { numRuns: 6 },
    );
  });
});

describe('the shipped sample read from bytes', () => {
  it.each([
    ['bookTicker', 'samples/binance-data/data/futures/um/daily/bookTicker/BTCUSDT/BTCUSDT-bookTicker-2026-01-01.zip'],
    ['aggTrades', 'samples/binance-data/data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2026-01-01.zip'],
  ])('reads every row of the %s file from its bytes (none is left to the text path)', async (kind, path) => {
    const read = { timeMs: 0, next: 0, bidUnits: 0, askUnits: 0, bidQtyUnits: 0, askQtyUnits: 0, priceUnits: 0, qtyUnits: 0, buyerIsMaker: false };
    let rows = 0;
    for await (const { firstLine, bytes } of readLineChunks(path)) {
      // Past the header (line 1): BTCUSDT's grid, tick 0.10 at one decimal, sizes at three.
      for (let start = firstLine === 1 ? bytes.indexOf(10) + 1 : 0; start < bytes.length; start = read.next) {
        expect(kind === 'bookTicker' ? readPlainBookTicker(bytes, start, 1, 1, 3, read) : readPlainAggTrade(bytes, start, 1, 1, 3, read)).toBe(true);
        rows += 1;
      }
    }
    expect(rows).toBeGreaterThan(10_000);
  });
});

describe('a line longer than the bound', () => {
  it.each([false, true])('is refused at its line, by the text and the bytes reader alike (zipped: %s)', async (zipped) => {
    // A row, then a line of twice the bound: refused once the part of it read without its newline passes the bound.
    const files = writeFiles(bookTicker, [
      {
        rows: [
          { kind: 'row', dt: 0, fields: [], make: (timeMs) => ['1', '100.05', '1', '100.10', '1', String(timeMs), String(timeMs)] },
          { kind: 'broken', dt: 0, fields: ['x'.repeat(2 * maxLineBytes)] },
        ],
        header: true,
        crlf: false,
        finalNewline: true,
        zipped,
        startShiftMs: 0,
      },
    ]);
    const path = (files[0] as DataFile).path;
    const expected = `${path}:3: a line longer than ${maxLineBytes} bytes`;
    await expect(readAll(bookTicker, files, -Infinity, Infinity, undefined, 'text')).resolves.toBe(`Error: ${expected}`);
    await expect(readAll(bookTicker, files, -Infinity, Infinity, undefined, 'bytes')).resolves.toBe(`Error: ${expected}`);
    // A line at the bound is read, not refused (the text reader's lines of it end with it).
    const atBound = writeFiles(bookTicker, [
      { rows: [{ kind: 'broken', dt: 0, fields: ['x'.repeat(maxLineBytes)] }], header: false, crlf: false, finalNewline: false, zipped, startShiftMs: 0 },
    ]);
    const lines: string[] = [];
    for await (const batch of readLineBatches((atBound[0] as DataFile).path)) lines.push(...batch.lines);
    expect(lines.map((l) => l.length)).toEqual([maxLineBytes]);
  });
});
