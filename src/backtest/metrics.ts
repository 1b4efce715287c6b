// Performance figures of a run from its equity samples, in plain numbers for the report (the money itself is booked
// exactly in the ledger; these are ratios for reading).

const hoursPerYear = 24 * 365;

/** Largest fall from a running peak, in percent of that peak (0 when equity never fell). */
export class DrawdownTracker {
  private peak = -Infinity;
  private worst = 0;

  add(equity: number): void {
    if (equity > this.peak) this.peak = equity;
    if (this.peak > 0) this.worst = Math.max(this.worst, ((this.peak - equity) / this.peak) * 100);
  }

  get maxDrawdownPct(): number {
    return this.worst;
  }
}

/**
 * Annualised Sharpe ratio of hourly returns (risk-free rate 0): mean / standard deviation × √(hours a year), from
 * equity at the end of each hour (the last sample in it, carried over hours without one). 0 without two returns or
 * with no variation.
 */
export function hourlySharpe(hourlyEquity: readonly number[]): number {
  const returns: number[] = [];
  for (let i = 1; i < hourlyEquity.length; i += 1) {
    const before = hourlyEquity[i - 1] as number;
    if (before > 0) returns.push((hourlyEquity[i] as number) / before - 1);
  }
  if (returns.length < 2) return 0;
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  const variance = returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (returns.length - 1);
  if (variance === 0) return 0;
  return (mean / Math.sqrt(variance)) * Math.sqrt(hoursPerYear);
}
