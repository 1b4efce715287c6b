import { describe, expect, it } from 'vitest';
import type { BacktestOptions, BacktestResult } from '../../src/backtest/run-backtest.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';

// --depth-usd: the synthetic depth behind the historical touch that takers walk (order-book.ts). The paper exchange's
// levels hold 200 000..1 000 000 USD each, a major's; a thin symbol's (any symbol, with --rules) hold far less, and its
// takers must slip through more of them.

const run = (depthUsd?: BacktestOptions['depthUsd']): Promise<BacktestResult> =>
  runBacktest({
    ...defaultBacktestOptions,
    dataDir: 'samples/binance-data',
    symbols: ['BTCUSDT'],
    fromMs: null,
    toMs: null,
    quotes: 'bookTicker',
    fills: 'through',
    strategy: crossoverStrategy(),
    capitalUsd: 10_000,
    ...(depthUsd !== undefined ? { depthUsd } : {}),
  });

/** The taker trades of a run (the closing flatten's, here), as the exchange booked them. */
const takers = (r: BacktestResult): { price: number; qty: number }[] =>
  r.venueTrades.filter((t) => !t.maker).map((t) => ({ price: Number(t.price), qty: Number(t.qty) }));

describe('backtest --depth-usd', () => {
  it('walks a thinner book: the same taker order fills over more levels at a worse average price, and the report says so', async () => {
    const deep = await run();
    const thin = await run({ min: 500, max: 1_000 });
    // The same decisions up to the flatten: the same orders sent.
    expect(thin.summary.ordersSent).toBe(deep.summary.ordersSent);
    const deepTakers = takers(deep);
    const thinTakers = takers(thin);
    expect(deepTakers.length).toBeGreaterThan(0);
    expect(thinTakers.length).toBeGreaterThan(deepTakers.length);
    const qty = (ts: { qty: number }[]): number => ts.reduce((sum, t) => sum + t.qty, 0);
    const average = (ts: { price: number; qty: number }[]): number => ts.reduce((sum, t) => sum + t.price * t.qty, 0) / qty(ts);
    expect(qty(thinTakers)).toBeCloseTo(qty(deepTakers), 9);
    // The flatten sells the long the run ends with: a thinner book fills it lower.
    const side = deep.venueTrades.find((t) => !t.maker)?.side;
    expect(side).toBeDefined();
    if (side === 'SELL') expect(average(thinTakers)).toBeLessThan(average(deepTakers));
    else expect(average(thinTakers)).toBeGreaterThan(average(deepTakers));
    expect(deep.assumptions).toContain(
      'takers walk a synthetic depth behind the historical touch: 10 levels a side, 1 tick apart, 200 000..1 000 000 USD each, seeded',
    );
    expect(thin.assumptions).toContain(
      'takers walk a synthetic depth behind the historical touch: 10 levels a side, 1 tick apart, 500..1 000 USD each, seeded (--depth-usd)',
    );
  });
});
