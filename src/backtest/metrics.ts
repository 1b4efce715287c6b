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
 * equity at the start and then at the end of each hour (the last sample in it, carried over hours without one), so
 * the returns compound to the run's whole return (the first may span less than an hour). 0 without two returns or
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

/** Two neighbouring points as one: the later's values with the deeper drawdown (a thinned chart keeps the worst). */
function merged(a: CurvePoint, b: CurvePoint): CurvePoint {
  // A literal in the fields' order, not `{ ...b, drawdownPct }`: V8's slow copy, at every equity sample of a run.
  return { atMs: b.atMs, equityUsd: b.equityUsd, drawdownPct: Math.max(a.drawdownPct, b.drawdownPct), exposureUsd: b.exposureUsd };
}

/**
 * The run's equity curve in bounded memory however long the run: at most 2 × `maxPoints` points, each standing for
 * `stride` samples in a row (merged). When full, neighbours are merged pairwise and the stride doubles, so the curve
 * stays evenly thinned. Exposure is averaged over every sample, not the kept points.
 */
export class CurveRecorder {
  private readonly kept: CurvePoint[] = [];
  /** The run's first sample, kept as it is so the curve starts where the run did. */
  private first: CurvePoint | null = null;
  private pending: CurvePoint | null = null;
  private pendingSamples = 0;
  private stride = 1;
  private exposurePctSum = 0;
  private exposureSamples = 0;
  private maxExposure = 0;

  constructor(private readonly maxPoints: number) {}

  add(point: CurvePoint): void {
    this.first ??= point;
    if (point.equityUsd > 0) {
      this.exposurePctSum += (point.exposureUsd / point.equityUsd) * 100;
      this.exposureSamples += 1;
    }
    this.maxExposure = Math.max(this.maxExposure, point.exposureUsd);
    this.pending = this.pending ? merged(this.pending, point) : point;
    this.pendingSamples += 1;
    if (this.pendingSamples < this.stride) return;
    this.kept.push(this.pending);
    this.pending = null;
    this.pendingSamples = 0;
    if (this.kept.length < 2 * this.maxPoints) return;
    for (let i = 0; i < this.maxPoints; i += 1) this.kept[i] = merged(this.kept[2 * i] as CurvePoint, this.kept[2 * i + 1] as CurvePoint);
    this.kept.length = this.maxPoints;
    this.stride *= 2;
  }

  /** The curve, at most `maxPoints` long (≥ 2): the first and the last sample are always in it. */
  points(): CurvePoint[] {
    const all = this.pending ? [...this.kept, this.pending] : [...this.kept];
    const out: CurvePoint[] = [];
    const per = Math.ceil(all.length / (this.maxPoints - 1));
    for (let i = 0; i < all.length; i += per) out.push(all.slice(i, i + per).reduce(merged));
    // A bucket is shown at its last sample: the first sample leads, so the curve starts where the run did.
    const head = out[0];
    if (this.first && head && head.atMs !== this.first.atMs) out.unshift({ ...this.first });
    return out;
  }

  get meanExposurePct(): number {
    return this.exposureSamples > 0 ? this.exposurePctSum / this.exposureSamples : 0;
  }

  get maxExposureUsd(): number {
    return this.maxExposure;
  }
}
