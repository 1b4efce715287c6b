import { describe, expect, it } from 'vitest';
import type { LegState } from '../../src/backtest/kline-path.js';
import { sigmaFromRange, walkLeg } from '../../src/backtest/kline-path.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { createPrng } from '../../src/paper-exchange/price-process.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';

const leg = (sigmaPerSqrtMs: number): LegState => ({ atMs: 0, atUnits: 1000, toMs: 15_000, toUnits: 1100, lowUnits: 990, highUnits: 1120, sigmaPerSqrtMs });

describe('kline path between quotes', () => {
  it('is the straight line without volatility, and a bridge inside the bar with it', () => {
    expect(walkLeg(leg(0), 7_500, createPrng(1))).toBe(1050);
    // σ from the range: a Brownian path over T has expected range √(8T/π)·σ.
    expect(sigmaFromRange(Math.sqrt((8 * 60_000) / Math.PI), 60_000)).toBeCloseTo(1, 12);
    const random = createPrng(7);
    const draws: number[] = [];
    for (let i = 0; i < 2_000; i += 1) {
      const l = leg(sigmaFromRange(130, 60_000));
      draws.push(walkLeg(l, 50, random));
    }
    // 50 ms into the leg the path is near where it started (σ ≈ 130 / √(8·60 000/π) ≈ 0.33 a √ms, so σ·√50 ≈ 2.35
    // units), never outside the bar's range.
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(990);
    expect(Math.max(...draws)).toBeLessThanOrEqual(1120);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((a, d) => a + (d - mean) ** 2, 0) / (draws.length - 1));
    expect(mean).toBeCloseTo(1000 + (100 * 50) / 15_000, 0);
    expect(sd).toBeGreaterThan(2.1);
    expect(sd).toBeLessThan(2.6);
  });

  it('walks one path: each draw starts from the last, and the leg ends where it must', () => {
    const l = leg(sigmaFromRange(130, 60_000));
    const random = createPrng(3);
    let last = l.atUnits;
    for (const t of [1_000, 5_000, 9_000, 14_000, 14_999]) {
      const before = { atMs: l.atMs, atUnits: l.atUnits };
      expect(before.atUnits).toBe(last);
      last = walkLeg(l, t, random);
      expect(l.atMs).toBe(t);
    }
    // One ms before the end the bridge is pinned within a few σ·√1 of the next point.
    expect(Math.abs(last - 1100)).toBeLessThan(5);
  });

  it('with the bridge, entries priced at a still touch meet a moved one: kline fills are no longer all maker', async () => {
    const options = {
      ...defaultBacktestOptions,
      dataDir: 'samples/binance-data',
      symbols: ['BTCUSDT'],
      fromMs: Date.parse('2026-01-01T12:00:00Z'),
      toMs: Date.parse('2026-01-01T18:00:00Z'),
      quotes: 'klines' as const,
      capitalUsd: 10_000,
    };
    const still = await runBacktest({ ...options, klinePath: 'still', strategy: crossoverStrategy() });
    const bridge = await runBacktest({ ...options, klinePath: 'bridge', strategy: crossoverStrategy() });
    const takerShare = (r: typeof still): number => r.summary.takerTrades / (r.summary.makerTrades + r.summary.takerTrades);
    expect(still.summary.trades).toBeGreaterThan(50);
    expect(bridge.summary.trades).toBeGreaterThan(50);
    expect(takerShare(still)).toBeLessThan(0.05);
    expect(takerShare(bridge)).toBeGreaterThan(0.2);
    expect(bridge.summary.makerTrades).toBeGreaterThan(0);
    expect(bridge.assumptions.join('\n')).toMatch(/Brownian bridge/);
  }, 120_000);
});
