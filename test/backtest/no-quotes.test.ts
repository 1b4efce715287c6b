import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { sampleDataDir } from '../../src/backtest/cli.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';

// A period with no quotes is refused with the period in words. With --to left open the message used to be built from
// new Date(Infinity).toISOString(), which threw a RangeError ("Invalid time value") instead.
describe('a backtest over a period without quotes', () => {
  it('says so, naming an open end of the period in words', async () => {
    const run = runBacktest({
      ...defaultBacktestOptions,
      dataDir: sampleDataDir,
      symbols: ['BTCUSDT'],
      quotes: 'bookTicker',
      fromMs: Date.parse('2026-01-01T11:00:00Z'),
      toMs: null,
      strategy: crossoverStrategy(),
      capitalUsd: 10_000,
    });
    await expect(run).rejects.toThrow(/^no quotes for BTCUSDT in .* between 2026-01-01T11:00:00.000Z and its end$/);
  });

  it('names the period when no file covers it (not as if the directory held none)', async () => {
    const base = { ...defaultBacktestOptions, dataDir: sampleDataDir, symbols: ['BTCUSDT'], strategy: crossoverStrategy(), capitalUsd: 10_000 };
    const after = Date.parse('2027-01-01T00:00:00Z');
    await expect(runBacktest({ ...base, quotes: 'auto', fromMs: after, toMs: null })).rejects.toThrow(
      /^no bookTicker or klines files for BTCUSDT in .* between 2027-01-01T00:00:00.000Z and its end; it holds BTCUSDT aggTrades for 2026-01-01 to 2026-01-01, bookTicker for 2026-01-01 to 2026-01-01, fundingRate for 2026-01-01 to 2026-01-31, 1m klines for 2026-01-01 to 2026-01-02$/,
    );
    await expect(runBacktest({ ...base, quotes: 'bookTicker', fromMs: null, toMs: Date.parse('2025-01-01T00:00:00Z') })).rejects.toThrow(
      /^no bookTicker files for BTCUSDT in .* between the start of the data and 2025-01-01T00:00:00.000Z; it holds BTCUSDT aggTrades for 2026-01-01 to 2026-01-01, bookTicker for/,
    );
  });

  it('names the files it looks for when the directory holds none of the symbol', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'qe-no-data-'));
    // A file named otherwise is not the archive's: it is passed over, and the message says what names count.
    writeFileSync(join(empty, 'btcusdt_book.csv'), '1,2,3\n');
    const run = runBacktest({
      ...defaultBacktestOptions,
      dataDir: empty,
      symbols: ['BTCUSDT'],
      fromMs: null,
      toMs: null,
      strategy: crossoverStrategy(),
      capitalUsd: 10_000,
    });
    await expect(run).rejects.toThrow(
      /^no bookTicker or klines files for BTCUSDT in .*; it holds no file of BTCUSDT \(files are found by the archive's names, \.zip or \.csv, in any folder: BTCUSDT-bookTicker-2026-01-01, BTCUSDT-1m-2026-01-01, /,
    );
  });

  it('says a data directory that is not there is not there', async () => {
    const run = runBacktest({
      ...defaultBacktestOptions,
      dataDir: '/no/such/dir',
      symbols: ['BTCUSDT'],
      fromMs: null,
      toMs: null,
      strategy: crossoverStrategy(),
      capitalUsd: 10_000,
    });
    await expect(run).rejects.toThrow(/^no data directory at \/no\/such\/dir$/);
  });
});
