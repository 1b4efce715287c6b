// The paper exchange's depth: a few price levels per side with finite size, drawn from a seeded PRNG around
// the price process's touch and redrawn at every price step. Prices and sizes are exact integers at the
// symbol's price and quantity scales (see decimal.ts); the PRNG only picks them.
//
// The model, plainly:
// - Level 0 of each side is the price process's touch; each deeper level is 1..maxLevelGapTicks ticks further
//   away. A level's size is a notional drawn in [minLevelNotionalUsd, maxLevelNotionalUsd], converted to
//   quantity at the level's price and rounded down to the step (at least one step).
// - A taker (MARKET, or a LIMIT that crosses) consumes levels best first, one trade per level; what it took
//   stays taken until the next price step redraws the book.
// - At each redraw, the market trades some volume at each touch (the "tape"): a uniform draw in
//   [0, maxTouchTradeFraction] of the touch level's size. Resting orders at the touch fill from it after the
//   size that was queued ahead of them (matching.ts).
import { unitsToNumber } from '../model/decimal.js';
import { Mulberry32 } from './mulberry32.js';
import type { SymbolRules } from './symbols.js';

export type BookSide = 'BUY' | 'SELL';

export interface BookLevel {
  priceUnits: bigint;
  qtyUnits: bigint;
}

export interface BookSettings {
  /** Levels per side. */
  levels: number;
  /** Each level holds a notional (USD) drawn uniformly in [min, max], converted to quantity at its price. */
  minLevelNotionalUsd: number;
  maxLevelNotionalUsd: number;
  /** Distance between neighbouring levels, drawn uniformly in [1, maxLevelGapTicks] ticks. */
  maxLevelGapTicks: number;
  /** Volume traded at each touch per price step, as a fraction of the touch level's size: uniform in [0, this]. */
  maxTouchTradeFraction: number;
}

/**
 * Defaults: 10 levels 1 tick apart, 200 000..1 000 000 USD each (about 2 M USD a side at the touch region),
 * so an engine test order (a few thousand to 100 000 USD notional) fills inside the first level or two, as
 * it did before the book had depth. Tests that need slippage shrink the levels or widen the gaps.
 */
export const defaultBookSettings: BookSettings = {
  levels: 10,
  minLevelNotionalUsd: 200_000,
  maxLevelNotionalUsd: 1_000_000,
  maxLevelGapTicks: 1,
  maxTouchTradeFraction: 0.25,
};

/** The touch with its sizes as the market showed them (a bookTicker update), on the symbol's grids. */
export interface TouchSizes {
  bidUnits: bigint;
  bidQtyUnits: bigint;
  askUnits: bigint;
  askQtyUnits: bigint;
}

export class OrderBook {
  /** Best first: bids descending, asks ascending (only once built: see `drawn`). */
  private bids: BookLevel[] = [];
  private asks: BookLevel[] = [];
  /** Volume the market traded this step at the bid (sellers hitting it) and at the ask (buyers lifting it). */
  private tradedAtBid = 0n;
  private tradedAtAsk = 0n;
  /**
   * A redraw takes its draws from the PRNG at once, in the order the levels use them, and builds the levels from them
   * only when something reads the book: a backtest requotes at every historical quote (tens of thousands a run) and
   * almost none of those books is ever read beyond the touch. The PRNG moves exactly as an eager redraw moves it, and
   * the levels built later are the ones it would have built (same draws, same arithmetic), so nothing else can tell.
   * Layout: the bids' notional draws (one a level), the asks', then the tape draw at the bid and at the ask.
   * With a Mulberry32 (`skipping`) a redraw does not even make the draws: it notes where the PRNG stood and skips it
   * past them; a level built later makes its own draw from there (Mulberry32.drawAfter), the same number.
   */
  private readonly draws: Float64Array;
  /** The PRNG behind `random` when it can skip draws and make them later: a lazy redraw then takes none at once. */
  private readonly skipping: Mulberry32 | undefined;
  /** Where `skipping` stood before the last lazy redraw's draws. */
  private drawsFromState = 0;
  /** What of the last redraw is built: nothing yet, the touch levels and the tape, or every level. */
  private drawn: 'none' | 'touch' | 'all' = 'all';
  private drawnBidUnits = 0n;
  private drawnAskUnits = 0n;
  /** A touch above this many price units keeps all the bid levels above zero (gaps of one tick): a fixed count of draws. */
  private readonly lazyMinTouchUnits: bigint;
  private readonly stepValue: number;
  private readonly stepCount: number;

  constructor(
    private readonly rules: SymbolRules,
    private readonly random: () => number,
    readonly settings: BookSettings,
  ) {
    if (!Number.isInteger(settings.levels) || settings.levels < 1) throw new Error(`bookLevels must be a positive integer, got ${settings.levels}`);
    this.draws = new Float64Array(2 * settings.levels + 2);
    this.skipping = Mulberry32.behind(random);
    this.lazyMinTouchUnits = BigInt(settings.levels - 1) * rules.tickUnits;
    this.stepValue = unitsToNumber(rules.stepUnits, rules.qtyScale);
    this.stepCount = Number(rules.stepUnits);
  }

  /** Redraws every level around a new touch and the tape volume of this step. */
  redraw(bidUnits: bigint, askUnits: bigint): void {
    // Gaps drawn per level (maxLevelGapTicks > 1), or a bid side that may end at zero: the number of draws depends
    // on the draws themselves, so the book is built at once.
    if (this.settings.maxLevelGapTicks > 1 || bidUnits <= this.lazyMinTouchUnits || askUnits <= this.lazyMinTouchUnits) {
      this.redrawNow(bidUnits, askUnits);
      return;
    }
    if (this.skipping) {
      this.drawsFromState = this.skipping.state;
      this.skipping.skip(this.draws.length);
    } else {
      const draws = this.draws;
      for (let i = 0; i < draws.length; i++) draws[i] = this.random();
    }
    this.drawnBidUnits = bidUnits;
    this.drawnAskUnits = askUnits;
    this.drawn = 'none';
  }

  private redrawNow(bidUnits: bigint, askUnits: bigint): void {
    this.drawn = 'all';
    this.bids = this.drawSide(bidUnits, -1n);
    this.asks = this.drawSide(askUnits, 1n);
    // No draw for a side without levels.
    const bestBid = this.bids[0];
    this.tradedAtBid = bestBid ? this.tapeAt(bestBid, this.random()) : 0n;
    const bestAsk = this.asks[0];
    this.tradedAtAsk = bestAsk ? this.tapeAt(bestAsk, this.random()) : 0n;
  }

  /** The tape at a touch level: a uniform share in [0, maxTouchTradeFraction] of its drawn size, on the step. */
  private tapeAt(level: BookLevel, draw: number): bigint {
    // No tape (a backtest's book): none traded, as the formula gives, without its arithmetic at every requote.
    if (this.settings.maxTouchTradeFraction === 0) return 0n;
    const steps = Math.floor((draw * this.settings.maxTouchTradeFraction * Number(level.qtyUnits)) / this.stepCount);
    return BigInt(Math.max(0, steps)) * this.rules.stepUnits;
  }

  private drawSide(touchUnits: bigint, direction: 1n | -1n): BookLevel[] {
    const { tickUnits } = this.rules;
    const s = this.settings;
    const out: BookLevel[] = [];
    let priceUnits = touchUnits;
    for (let i = 0; i < s.levels; i++) {
      if (i > 0) {
        const gapTicks = s.maxLevelGapTicks <= 1 ? 1 : 1 + Math.floor(this.random() * s.maxLevelGapTicks);
        priceUnits += direction * BigInt(gapTicks) * tickUnits;
      }
      if (priceUnits <= 0n) break;
      out.push(this.level(priceUnits, this.random()));
    }
    return out;
  }

  /** A level at `priceUnits` holding the notional `draw` picks, as quantity rounded down to the step (at least one). */
  private level(priceUnits: bigint, draw: number): BookLevel {
    const s = this.settings;
    const notional = s.minLevelNotionalUsd + draw * (s.maxLevelNotionalUsd - s.minLevelNotionalUsd);
    const steps = Math.max(1, Math.floor(notional / unitsToNumber(priceUnits, this.rules.priceScale) / this.stepValue));
    return { priceUnits, qtyUnits: BigInt(steps) * this.rules.stepUnits };
  }

  /** The `i`-th draw of the last lazy redraw (its layout: `draws`). */
  private drawAt(i: number): number {
    return this.skipping ? Mulberry32.drawAfter(this.drawsFromState, i + 1) : (this.draws[i] as number);
  }

  /** The touch levels and the tape of a lazy redraw, built from its draws (before anything can have taken from them). */
  private buildTouch(): void {
    if (this.drawn !== 'none') return;
    const levels = this.settings.levels;
    const bid = this.level(this.drawnBidUnits, this.drawAt(0));
    const ask = this.level(this.drawnAskUnits, this.drawAt(levels));
    this.bids = [bid];
    this.asks = [ask];
    this.tradedAtBid = this.tapeAt(bid, this.drawAt(2 * levels));
    this.tradedAtAsk = this.tapeAt(ask, this.drawAt(2 * levels + 1));
    this.drawn = 'touch';
  }

  /** Every level of a lazy redraw; the touch levels built already are kept (with whatever was taken from them). */
  private build(): void {
    if (this.drawn === 'all') return;
    this.buildTouch();
    const { levels } = this.settings;
    const { tickUnits } = this.rules;
    for (let i = 1; i < levels; i++) {
      const away = BigInt(i) * tickUnits;
      this.bids.push(this.level(this.drawnBidUnits - away, this.drawAt(i)));
      this.asks.push(this.level(this.drawnAskUnits + away, this.drawAt(levels + i)));
    }
    this.drawn = 'all';
  }

  /** The levels a taker on `side` trades against (asks for a buy, bids for a sell), best first. */
  opposite(side: BookSide): readonly BookLevel[] {
    this.build();
    return side === 'BUY' ? this.asks : this.bids;
  }

  /** The best level of a side (its touch), as levelsOf(side, 1)[0] without the copy: read at every requote. */
  bestOf(side: 'bids' | 'asks'): BookLevel | undefined {
    this.buildTouch();
    return side === 'bids' ? this.bids[0] : this.asks[0];
  }

  levelsOf(side: 'bids' | 'asks', limit: number): readonly BookLevel[] {
    // The touch alone needs no deeper level built.
    if (limit <= 1) this.buildTouch();
    else this.build();
    return (side === 'bids' ? this.bids : this.asks).slice(0, limit);
  }

  /** Best level a `side` taker would trade with, if it is within `limitUnits` (null: no limit). */
  bestFor(side: BookSide, limitUnits: bigint | null): BookLevel | undefined {
    const best = this.opposite(side)[0];
    if (!best || (limitUnits !== null && !withinLimit(side, best.priceUnits, limitUnits))) return undefined;
    return best;
  }

  /** Quantity a `side` taker could take at `limitUnits` or better (null: the whole side). */
  available(side: BookSide, limitUnits: bigint | null): bigint {
    let total = 0n;
    for (const level of this.opposite(side)) {
      if (limitUnits !== null && !withinLimit(side, level.priceUnits, limitUnits)) break;
      total += level.qtyUnits;
    }
    return total;
  }

  /** Removes `qtyUnits` from the best level a `side` taker trades with; an emptied level leaves the book. */
  consume(side: BookSide, qtyUnits: bigint): void {
    this.build();
    const levels = side === 'BUY' ? this.asks : this.bids;
    const best = levels[0];
    if (!best) return;
    best.qtyUnits -= qtyUnits;
    if (best.qtyUnits <= 0n) levels.shift();
  }

  /**
   * The touch levels' sizes as given from outside (a backtest's bookTicker best_bid_qty/best_ask_qty) in place of the
   * drawn ones; the deeper levels stay as drawn. A side whose best level is no longer at that price (takers emptied
   * it) or a size of 0 (not a size to queue behind) is left as it is.
   */
  setTouchSizes({ bidUnits, bidQtyUnits, askUnits, askQtyUnits }: TouchSizes): void {
    this.buildTouch();
    putTouchSize(this.bids[0], bidUnits, bidQtyUnits);
    putTouchSize(this.asks[0], askUnits, askQtyUnits);
  }

  /** Same-side best level (bid for a buy): where a new order at `priceUnits` would queue, and the size ahead. */
  sizeAt(side: BookSide, priceUnits: bigint): bigint {
    this.build();
    const levels = side === 'BUY' ? this.bids : this.asks;
    return levels.find((l) => l.priceUnits === priceUnits)?.qtyUnits ?? 0n;
  }

  /** The tape of this step on the side a resting `side` order sits on: sellers at the bid fill resting buys. */
  tradedAgainst(side: BookSide): bigint {
    this.buildTouch();
    return side === 'BUY' ? this.tradedAtBid : this.tradedAtAsk;
  }
}

/**
 * The touch's size from a bookTicker update into its level, when the level is still at that price. A function of the
 * module, not a closure made per update: run through tsx (keepNames), each named closure is also a defineProperty.
 */
function putTouchSize(best: BookLevel | undefined, priceUnits: bigint, qtyUnits: bigint): void {
  if (best && best.priceUnits === priceUnits && qtyUnits > 0n) best.qtyUnits = qtyUnits;
}

/** Whether a `side` taker with limit `limitUnits` may trade at `priceUnits`. */
export function withinLimit(side: BookSide, priceUnits: bigint, limitUnits: bigint): boolean {
  return side === 'BUY' ? priceUnits <= limitUnits : priceUnits >= limitUnits;
}
