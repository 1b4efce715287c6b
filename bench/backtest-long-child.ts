import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { progressEveryQuotes } from '../src/backtest/run-backtest.js';
import { generateLongBookTicker } from '../src/backtest/sample/generate-sample.js';
import type { LongRunFigures } from './backtest.js';
import { timedBacktestRun } from './backtest.js';
import { knob } from './common.js';

// The long backtests' process (bench/backtest.ts backtestLongRun, backtestMonthRun): a fresh process, so the run pays
// the JIT's warm-up once, as a user's backtest does, and no earlier run in the bench's process has compiled it. Writes
// the long series of BENCH_BACKTEST_DAYS days (generate-sample.ts) to a temporary directory, runs the crossover over
// it once, and sends its quotes, wall time and CPU time to the parent, with the CPU time per quote of each quarter of
// its days (of the quarter's cheapest sixteenth); with BENCH_BACKTEST_STOP_LOSS_PCT, then once more with that
// stop-loss (warm). Generating the files is not timed.

const quarters = 4;
/** Windows per quarter: a quarter's figure is its cheapest window's (a shared machine's slow spells only add time). */
const windowsPerQuarter = 16;

const root = mkdtempSync(join(tmpdir(), 'qe-bench-long-'));
try {
  const { symbol, fromMs, toMs } = generateLongBookTicker(root, knob('BENCH_BACKTEST_DAYS', 2));
  const stopLossPct = process.env.BENCH_BACKTEST_STOP_LOSS_PCT === undefined ? undefined : knob('BENCH_BACKTEST_STOP_LOSS_PCT', 5);
  const first = await measuredRun({ dataDir: root, symbol, fromMs, toMs });
  const sent: LongRunFigures =
    stopLossPct === undefined ? first : { ...first, stopLoss: await measuredRun({ dataDir: root, symbol, fromMs, toMs }, stopLossPct) };
  process.send?.(sent);
} finally {
  rmSync(root, { recursive: true, force: true });
}

/** One timed run over the data, with the CPU time per quote of each quarter of its days (of the quarter's cheapest window). */
async function measuredRun(
  data: { dataDir: string; symbol: string; fromMs: number; toMs: number },
  stopLossPct?: number,
): Promise<Omit<LongRunFigures, 'stopLoss'>> {
  const { fromMs, toMs } = data;
  const windowMs = (toMs - fromMs) / (quarters * windowsPerQuarter);
  // Progress comes every progressEveryQuotes quotes: a window ends at the first report past its last day.
  const marks: { cpuMicros: number; quotes: number }[] = [{ cpuMicros: 0, quotes: 0 }];
  let reports = 0;
  const cpuStart = process.cpuUsage();
  const figures = await timedBacktestRun(
    data,
    undefined,
    (_done, atMs) => {
      reports += 1;
      if (atMs >= fromMs + marks.length * windowMs) {
        const cpu = process.cpuUsage(cpuStart);
        marks.push({ cpuMicros: cpu.user + cpu.system, quotes: reports * progressEveryQuotes });
      }
    },
    stopLossPct,
  );
  const quarterCpuMicrosPerQuote: number[] = [];
  for (let q = 0; q < quarters; q += 1) {
    let cheapest = Number.POSITIVE_INFINITY;
    for (let w = q * windowsPerQuarter + 1; w <= (q + 1) * windowsPerQuarter && w < marks.length; w += 1) {
      const from = marks[w - 1] as { cpuMicros: number; quotes: number };
      const to = marks[w] as { cpuMicros: number; quotes: number };
      if (to.quotes > from.quotes) cheapest = Math.min(cheapest, (to.cpuMicros - from.cpuMicros) / (to.quotes - from.quotes));
    }
    quarterCpuMicrosPerQuote.push(cheapest);
  }
  return { ...figures, quarterCpuMicrosPerQuote };
}
