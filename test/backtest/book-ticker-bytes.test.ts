import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DataFile } from '../../src/backtest/data/catalog.js';
import type { BookTickerReader, Quote, TickGrid } from '../../src/backtest/data/quotes.js';
import { bookTickerQuoteBatches } from '../../src/backtest/data/quotes.js';
import { singleEntryZip } from '../../src/backtest/data/zip-writer.js';
import { readLineChunks } from '../../src/backtest/data/lines.js';
import { readPlainBookTicker } from '../../src/backtest/data/book-ticker-bytes.js';

// bookTicker files are read from their bytes (book-ticker-bytes.ts) with only the lines that are not plain cut out as
// text. The text reader, which read every file before, is the reading of record: over random files — plain rows and
// rows the fast path must leave to the text path (prices with extra decimals or off the tick grid, sizes finer than
// their scale, signs, spaces, stray characters, missing or extra fields), blank lines, a header or none, CRLF endings,
// no final newline, times out of order within a file and across files, zipped or plain, lines across the reader's
// 64 KiB chunks — both give the same quotes (file and line included), or fail with the same error.

const dir = mkdtempSync(join(tmpdir(), 'qe-book-bytes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const t0 = Date.UTC(2026, 0, 1);
const header = 'update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time';
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
const sizeText = fc
  .tuple(fc.nat(99_999), fc.nat(99_999), fc.nat(5))
  .map(([i, f, d]) => (d === 0 ? String(i) : `${i}.${String(f).padStart(5, '0').slice(0, d)}`));
/** Characters a broken field is made of: the plain ones most, and some only the text path reads (or refuses). */
const brokenField = fc.string({ unit: fc.constantFrom(...'0000111223456789....,', '-', ' ', 'e', '\t', '+', 'é'), maxLength: 14 });

interface RowSpec {
  kind: 'row' | 'broken' | 'blank';
  dt: number;
  fields: string[];
}

const row: fc.Arbitrary<RowSpec> = fc.oneof(
  {
    weight: 400,
    arbitrary: fc
      .tuple(fc.nat(), priceText, sizeText, fc.integer({ min: 0, max: 400 }), sizeText, fc.integer({ min: -1, max: 1_000 }), fc.nat(3))
      .map(([id, bid, bidQty, spreadTicks, askQty, dt, lag]): RowSpec => {
        // The ask a whole number of ticks above the bid's units (or at it: a locked book the reader refuses).
        const bidUnits = Math.round(Number(bid) * 100);
        const askUnits = bidUnits + spreadTicks * 5;
        const ask = `${Math.floor(askUnits / 100)}.${String(askUnits % 100).padStart(2, '0')}`;
        return { kind: 'row', dt, fields: [String(id), bid, bidQty, ask, askQty, '', String(lag)] };
      }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.array(brokenField, { minLength: 5, maxLength: 8 }), fc.nat(100)).map(([fields, dt]): RowSpec => ({ kind: 'broken', dt, fields })),
  },
  { weight: 4, arbitrary: fc.constant<RowSpec>({ kind: 'blank', dt: 0, fields: [] }) },
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

const fileSpec = (maxRows: number): fc.Arbitrary<FileSpec> =>
  fc.record({
    rows: fc.array(row, { minLength: 0, maxLength: maxRows }),
    header: fc.boolean(),
    crlf: fc.boolean(),
    finalNewline: fc.boolean(),
    zipped: fc.boolean(),
    startShiftMs: fc.integer({ min: -300, max: 1_000 }),
  });

let written = 0;

/** The files of one case, written out: their times run on from file to file (each row's dt after the one above). */
function writeFiles(specs: readonly FileSpec[]): DataFile[] {
  let timeMs = t0;
  return specs.map((spec) => {
    timeMs += spec.startShiftMs;
    const lines: string[] = spec.header ? [header] : [];
    for (const r of spec.rows) {
      if (r.kind === 'blank') lines.push('');
      else if (r.kind === 'broken') lines.push(r.fields.join(','));
      else {
        timeMs += r.dt;
        const fields = [...r.fields];
        fields[5] = String(timeMs);
        fields[6] = String(timeMs + Number(r.fields[6]));
        lines.push(fields.join(','));
      }
    }
    const eol = spec.crlf ? '\r\n' : '\n';
    const text = lines.join(eol) + (spec.finalNewline ? eol : '');
    written += 1;
    const name = `BTCUSDT-bookTicker-${written}.csv`;
    const path = join(dir, spec.zipped ? `${name}.zip` : name);
    writeFileSync(path, spec.zipped ? singleEntryZip(name, Buffer.from(text, 'utf8')) : text);
    return { path, symbol: 'BTCUSDT', kind: 'bookTicker', fromMs: t0, toMs: t0 + 86_400_000 };
  });
}

/** Every quote a reader gives, or the error it stops with (its message names the file and the line). */
async function readAll(
  files: readonly DataFile[],
  fromMs: number,
  toMs: number,
  qtyScale: number | undefined,
  reader: BookTickerReader,
): Promise<Quote[] | string> {
  const quotes: Quote[] = [];
  try {
    for await (const batch of bookTickerQuoteBatches(files, 'BTCUSDT', grid, fromMs, toMs, qtyScale, undefined, reader)) quotes.push(...batch);
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
  return quotes;
}

const bounds = fc.oneof(
  fc.constant<[number, number]>([-Infinity, Infinity]),
  fc
    .tuple(fc.integer({ min: -100, max: 20_000 }), fc.integer({ min: 0, max: 40_000 }))
    .map(([from, length]): [number, number] => [t0 + from, t0 + from + length]),
);

describe('bookTicker read from bytes', () => {
  it('gives the quotes the text reader gives, or fails with its error, over random files', async () => {
    let compared = 0;
    let failures = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fileSpec(40), { minLength: 1, maxLength: 3 }),
        bounds,
        fc.constantFrom(undefined, 0, 3),
        async (specs, [fromMs, toMs], qtyScale) => {
          const files = writeFiles(specs);
          const text = await readAll(files, fromMs, toMs, qtyScale, 'text');
          const bytes = await readAll(files, fromMs, toMs, qtyScale, 'bytes');
          expect(bytes).toEqual(text);
          compared += typeof text === 'string' ? 0 : text.length;
          failures += typeof text === 'string' ? 1 : 0;
        },
      ),
      { numRuns: 400 },
    );
    // Both sides were exercised: many quotes read, and many files refused.
    expect(compared).toBeGreaterThan(1_000);
    expect(failures).toBeGreaterThan(20);
  });

  it('reads lines across the 64 KiB chunks of a long file as the text reader does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          row.filter((r) => r.kind === 'row'),
          { minLength: 3_000, maxLength: 4_000 },
        ),
        fc.boolean(),
        fc.boolean(),
        async (rows, crlf, zipped) => {
          // Only plain rows that go forward in time: the whole file is read, chunk after chunk.
          const forward = rows.map((r) => ({ ...r, dt: Math.max(0, r.dt) }));
          const files = writeFiles([{ rows: forward, header: true, crlf, finalNewline: true, zipped, startShiftMs: 0 }]);
          const text = await readAll(files, -Infinity, Infinity, 3, 'text');
          expect(await readAll(files, -Infinity, Infinity, 3, 'bytes')).toEqual(text);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('reads every row of the shipped bookTicker files from their bytes (none is left to the text path)', async () => {
    const path = 'samples/binance-data/data/futures/um/daily/bookTicker/BTCUSDT/BTCUSDT-bookTicker-2026-01-01.zip';
    const read = { timeMs: 0, bidUnits: 0, askUnits: 0, bidQtyUnits: 0, askQtyUnits: 0, next: 0 };
    let rows = 0;
    for await (const { firstLine, bytes } of readLineChunks(path)) {
      // Past the header (line 1): BTCUSDT's grid, tick 0.10 at one decimal.
      for (let start = firstLine === 1 ? bytes.indexOf(10) + 1 : 0; start < bytes.length; start = read.next) {
        expect(readPlainBookTicker(bytes, start, 1, 1, 3, read)).toBe(true);
        rows += 1;
      }
    }
    expect(rows).toBeGreaterThan(10_000);
  });
});
