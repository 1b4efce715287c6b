import type { BacktestResult } from '../../src/backtest/run-backtest.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { sampleDataDir } from '../../src/backtest/cli.js';
import type { Strategy } from '../../src/strategies/strategy.js';

/**
 * `strategy` over the shipped sample's BTCUSDT bookTicker from its start (06:00 UTC, about a quote a second) to
 * `toIso`, resting orders filled when quotes trade through them, with $10 000.
 */
export function sampleBacktest(strategy: Strategy, toIso: string): Promise<BacktestResult> {
  return runBacktest({
    ...defaultBacktestOptions,
    dataDir: sampleDataDir,
    symbols: ['BTCUSDT'],
    quotes: 'bookTicker',
    fills: 'through',
    fromMs: null,
    toMs: Date.parse(toIso),
    strategy,
    capitalUsd: 10_000,
  });
}
