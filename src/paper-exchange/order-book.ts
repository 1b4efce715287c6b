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
  /** Best first: bids descending, asks ascending. */
  private bids: BookLevel[] = [];
  private asks: BookLevel[] = [];
  /** Volume the market traded this step at the bid (sellers hitting it) and at the ask (buyers lifting it). */
  private tradedAtBid = 0n;
  private tradedAtAsk = 0n;

  constructor(
    private readonly rules: SymbolRules,
    private readonly random: () => number,
    readonly settings: BookSettings,
  ) {
    if (!Number.isInteger(settings.levels) || settings.levels < 1) throw new Error(`bookLevels must be a positive integer, got ${settings.levels}`);
  }

  /** Redraws every level around a new touch and the tape volume of this step. */
  redraw(bidUnits: bigint, askUnits: bigint): void {
    this.bids = this.drawSide(bidUnits, -1n);
    this.asks = this.drawSide(askUnits, 1n);
    const tape = (level: BookLevel | undefined): bigint => {
      if (!level) return 0n;
      const steps = Math.floor((this.random() * this.settings.maxTouchTradeFraction * Number(level.qtyUnits)) / Number(this.rules.stepUnits));
      return BigInt(Math.max(0, steps)) * this.rules.stepUnits;
    };
    this.tradedAtBid = tape(this.bids[0]);
    this.tradedAtAsk = tape(this.asks[0]);
  }

  private drawSide(touchUnits: bigint, direction: 1n | -1n): BookLevel[] {
    const { tickUnits, stepUnits, priceScale, qtyScale } = this.rules;
    const s = this.settings;
    const stepValue = unitsToNumber(stepUnits, qtyScale);
    const out: BookLevel[] = [];
    let priceUnits = touchUnits;
    for (let i = 0; i < s.levels; i++) {
      if (i > 0) {
        const gapTicks = s.maxLevelGapTicks <= 1 ? 1 : 1 + Math.floor(this.random() * s.maxLevelGapTicks);
        priceUnits += direction * BigInt(gapTicks) * tickUnits;
      }
      if (priceUnits <= 0n) break;
      const notional = s.minLevelNotionalUsd + this.random() * (s.maxLevelNotionalUsd - s.minLevelNotionalUsd);
      const steps = Math.max(1, Math.floor(notional / unitsToNumber(priceUnits, priceScale) / stepValue));
      out.push({ priceUnits, qtyUnits: BigInt(steps) * stepUnits });
    }
    return out;
  }

  /** The levels a taker on `side` trades against (asks for a buy, bids for a sell), best first. */
  opposite(side: BookSide): readonly BookLevel[] {
    return side === 'BUY' ? this.asks : this.bids;
  }

  levelsOf(side: 'bids' | 'asks', limit: number): readonly BookLevel[] {
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
    const put = (best: BookLevel | undefined, priceUnits: bigint, qtyUnits: bigint): void => {
      if (best && best.priceUnits === priceUnits && qtyUnits > 0n) best.qtyUnits = qtyUnits;
    };
    put(this.bids[0], bidUnits, bidQtyUnits);
    put(this.asks[0], askUnits, askQtyUnits);
  }

  /** Same-side best level (bid for a buy): where a new order at `priceUnits` would queue, and the size ahead. */
  sizeAt(side: BookSide, priceUnits: bigint): bigint {
    const levels = side === 'BUY' ? this.bids : this.asks;
    return levels.find((l) => l.priceUnits === priceUnits)?.qtyUnits ?? 0n;
  }

  /** The tape of this step on the side a resting `side` order sits on: sellers at the bid fill resting buys. */
  tradedAgainst(side: BookSide): bigint {
    return side === 'BUY' ? this.tradedAtBid : this.tradedAtAsk;
  }
}

/** Whether a `side` taker with limit `limitUnits` may trade at `priceUnits`. */
export function withinLimit(side: BookSide, priceUnits: bigint, limitUnits: bigint): boolean {
  return side === 'BUY' ? priceUnits <= limitUnits : priceUnits >= limitUnits;
}
