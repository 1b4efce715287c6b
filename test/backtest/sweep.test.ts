import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import type { SweepBaseOptions, SweepRow } from '../../src/backtest/sweep.js';
import { crossoverOf, parseSweep, runSweep, sweepTable } from '../../src/backtest/sweep.js';

const run = promisify(execFile);

const base: SweepBaseOptions = {
  ...defaultBacktestOptions,
  dataDir: 'samples/binance-data',
  symbols: ['BTCUSDT'],
  fromMs: Date.parse('2026-01-01T06:00:00Z'),
  toMs: Date.parse('2026-01-01T06:40:00Z'),
  quotes: 'bookTicker',
  capitalUsd: 10_000,
};

describe('backtest parameter sweep', () => {
  it('reads fast=RANGE slow=RANGE as the grid of pairs with slow > fast', () => {
    // Equal windows are left out: the two means are one, and the run never trades.
    expect(parseSweep(['fast=5..7', 'slow=6..7'])).toEqual([
      { fast: 5, slow: 6 },
      { fast: 5, slow: 7 },
      { fast: 6, slow: 7 },
    ]);
    expect(parseSweep(['slow=20..60:20 fast=5,10'])).toEqual([
      { fast: 5, slow: 20 },
      { fast: 5, slow: 40 },
      { fast: 5, slow: 60 },
      { fast: 10, slow: 20 },
      { fast: 10, slow: 40 },
      { fast: 10, slow: 60 },
    ]);
    expect(() => parseSweep(['fast=5..20'])).toThrow(/both fast=RANGE and slow=RANGE/);
    expect(() => parseSweep(['fast=9', 'slow=3..8'])).toThrow(/no pair with slow > fast/);
    expect(() => parseSweep(['fast=9', 'slow=3..9'])).toThrow(/no pair with slow > fast/);
    expect(() => parseSweep(['fast=20..5', 'slow=30'])).toThrow(/FROM ≤ TO/);
    expect(() => parseSweep(['fast=0', 'slow=3'])).toThrow(/≥ 1/);
    expect(() => parseSweep(['long=3', 'slow=3'])).toThrow(/fast=RANGE slow=RANGE, not "long=3"/);
    expect(() => parseSweep(['fast=1..200', 'slow=1..200'])).toThrow(/more than 10000/);
  });

  it('runs each pair in worker threads as the same backtest a single run is', async () => {
    const points = parseSweep(['fast=3..4', 'slow=8,12']);
    const rows = await runSweep(base, points, 2);
    expect(rows.map((r) => [r.fast, r.slow])).toEqual(points.map((p) => [p.fast, p.slow]));
    for (const row of rows) {
      const single = await runBacktest({ ...base, strategy: crossoverOf(row) });
      expect(row.summary, `fast ${row.fast} slow ${row.slow}`).toEqual(single.summary);
    }
    // Different windows trade differently: the runs are not one run repeated.
    expect(new Set(rows.map((r) => r.summary.finalEquityUsd)).size).toBeGreaterThan(1);
    const table = sweepTable(rows).split('\n');
    expect(table).toHaveLength(points.length + 1);
    expect(table[0]).toMatch(/fast\s+slow\s+trades\s+return %.*funding USD\s+ended by$/);
    // Each row says what ended its run: these ran to the end of the data.
    expect(table.slice(1).every((line) => line.endsWith(' data end'))).toBe(true);
    expect(
      sweepTable([{ ...(rows[0] as SweepRow), summary: { ...(rows[0] as SweepRow).summary, killSwitch: { at: '', reason: 'stop_loss', text: '' } } }]),
    ).toMatch(/ stop_loss$/m);
  }, 180_000);

  it('the CLI sweep gives the figures the CLI single run with the same windows gives', async () => {
    const window = ['--symbols', 'BTCUSDT', '--quotes', 'bookTicker', '--from', '2026-01-01T06:00:00Z', '--to', '2026-01-01T06:40:00Z'];
    const out = mkdtempSync(join(tmpdir(), 'qe-sweep-'));
    const sweep = await run('npx', ['tsx', 'src/main.ts', 'backtest', ...window, '--sweep', 'fast=4', 'slow=12', '--workers', '1', '--json'], {
      timeout: 120_000,
    });
    const single = await run('npx', ['tsx', 'src/main.ts', 'backtest', ...window, '--fast', '4', '--slow', '12', '--out', out], { timeout: 120_000 });
    const { sweep: rows } = JSON.parse(sweep.stdout) as { sweep: { fast: number; slow: number; summary: Record<string, unknown> }[] };
    const { reportPath: _html, jsonReportPath: _json, ...figures } = JSON.parse(single.stdout) as Record<string, unknown>;
    expect(rows).toHaveLength(1);
    expect(rows[0]?.summary).toEqual(figures);
  }, 180_000);
});
