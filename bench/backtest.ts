import { defaultBacktestOptions, runBacktest } from '../src/backtest/run-backtest.js';
import { sampleDataDir } from '../src/backtest/cli.js';
import { crossoverStrategy } from '../src/strategies/crossover.js';
import { round1 } from './common.js';

// Quotes per second through the backtest (issue 14): one symbol, one session, the shipped sample's bookTicker
// (BTCUSDT, 4 h at about one update a second), end to end — reading the zipped CSV, the matching engine, the engine
// kernel and the crossover strategy. The sample is short (~14 000 quotes): its first runs in a process are mostly the
// JIT compiling the engine, which a backtest over months pays once. So the sample runs `backtestBenchRuns` times: the
// first run's rate is `backtestColdQuotesPerSecond`, the last's (the same quotes through the same engine, compiled)
// is the figure. The machine may be shared: `backtestCpuMicrosPerQuote`, the process's CPU time (user + system) per
// quote over that last run, says what the run cost whatever else ran meanwhile.

/** Runs of the sample: the JIT has compiled the engine's hot paths by the third. */
const backtestBenchRuns = 3;

async function oneRun(): Promise<{ quotes: number; quotesPerSecond: number; cpuMicrosPerQuote: number }> {
  const t = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await runBacktest({
    ...defaultBacktestOptions,
    dataDir: sampleDataDir,
    symbols: ['BTCUSDT'],
    fromMs: null,
    toMs: null,
    quotes: 'bookTicker',
    // Fills from quotes trading through, as before the sample had aggTrades: the figure stays comparable run to run.
    fills: 'through',
    strategy: crossoverStrategy(),
    capitalUsd: 10_000,
  });
  const seconds = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const { quotes } = result.summary;
  return { quotes, quotesPerSecond: round1(quotes / seconds), cpuMicrosPerQuote: round1((cpu.user + cpu.system) / quotes) };
}

export async function backtestRun(): Promise<{
  backtestQuotes: number;
  backtestQuotesPerSecond: number;
  backtestColdQuotesPerSecond: number;
  backtestCpuMicrosPerQuote: number;
}> {
  const cold = await oneRun();
  let warm = cold;
  for (let i = 1; i < backtestBenchRuns; i += 1) warm = await oneRun();
  return {
    backtestQuotes: warm.quotes,
    backtestQuotesPerSecond: warm.quotesPerSecond,
    backtestColdQuotesPerSecond: cold.quotesPerSecond,
    backtestCpuMicrosPerQuote: warm.cpuMicrosPerQuote,
  };
}

// `npx tsx bench/backtest.ts`: this part alone (the whole bench runs it from run.ts).
if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await backtestRun())}\n`);
}
