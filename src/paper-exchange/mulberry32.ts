/** What mulberry32 adds to its state at each draw. */
const stateStep = 0x6d2b79f5;

/** The draw in [0, 1) mulberry32 makes of a state. */
function drawOf(state: number): number {
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** The generator behind each `next` handed out, so a holder of the function can skip draws (Mulberry32.behind). */
const generators = new WeakMap<() => number, Mulberry32>();

/**
 * mulberry32: tiny, fast, good enough for test price paths, and reproducible from a seed. Its whole state is one
 * 32-bit integer, readable and settable, so a paper exchange restarted from its state store continues the draws
 * where they stood instead of replaying the seed's from the start (issue 17). The state moves by a constant a draw,
 * so it can skip any number of draws at once and make any of them later (skip, drawAfter): a backtest's book takes
 * its 42 depth draws at every quote and reads them for almost none (order-book.ts).
 */
export class Mulberry32 {
  private current: number;

  constructor(seed: number) {
    this.current = seed >>> 0;
    generators.set(this.next, this);
  }

  /** The generator behind `random` if it is a Mulberry32's `next`. */
  static behind(random: () => number): Mulberry32 | undefined {
    return generators.get(random);
  }

  /** The `k`-th draw (1-based) from `state`: what the k-th call of next() gives after the state was `state`. */
  static drawAfter(state: number, k: number): number {
    return drawOf((state + Math.imul(k, stateStep)) >>> 0);
  }

  /** The next draw in [0, 1): a bound function, so it can be handed on as a plain `() => number`. */
  readonly next = (): number => {
    this.current = (this.current + stateStep) >>> 0;
    return drawOf(this.current);
  };

  /** Moves on by `count` draws, where `count` calls of next() would have left it (their values: drawAfter). */
  skip(count: number): void {
    this.current = (this.current + Math.imul(count, stateStep)) >>> 0;
  }

  get state(): number {
    return this.current;
  }

  set state(value: number) {
    this.current = value >>> 0;
  }
}

export function createPrng(seed: number): () => number {
  return new Mulberry32(seed).next;
}
