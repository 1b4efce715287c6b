import { defaultBacktestOptions, runBacktest } from '../src/backtest/run-backtest.js';
import { sampleDataDir } from '../src/backtest/cli.js';
import { crossoverStrategy } from '../src/strategies/crossover.js';
import { forkBenchChild, round1 } from './common.js';

// Quotes per second through the backtest (issue 14): one symbol, one session, the shipped sample's bookTicker
// (BTCUSDT, 4 h at about one update a second), end to end — reading the zipped CSV, the matching engine, the engine
// kernel and the crossover strategy. The sample is short (~14 000 quotes): its first runs in a process are mostly the
// JIT compiling the engine, which a backtest over months pays once. So the sample runs `backtestBenchRuns` times: the
// first run's rate is `backtestColdQuotesPerSecond`; the figure is the rate over the last `backtestMeasuredRuns` runs
// together (the same quotes through the same engine, compiled). Three runs were not enough: the third still ran about
// a fifth slower than the fifth to eighth, and one run of 14 000 quotes moved by ±15 % from run to run on a shared
// machine. `backtestCpuMicrosPerQuote`, the process's CPU time (user + system) per quote over those runs, says what
// they cost whatever else ran meanwhile.

/** Runs of the sample: by the fourth the JIT has compiled the engine's hot paths. */
const backtestBenchRuns = 6;
/** The last runs, measured together. */
const backtestMeasuredRuns = 3;

export interface RunFigures {
  quotes: number;
  seconds: number;
  cpuMicros: number;
}

/**
 * One crossover backtest of one symbol's bookTicker (null bounds: all the data), timed: its quotes, wall time and CPU
 * time. The sample's runs and the long run (backtest-long-child.ts) measure the same thing on different data.
 */
export async function timedCrossoverRun(data: { dataDir: string; symbol: string; fromMs: number | null; toMs: number | null }): Promise<RunFigures> {
  const t = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await runBacktest({
    ...defaultBacktestOptions,
    dataDir: data.dataDir,
    symbols: [data.symbol],
    fromMs: data.fromMs,
    toMs: data.toMs,
    quotes: 'bookTicker',
    // Fills from quotes trading through, as before the sample had aggTrades: the figure stays comparable run to run.
    fills: 'through',
    strategy: crossoverStrategy(),
    capitalUsd: 10_000,
  });
  const seconds = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { quotes: result.summary.quotes, seconds, cpuMicros: cpu.user + cpu.system };
}

const oneRun = (): Promise<RunFigures> => timedCrossoverRun({ dataDir: sampleDataDir, symbol: 'BTCUSDT', fromMs: null, toMs: null });

export async function backtestRun(): Promise<{
  backtestQuotes: number;
  backtestQuotesPerSecond: number;
  backtestColdQuotesPerSecond: number;
  backtestCpuMicrosPerQuote: number;
}> {
  const cold = await oneRun();
  const measured: RunFigures[] = [];
  for (let i = 1; i < backtestBenchRuns; i += 1) {
    const run = await oneRun();
    if (i >= backtestBenchRuns - backtestMeasuredRuns) measured.push(run);
  }
  const sum = (pick: (r: RunFigures) => number): number => measured.reduce((acc, r) => acc + pick(r), 0);
  const quotes = sum((r) => r.quotes);
  return {
    backtestQuotes: cold.quotes,
    backtestQuotesPerSecond: round1(quotes / sum((r) => r.seconds)),
    backtestColdQuotesPerSecond: round1(cold.quotes / cold.seconds),
    backtestCpuMicrosPerQuote: round1(sum((r) => r.cpuMicros) / quotes),
  };
}

/** Beyond this the long run is abandoned (ms): ~170 000 quotes take seconds. */
const backtestLongCapMs = 300_000;

/**
 * The crossover over two days of one-a-second BTCUSDT quotes (~170 000, generate-sample.ts generateLongBookTicker) in
 * a process of its own, once: a backtest as long as a user's first real one, its JIT warm-up included and spread over
 * twelve times the sample's quotes. `backtestQuotesPerSecond` stays the sample's figure, comparable with earlier runs.
 */
export async function backtestLongRun(): Promise<{ backtestLongQuotes: number; backtestLongQuotesPerSecond: number; backtestLongCpuMicrosPerQuote: number }> {
  const child = forkBenchChild('backtest-long-child.ts');
  const figures = await new Promise<RunFigures | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, backtestLongCapMs);
    child.once('message', (m: RunFigures) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
  if (figures === null) throw new Error(`the long backtest gave no figures within ${backtestLongCapMs} ms`);
  return {
    backtestLongQuotes: figures.quotes,
    backtestLongQuotesPerSecond: round1(figures.quotes / figures.seconds),
    backtestLongCpuMicrosPerQuote: round1(figures.cpuMicros / figures.quotes),
  };
}

// `npx tsx bench/backtest.ts`: this part alone (the whole bench runs it from run.ts).
if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify({ ...(await backtestRun()), ...(await backtestLongRun()) })}\n`);
}
