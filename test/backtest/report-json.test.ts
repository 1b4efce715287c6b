import { mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/backtest/cli.js';
import { jsonWriteChunkChars, writeJson } from '../../src/backtest/report-json.js';
import type { BacktestResult } from '../../src/backtest/run-backtest.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';

// The JSON report of a long backtest. It holds every trade, ledger entry and order: ~2 KB a trade, so a run of
// ~260 000 trades (a year of one-a-second quotes at the crossover's pace) makes more JSON than the longest string V8
// can hold (2^29 − 24 characters), and a report made as one string threw at the very end of the run.

/** V8's longest string (characters), Node 20 on 64 bits. */
const maxStringChars = 2 ** 29 - 24;

/** Bytes `from` at `position` of a file. */
function bytesAt(path: string, position: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const out = Buffer.alloc(length);
    const read = readSync(fd, out, 0, length, position);
    return out.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** A seeded generator (mulberry32): the same values every run. */
function randomOf(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Every kind of value JSON.stringify treats apart, nested at random. */
function randomValue(random: () => number, depth: number): unknown {
  const leaves: (() => unknown)[] = [
    () => null,
    () => undefined,
    () => random() < 0.5,
    () => Math.floor(random() * 2_000) - 1_000,
    () => random() * 1e6,
    () => [Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, 5e-7][Math.floor(random() * 5)],
    () => ['', 'plain', 'two\nlines', 'a "quote" and \\', 'USDⓈ-M', '\u2028\u2029', '\ud800', '\t\u0001'][Math.floor(random() * 8)],
    () => new Date(Math.floor(random() * 2e12)),
    () => () => 1,
    () => Symbol('s'),
    () => ({ toJSON: (key: string) => `toJSON of ${key}` }),
    () => new Map([[1, 2]]),
  ];
  if (depth <= 0 || random() < 0.3) return (leaves[Math.floor(random() * leaves.length)] as () => unknown)();
  const size = Math.floor(random() * 5);
  if (random() < 0.5) {
    const list: unknown[] = Array.from({ length: size }, () => randomValue(random, depth - 1));
    if (random() < 0.2) list.length += 2; // holes
    return list;
  }
  const record: Record<string, unknown> = {};
  for (let i = 0; i < size; i += 1) record[['a', 'b c', '"q"', '0', '__x', 'é'][Math.floor(random() * 6)] + String(i)] = randomValue(random, depth - 1);
  return random() < 0.1 ? Object.assign(Object.create(null) as Record<string, unknown>, record) : record;
}

/** What writeJson gives for a value, and its pieces. */
async function written(value: unknown): Promise<{ text: string; pieces: string[] }> {
  const pieces: string[] = [];
  await writeJson(value, (piece) => {
    pieces.push(piece);
  });
  return { text: pieces.join(''), pieces };
}

describe('JSON written in pieces', () => {
  it('is what JSON.stringify(value, null, 2) gives, for 2 000 random values', async () => {
    const random = randomOf(14);
    for (let i = 0; i < 2_000; i += 1) {
      const value = randomValue(random, 4);
      const expected = JSON.stringify(value, null, 2);
      if (expected === undefined) await expect(written(value)).rejects.toThrow(/no JSON/);
      else expect((await written(value)).text, `value ${i}`).toBe(expected);
    }
  });

  it('hands on pieces of about its chunk, never the whole', async () => {
    const row = { symbol: 'BTCUSDT', price: '97000.1', note: 'x'.repeat(100) };
    const value = { rows: new Array<typeof row>(20_000).fill(row), tail: { done: true } };
    const { text, pieces } = await written(value);
    expect(text).toBe(JSON.stringify(value, null, 2));
    expect(pieces.length).toBeGreaterThan(10);
    const longestRow = JSON.stringify(row, null, 2).length * 2;
    for (const piece of pieces) expect(piece.length).toBeLessThan(jsonWriteChunkChars + longestRow);
  });
});

describe('backtest JSON report', () => {
  let result: BacktestResult;
  const dirs: string[] = [];
  const outDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'qe-report-json-'));
    dirs.push(dir);
    return dir;
  };
  beforeAll(async () => {
    result = await runBacktest({
      ...defaultBacktestOptions,
      dataDir: 'samples/binance-data',
      symbols: ['BTCUSDT'],
      fromMs: Date.parse('2026-01-01T06:00:00Z'),
      toMs: Date.parse('2026-01-01T07:00:00Z'),
      quotes: 'bookTicker',
      strategy: crossoverStrategy(),
      capitalUsd: 10_000,
    });
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('is the report as JSON.stringify writes it, indented by two', async () => {
    expect(result.ledger.length).toBeGreaterThan(0);
    const { jsonReportPath } = await writeReport(outDir(), result);
    expect(readFileSync(jsonReportPath, 'utf8')).toBe(`${JSON.stringify(result, null, 2)}\n`);
  });

  it('is written whole when it is longer than the longest string', { timeout: 120_000 }, async () => {
    const entry = result.ledger[0] as BacktestResult['ledger'][number];
    // The same entry many times over: a report of ~600 MB from a few MB of memory.
    const small = { ...result, ledger: [entry, entry] };
    const smallText = `${JSON.stringify(small, null, 2)}\n`;
    const oneMore = Buffer.byteLength(`${JSON.stringify({ ...result, ledger: [entry, entry, entry] }, null, 2)}\n`) - Buffer.byteLength(smallText);
    const entries = Math.ceil(maxStringChars / oneMore) + 1_000;
    const big: BacktestResult = { ...result, ledger: new Array<typeof entry>(entries).fill(entry) };

    const { jsonReportPath } = await writeReport(outDir(), big);

    const size = statSync(jsonReportPath).size;
    expect(size).toBeGreaterThan(maxStringChars);
    expect(size).toBe(Buffer.byteLength(smallText) + (entries - 2) * oneMore);
    // Its start, through the ledger's first entries, and its end, from within them, are the small report's (every
    // entry the same, the first two and the last two look alike).
    const smallBytes = Buffer.from(smallText);
    const ledgerAt = smallBytes.indexOf('"ledger": [');
    const head = ledgerAt + oneMore;
    expect(bytesAt(jsonReportPath, 0, head).equals(smallBytes.subarray(0, head))).toBe(true);
    const tail = smallBytes.length - ledgerAt - oneMore;
    expect(bytesAt(jsonReportPath, size - tail, tail).equals(smallBytes.subarray(smallBytes.length - tail))).toBe(true);
  });
});
