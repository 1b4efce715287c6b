import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBacktestOptions, runBacktest } from '../src/backtest/run-backtest.js';
import { generateLongBookTicker } from '../src/backtest/sample/generate-sample.js';
import { crossoverStrategy } from '../src/strategies/crossover.js';

// The long backtest's process (bench/backtest.ts backtestLongRun): a fresh process, so the run pays the JIT's warm-up
// once, as a user's backtest does, and no earlier run in the bench's process has compiled it. Writes the long series
// (generate-sample.ts) to a temporary directory, runs the crossover over it once, and sends its quotes, wall time and
// CPU time to the parent. Generating the files is not timed.

const root = mkdtempSync(join(tmpdir(), 'qe-bench-long-'));
try {
  const { symbol, fromMs, toMs } = generateLongBookTicker(root);
  const startedAt = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await runBacktest({
    ...defaultBacktestOptions,
    dataDir: root,
    symbols: [symbol],
    fromMs,
    toMs,
    quotes: 'bookTicker',
    // As the sample's figure: fills from quotes trading through (no aggTrades in the long series).
    fills: 'through',
    strategy: crossoverStrategy(),
    capitalUsd: 10_000,
  });
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  process.send?.({ quotes: result.summary.quotes, trades: result.summary.trades, seconds, cpuMicros: cpu.user + cpu.system });
} finally {
  rmSync(root, { recursive: true, force: true });
}
