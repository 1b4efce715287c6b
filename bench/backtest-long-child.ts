import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateLongBookTicker } from '../src/backtest/sample/generate-sample.js';
import { timedBacktestRun } from './backtest.js';

// The long backtest's process (bench/backtest.ts backtestLongRun): a fresh process, so the run pays the JIT's warm-up
// once, as a user's backtest does, and no earlier run in the bench's process has compiled it. Writes the long series
// (generate-sample.ts) to a temporary directory, runs the crossover over it once, and sends its quotes, wall time and
// CPU time to the parent. Generating the files is not timed.

const root = mkdtempSync(join(tmpdir(), 'qe-bench-long-'));
try {
  const { symbol, fromMs, toMs } = generateLongBookTicker(root);
  process.send?.(await timedBacktestRun({ dataDir: root, symbol, fromMs, toMs }));
} finally {
  rmSync(root, { recursive: true, force: true });
}
