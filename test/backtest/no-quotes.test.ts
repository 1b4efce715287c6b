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
});
