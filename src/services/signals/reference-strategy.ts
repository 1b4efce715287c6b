// Reference strategy, pure: a short/long moving-average crossover on mid prices, mapped to a weight in
// [-maxWeight, maxWeight]. It exists to exercise the engine end to end; any external model may publish
// signals.route commands of the same documented schema instead.

export interface StrategyParams {
  shortWindow: number;
  longWindow: number;
  /** Largest absolute weight per symbol. */
  maxWeight: number;
}

export const defaultStrategyParams: StrategyParams = { shortWindow: 5, longWindow: 20, maxWeight: 0.3 };

export function crossoverWeight(mids: readonly number[], params: StrategyParams = defaultStrategyParams): number | null {
  if (mids.length < params.longWindow) return null;
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const short = mean(mids.slice(-params.shortWindow));
  const long = mean(mids.slice(-params.longWindow));
  if (long <= 0) return null;
  // 10 bps of divergence = full weight; the sign says the side.
  const strength = Math.max(-1, Math.min(1, (short - long) / long / 0.001));
  return Math.round(strength * params.maxWeight * 100) / 100;
}
