// Synthetic top of book: a seeded random walk of the mid, quantised to the tick grid.
import type { SymbolRules } from './symbols.js';

/** mulberry32: tiny, fast, good enough for test price paths, and reproducible from a seed. */
export function createPrng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draw (Box-Muller) so steps have a stable volatility rather than a fixed size. */
function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export interface TopOfBook {
  bidUnits: bigint;
  askUnits: bigint;
  bidQtyUnits: bigint;
  askQtyUnits: bigint;
  updateId: number;
  timeMs: number;
}

// Displayed size at the touch, in steps. Purely cosmetic: the simulator fills any size at the touch.
const minDisplayedSteps = 10;
const displayedStepsRange = 990;

export class SymbolMarket {
  readonly rules: SymbolRules;
  private mid: number;
  private book: TopOfBook;
  private readonly random: () => number;
  private readonly tickValue: number;

  constructor(rules: SymbolRules, random: () => number, nowMs: number) {
    this.rules = rules;
    this.random = random;
    this.mid = rules.spec.startPrice;
    this.tickValue = Number(rules.spec.tickSize);
    this.book = { bidUnits: 0n, askUnits: 0n, bidQtyUnits: 0n, askQtyUnits: 0n, updateId: 0, timeMs: nowMs };
    this.requote(nowMs);
  }

  get midPrice(): number {
    return this.mid;
  }

  get top(): TopOfBook {
    return this.book;
  }

  /** One step of the walk: mid *= exp(N(0,1) * vol). */
  step(nowMs: number): void {
    const volFraction = this.rules.spec.volatilityBpsPerStep / 10_000;
    this.mid *= Math.exp(gaussian(this.random) * volFraction);
    this.requote(nowMs);
  }

  setMid(price: number, nowMs: number): void {
    if (!Number.isFinite(price) || price <= 0) throw new Error(`invalid mid ${price}`);
    this.mid = price;
    this.requote(nowMs);
  }

  private requote(nowMs: number): void {
    // The small epsilon keeps e.g. 60000.1 / 0.1 from landing on 600000.9999 and losing a tick.
    const bidTicks = BigInt(Math.max(1, Math.floor(this.mid / this.tickValue + 1e-9)));
    const bidUnits = bidTicks * this.rules.tickUnits;
    const askUnits = bidUnits + BigInt(Math.max(1, this.rules.spec.spreadTicks)) * this.rules.tickUnits;
    const drawQty = (): bigint => BigInt(minDisplayedSteps + Math.floor(this.random() * displayedStepsRange)) * this.rules.stepUnits;
    this.book = {
      bidUnits,
      askUnits,
      bidQtyUnits: drawQty(),
      askQtyUnits: drawQty(),
      updateId: this.book.updateId + 1,
      timeMs: nowMs,
    };
  }
}
