import { gaussian } from '../paper-exchange/price-process.js';

// Where the touch is between two of a kline's synthesised quotes (data/quotes.ts), when an order reaches the
// exchange there: a Brownian bridge from the last point to the next, with the bar's own volatility, staying inside
// the bar's range. A bar's four points alone leave the touch still for a quarter bar, so a post-only order always
// lands on the touch it was priced at and rests (fills came out all maker); at a real venue the touch moves within the
// order's latency, and an entry priced at the touch is then refused as it would take (-5022) and the engine's taker
// fallback trades instead. The engine's feed still sees only the four points, as a kline's holder would.

/** One leg of a bar's path: from the point just quoted to the next, with the bar's range and volatility. */
export interface PathLeg {
  /** The next point (price units on the symbol's grid, the bid side) and when the path reaches it. */
  toMs: number;
  toUnits: number;
  /** The bar's low and high (units): the path never leaves them. */
  lowUnits: number;
  highUnits: number;
  /** Volatility of the path in units per √ms, from the bar's range: E[range] = √(8T/π)·σ for a Brownian path over T. */
  sigmaPerSqrtMs: number;
}

/** σ of a Brownian path whose expected range over `barMs` is the bar's range (units per √ms). */
export function sigmaFromRange(rangeUnits: number, barMs: number): number {
  return barMs > 0 ? rangeUnits / Math.sqrt((8 * barMs) / Math.PI) : 0;
}

/** A leg being walked: where the path is now (the last point drawn or quoted) and where it must go. */
export interface LegState extends PathLeg {
  atMs: number;
  atUnits: number;
}

/**
 * The path at `timeMs` (atMs < timeMs < toMs): a draw of the bridge from (atMs, atUnits) to (toMs, toUnits), kept
 * inside [low, high]; the leg then starts from it, so later draws lie on one consistent path.
 */
export function walkLeg(leg: LegState, timeMs: number, random: () => number): number {
  const span = leg.toMs - leg.atMs;
  const elapsed = timeMs - leg.atMs;
  const mean = leg.atUnits + ((leg.toUnits - leg.atUnits) * elapsed) / span;
  const sd = leg.sigmaPerSqrtMs * Math.sqrt((elapsed * (leg.toMs - timeMs)) / span);
  const units = Math.min(leg.highUnits, Math.max(leg.lowUnits, mean + sd * gaussian(random)));
  leg.atMs = timeMs;
  leg.atUnits = units;
  return units;
}
