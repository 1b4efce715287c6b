import { describe, expect, it } from 'vitest';
import { metricsOf } from '../../src/backtest/figures.js';
import { CurveRecorder, hourlySharpe, hourlySortino } from '../../src/backtest/metrics.js';

describe('backtest metrics', () => {
  it('keeps the equity curve bounded, evenly thinned, with its deepest drawdown and last sample', () => {
    const recorder = new CurveRecorder(100);
    let deepest = 0;
    let exposureSum = 0;
    for (let i = 0; i < 12_345; i += 1) {
      const drawdownPct = (i * 7919) % 1000 === 0 ? 9 + i / 1e5 : (i % 13) / 10;
      deepest = Math.max(deepest, drawdownPct);
      const exposureUsd = (i % 5) * 100;
      exposureSum += (exposureUsd / 10_000) * 100;
      recorder.add({ atMs: i * 5_000, equityUsd: 10_000, drawdownPct, exposureUsd });
    }
    const points = recorder.points();
    expect(points.length).toBeLessThanOrEqual(100);
    expect(points.length).toBeGreaterThan(50);
    expect(points[0]?.atMs).toBe(0);
    expect(points[points.length - 1]?.atMs).toBe(12_344 * 5_000);
    expect(Math.max(...points.map((p) => p.drawdownPct))).toBe(deepest);
    // Evenly spread: no gap between kept points is more than twice another.
    const gaps = points.slice(1).map((p, i) => p.atMs - (points[i]?.atMs ?? 0));
    expect(Math.max(...gaps.slice(0, -1))).toBeLessThanOrEqual(2 * Math.min(...gaps.slice(0, -1)));
    expect(recorder.meanExposurePct).toBeCloseTo(exposureSum / 12_345, 12);
    expect(recorder.maxExposureUsd).toBe(400);
  });

  it('Sortino divides by the downside deviation only; Sharpe by the whole', () => {
    const equity = [100, 101, 100.5, 102, 101, 103];
    const returns = equity.slice(1).map((e, i) => e / (equity[i] as number) - 1);
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const downside = Math.sqrt(returns.reduce((a, r) => a + Math.min(r, 0) ** 2, 0) / returns.length);
    expect(hourlySortino(equity)).toBeCloseTo((mean / downside) * Math.sqrt(24 * 365), 9);
    expect(hourlySortino([100, 101, 102])).toBe(0);
    expect(hourlySortino(equity)).toBeGreaterThan(hourlySharpe(equity));
  });

  it("Sharpe and Sortino count the first hour's return, from the capital at the start", () => {
    // Equity at each hour's end: the run gained 10 % in its first hour, lost 10 % in its second, gained 10 % again.
    // Without the start the returns are -10 % and +10 %: a mean of 0, and both ratios 0, for a run up 7.8 %.
    const capitalUsd = 100;
    const hourEnds = [110, 99, 108.9];
    const returns = [0.1, -0.1, 0.1];
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const sd = Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (returns.length - 1));
    const downside = Math.sqrt(returns.reduce((a, r) => a + Math.min(r, 0) ** 2, 0) / returns.length);
    const metrics = metricsOf([], [], new CurveRecorder(10), hourEnds, 10, capitalUsd);
    expect(metrics.sharpe).toBeCloseTo((mean / sd) * Math.sqrt(24 * 365), 9);
    expect(metrics.sortino).toBeCloseTo((mean / downside) * Math.sqrt(24 * 365), 9);
  });
});
