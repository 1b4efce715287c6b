import { defaultBacktestOptions, runBacktest } from '../src/backtest/run-backtest.js';
import { sampleDataDir } from '../src/backtest/cli.js';
import { crossoverStrategy } from '../src/strategies/crossover.js';
import { round1 } from './common.js';

// Quotes per second through the backtest (issue 14): one symbol, one session, the shipped sample's bookTicker
// (BTCUSDT, 4 h at about one update a second), end to end — reading the zipped CSV, the matching engine, the engine
// kernel and the crossover strategy.

export async function backtestRun(): Promise<{ backtestQuotes: number; backtestQuotesPerSecond: number }> {
  const t = performance.now();
  const result = await runBacktest({
    ...defaultBacktestOptions,
    dataDir: sampleDataDir,
    symbols: ['BTCUSDT'],
    fromMs: null,
    toMs: null,
    quotes: 'bookTicker',
    strategy: crossoverStrategy(),
    capitalUsd: 10_000,
  });
  const seconds = (performance.now() - t) / 1000;
  return { backtestQuotes: result.summary.quotes, backtestQuotesPerSecond: round1(result.summary.quotes / seconds) };
}
