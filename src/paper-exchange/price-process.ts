// Synthetic top of book: a seeded random walk of the mid, quantised to the tick grid.
import { Mulberry32 } from './mulberry32.js';
import { type BookSettings, defaultBookSettings, OrderBook, type TouchSizes } from './order-book.js';
import type { SymbolRules } from './symbols.js';

export { createPrng, Mulberry32 } from './mulberry32.js';

/** Standard normal draw (Box-Muller) so steps have a stable volatility rather than a fixed size. */
export function gaussian(random: () => number): number {
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

export interface MarketCheckpoint {
  mid: number;
  updateId: number;
  timeMs: number;
  /** The depth PRNG's state before the book's last redraw: a restore redraws the same levels from it. */
  depthDrawState?: number;
}

/** The book's own PRNG (so depth draws do not shift the price path) and its settings. */
export interface DepthOptions {
  prng?: Mulberry32;
  settings?: Partial<BookSettings>;
}

export class SymbolMarket {
  readonly rules: SymbolRules;
  /** Levels with finite size around the touch, redrawn at every requote (order-book.ts). */
  readonly depth: OrderBook;
  private mid: number;
  private book: TopOfBook;
  /** bid + ask of the price process's touch at the last requote: twice the mark price, exact. */
  private markTwiceUnits = 0n;
  private readonly random: () => number;
  private readonly tickValue: number;
  private readonly depthPrng: Mulberry32 | undefined;
  private depthDrawState: number | undefined;
  /**
   * The book of the last touch has its prices but not yet its sizes: they are the depth's touch levels, read when the
   * book is (`top`). A backtest requotes at every historical quote and reads almost none of those books; building
   * each one's touch levels was a good part of a quote's cost. Nothing can change the depth in between unseen: every
   * change (a taker's, a touch's sizes, the next touch) calls depthChanged or touch, which replace the book.
   */
  private touchSizesPending = false;

  constructor(rules: SymbolRules, random: () => number, nowMs: number, depth: DepthOptions = {}) {
    this.rules = rules;
    this.random = random;
    this.depthPrng = depth.prng;
    this.depth = new OrderBook(rules, depth.prng?.next ?? random, { ...defaultBookSettings, ...depth.settings });
    this.mid = rules.spec.startPrice;
    this.tickValue = Number(rules.spec.tickSize);
    this.book = { bidUnits: 0n, askUnits: 0n, bidQtyUnits: 0n, askQtyUnits: 0n, updateId: 0, timeMs: nowMs };
    this.requote(nowMs);
  }

  get midPrice(): number {
    return this.mid;
  }

  /** Twice the mark price (the touch mid) in price units: exact, for the PERCENT_PRICE filter. */
  get markTwice(): bigint {
    return this.markTwiceUnits;
  }

  /** Best bid and ask with their sizes, as the depth stands (takers move it until the next step). */
  get top(): TopOfBook {
    if (this.touchSizesPending) {
      // The book is this touch's own object, not handed out yet: completed in place.
      this.touchSizesPending = false;
      this.book.bidQtyUnits = this.depth.bestOf('bids')?.qtyUnits ?? 0n;
      this.book.askQtyUnits = this.depth.bestOf('asks')?.qtyUnits ?? 0n;
    }
    return this.book;
  }

  /** Takers changed the depth: the touch follows its best levels (an emptied side keeps its last price, size 0). */
  depthChanged(nowMs: number): void {
    this.touchSizesPending = false;
    const bid = this.depth.bestOf('bids');
    const ask = this.depth.bestOf('asks');
    this.book = {
      bidUnits: bid?.priceUnits ?? this.book.bidUnits,
      askUnits: ask?.priceUnits ?? this.book.askUnits,
      bidQtyUnits: bid?.qtyUnits ?? 0n,
      askQtyUnits: ask?.qtyUnits ?? 0n,
      updateId: this.book.updateId + 1,
      timeMs: nowMs,
    };
  }

  /** Where the price process stands (state-store persistence, checkpointed about each second). */
  checkpoint(): MarketCheckpoint {
    const cp: MarketCheckpoint = { mid: this.mid, updateId: this.book.updateId, timeMs: this.book.timeMs };
    if (this.depthDrawState !== undefined) cp.depthDrawState = this.depthDrawState;
    return cp;
  }

  /**
   * Continues from a checkpoint: the last mid, book update ids that keep increasing, and (with its draw state)
   * the same levels as at the checkpoint, before takers took from them. The caller sets the PRNGs' own states
   * after every market has resumed: the redraw here moves the shared depth PRNG.
   */
  resume(cp: MarketCheckpoint, nowMs: number): void {
    if (!Number.isFinite(cp.mid) || cp.mid <= 0) return;
    this.mid = cp.mid;
    this.book = { ...this.book, updateId: Math.max(this.book.updateId, cp.updateId) };
    if (this.depthPrng && cp.depthDrawState !== undefined) this.depthPrng.state = cp.depthDrawState;
    this.requote(Math.max(nowMs, cp.timeMs));
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

  /**
   * A touch given from outside (a backtest's historical quote) instead of the walk: bid and ask on the tick grid,
   * bid below ask. The depth is redrawn around it as at every step; the walk goes on from its mid.
   */
  setTouch(bidUnits: bigint, askUnits: bigint, nowMs: number): void {
    if (bidUnits <= 0n || askUnits <= bidUnits) throw new Error(`invalid touch ${bidUnits}/${askUnits}`);
    if (bidUnits % this.rules.tickUnits !== 0n || askUnits % this.rules.tickUnits !== 0n) throw new Error(`touch ${bidUnits}/${askUnits} is off the tick grid`);
    const twiceMid = bidUnits + askUnits;
    this.mid = Number(twiceMid) / 2 / 10 ** this.rules.priceScale;
    this.touch(bidUnits, askUnits, nowMs, twiceMid);
  }

  /** The touch's sizes from outside (a backtest's bookTicker), on the levels still at its prices (order-book.ts, setTouchSizes). */
  setTouchSizes(touch: TouchSizes, nowMs: number): void {
    this.depth.setTouchSizes(touch);
    this.depthChanged(nowMs);
  }

  private requote(nowMs: number): void {
    // The small epsilon keeps e.g. 60000.1 / 0.1 from landing on 600000.9999 and losing a tick.
    const bidTicks = BigInt(Math.max(1, Math.floor(this.mid / this.tickValue + 1e-9)));
    const bidUnits = bidTicks * this.rules.tickUnits;
    const askUnits = bidUnits + BigInt(Math.max(1, this.rules.spec.spreadTicks)) * this.rules.tickUnits;
    this.touch(bidUnits, askUnits, nowMs);
  }

  private touch(bidUnits: bigint, askUnits: bigint, nowMs: number, twiceMid = bidUnits + askUnits): void {
    this.markTwiceUnits = twiceMid;
    this.depthDrawState = this.depthPrng?.state;
    this.depth.redraw(bidUnits, askUnits);
    // A redraw's touch levels lie at the touch's prices on both sides (order-book.ts): only their sizes wait.
    this.book = { bidUnits, askUnits, bidQtyUnits: 0n, askQtyUnits: 0n, updateId: this.book.updateId + 1, timeMs: nowMs };
    this.touchSizesPending = true;
  }
}
