// Performance figures of a run from its equity samples, in plain numbers for the report (the money itself is booked
// exactly in the ledger; these are ratios for reading).

const hoursPerYear = 24 * 365;

/** Largest fall from a running peak, in percent of that peak (0 when equity never fell). */
export class DrawdownTracker {
  private peak = -Infinity;
  private worst = 0;

  /** Adds a sample; returns its drawdown (percent below the running peak). */
  add(equity: number): number {
    if (equity > this.peak) this.peak = equity;
    const drawdown = this.peak > 0 ? ((this.peak - equity) / this.peak) * 100 : 0;
    this.worst = Math.max(this.worst, drawdown);
    return drawdown;
  }

  get maxDrawdownPct(): number {
    return this.worst;
  }
}

/** Returns of consecutive hourly equities (an hour after one at or below zero is left out). */
function hourlyReturns(hourlyEquity: readonly number[]): number[] {
  const returns: number[] = [];
  for (let i = 1; i < hourlyEquity.length; i += 1) {
    const before = hourlyEquity[i - 1] as number;
    if (before > 0) returns.push((hourlyEquity[i] as number) / before - 1);
  }
  return returns;
}

/**
 * Annualised Sharpe ratio of hourly returns (risk-free rate 0): mean / standard deviation × √(hours a year), from
 * equity at the end of each hour (the last sample in it, carried over hours without one). 0 without two returns or
 * with no variation.
 */
export function hourlySharpe(hourlyEquity: readonly number[]): number {
  const returns = hourlyReturns(hourlyEquity);
  if (returns.length < 2) return 0;
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  const variance = returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (returns.length - 1);
  if (variance === 0) return 0;
  return (mean / Math.sqrt(variance)) * Math.sqrt(hoursPerYear);
}

/**
 * Annualised Sortino ratio of the same hourly returns (target 0): mean / downside deviation × √(hours a year), the
 * downside deviation being √(Σ min(r, 0)² / n) over every return. 0 without two returns or without a losing hour.
 */
export function hourlySortino(hourlyEquity: readonly number[]): number {
  const returns = hourlyReturns(hourlyEquity);
  if (returns.length < 2) return 0;
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  const downside = Math.sqrt(returns.reduce((a, r) => a + Math.min(r, 0) ** 2, 0) / returns.length);
  if (downside === 0) return 0;
  return (mean / downside) * Math.sqrt(hoursPerYear);
}

/** One point of the equity curve: equity at bid/ask, its fall from the running peak, and gross exposure. */
export interface CurvePoint {
  atMs: number;
  equityUsd: number;
  drawdownPct: number;
  exposureUsd: number;
}

/**
 * The curve at most `maxPoints` long for the report: the run's time cut into equal buckets, each giving its last
 * sample with the deepest drawdown seen in it (so the chart keeps the worst point a thinned curve would drop).
 */
export function thinCurve(points: readonly CurvePoint[], maxPoints: number): CurvePoint[] {
  if (points.length <= maxPoints) return [...points];
  const first = (points[0] as CurvePoint).atMs;
  const spanMs = Math.max(1, (points[points.length - 1] as CurvePoint).atMs - first);
  const out: CurvePoint[] = [];
  let bucket = -1;
  for (const p of points) {
    const b = Math.min(maxPoints - 1, Math.floor(((p.atMs - first) / spanMs) * maxPoints));
    const last = out[out.length - 1];
    if (b !== bucket || !last) {
      out.push({ ...p });
      bucket = b;
    } else out[out.length - 1] = { ...p, drawdownPct: Math.max(last.drawdownPct, p.drawdownPct) };
  }
  return out;
}
