import { defaultBacktestOptions, runBacktest } from '../src/backtest/run-backtest.js';
import { sampleDataDir } from '../src/backtest/cli.js';
import { crossoverStrategy } from '../src/strategies/crossover.js';
import { round1 } from './common.js';

// Quotes per second through the backtest (issue 14): one symbol, one session, the shipped sample's bookTicker
// (BTCUSDT, 4 h at about one update a second), end to end — reading the zipped CSV, the matching engine, the engine
// kernel and the crossover strategy. The sample is short (~14 000 quotes): its first runs in a process are mostly the
// JIT compiling the engine, which a backtest over months pays once. So the sample runs `backtestBenchRuns` times: the
// first run's rate is `backtestColdQuotesPerSecond`, the last's (the same quotes through the same engine, compiled)
// is the figure.

/** Runs of the sample: the JIT has compiled the engine's hot paths by the third. */
const backtestBenchRuns = 3;

async function oneRun(): Promise<{ quotes: number; quotesPerSecond: number }> {
  const t = performance.now();
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
  return { quotes: result.summary.quotes, quotesPerSecond: round1(result.summary.quotes / seconds) };
}

export async function backtestRun(): Promise<{ backtestQuotes: number; backtestQuotesPerSecond: number; backtestColdQuotesPerSecond: number }> {
  const cold = await oneRun();
  let warm = cold;
  for (let i = 1; i < backtestBenchRuns; i += 1) warm = await oneRun();
  return { backtestQuotes: warm.quotes, backtestQuotesPerSecond: warm.quotesPerSecond, backtestColdQuotesPerSecond: cold.quotesPerSecond };
}
