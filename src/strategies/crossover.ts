import type { Bar, Strategy, TargetWeight } from './strategy.js';

// The reference strategy: a short/long moving-average crossover on bar closes (mids), mapped to a weight in
// [-maxWeight, maxWeight]. It exists to exercise the engine end to end; any external model may publish
// signals.route commands of the same documented schema instead, or be replayed (signal-replay.ts).

export interface CrossoverParams {
  shortWindow: number;
  longWindow: number;
  /** Largest absolute weight per symbol. */
  maxWeight: number;
}

export const defaultCrossoverParams: CrossoverParams = { shortWindow: 5, longWindow: 20, maxWeight: 0.3 };

/** Divergence of the short mean from the long one that earns the full weight (10 bps). */
const fullWeightDivergence = 0.001;

export function crossoverWeight(closes: readonly number[], params: CrossoverParams = defaultCrossoverParams): number | null {
  if (closes.length < params.longWindow) return null;
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const short = mean(closes.slice(-params.shortWindow));
  const long = mean(closes.slice(-params.longWindow));
  if (long <= 0) return null;
  // The sign says the side.
  const strength = Math.max(-1, Math.min(1, (short - long) / long / fullWeightDivergence));
  return Math.round(strength * params.maxWeight * 100) / 100;
}

export function crossoverStrategy(params: CrossoverParams = defaultCrossoverParams): Strategy {
  // Equal windows make the two means one: the weight is always 0 and the strategy never trades.
  if (!(params.shortWindow >= 1 && params.longWindow > params.shortWindow))
    throw new Error(`crossover needs 1 ≤ short < long windows, got ${params.shortWindow}/${params.longWindow}`);
  /** Per symbol: the last longWindow closes, oldest first (all the weight reads). */
  const closes = new Map<string, number[]>();
  return {
    name: 'crossover',
    onBar(bar: Bar) {
      const series = closes.get(bar.symbol) ?? [];
      series.push(bar.close);
      if (series.length > params.longWindow) series.shift();
      closes.set(bar.symbol, series);
    },
    targets(): TargetWeight[] {
      const out: TargetWeight[] = [];
      for (const [symbol, series] of closes) {
        const weight = crossoverWeight(series, params);
        if (weight !== null) out.push({ symbol, weight });
      }
      return out;
    },
  };
}
