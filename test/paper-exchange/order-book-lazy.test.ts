import { describe, expect, it } from 'vitest';
import { unitsToNumber } from '../../src/model/decimal.js';
import type { BookLevel, BookSettings } from '../../src/paper-exchange/order-book.js';
import { defaultBookSettings, OrderBook } from '../../src/paper-exchange/order-book.js';
import { Mulberry32 } from '../../src/paper-exchange/price-process.js';
import type { SymbolRules } from '../../src/paper-exchange/symbols.js';
import { defaultSimSymbols, deriveRules } from '../../src/paper-exchange/symbols.js';

// The depth is drawn at a redraw but built only when read (order-book.ts): a backtest requotes at every historical
// quote and reads almost none of those books. Whatever is read, and in whatever order, must be what the eager
// redraw built from the same PRNG, and the PRNG must move as it did: the reference below is that eager redraw.

const btc = deriveRules(defaultSimSymbols[0] as (typeof defaultSimSymbols)[number]);

interface Drawn {
  bids: BookLevel[];
  asks: BookLevel[];
  tradedAtBid: bigint;
  tradedAtAsk: bigint;
}

/** The eager redraw as it was before the book became lazy: every level and the tape, drawn in this order. */
function eagerRedraw(rules: SymbolRules, random: () => number, s: BookSettings, bidUnits: bigint, askUnits: bigint): Drawn {
  const side = (touchUnits: bigint, direction: 1n | -1n): BookLevel[] => {
    const stepValue = unitsToNumber(rules.stepUnits, rules.qtyScale);
    const out: BookLevel[] = [];
    let priceUnits = touchUnits;
    for (let i = 0; i < s.levels; i++) {
      if (i > 0) {
        const gapTicks = s.maxLevelGapTicks <= 1 ? 1 : 1 + Math.floor(random() * s.maxLevelGapTicks);
        priceUnits += direction * BigInt(gapTicks) * rules.tickUnits;
      }
      if (priceUnits <= 0n) break;
      const notional = s.minLevelNotionalUsd + random() * (s.maxLevelNotionalUsd - s.minLevelNotionalUsd);
      const steps = Math.max(1, Math.floor(notional / unitsToNumber(priceUnits, rules.priceScale) / stepValue));
      out.push({ priceUnits, qtyUnits: BigInt(steps) * rules.stepUnits });
    }
    return out;
  };
  const bids = side(bidUnits, -1n);
  const asks = side(askUnits, 1n);
  const tape = (level: BookLevel | undefined): bigint => {
    if (!level) return 0n;
    const steps = Math.floor((random() * s.maxTouchTradeFraction * Number(level.qtyUnits)) / Number(rules.stepUnits));
    return BigInt(Math.max(0, steps)) * rules.stepUnits;
  };
  return { bids, asks, tradedAtBid: tape(bids[0]), tradedAtAsk: tape(asks[0]) };
}

const cases: { name: string; settings: BookSettings; bidUnits: bigint }[] = [
  { name: 'default depth (drawn lazily)', settings: defaultBookSettings, bidUnits: 8_694_440n },
  { name: "no tape (the backtest's book, drawn lazily)", settings: { ...defaultBookSettings, maxTouchTradeFraction: 0 }, bidUnits: 8_694_440n },
  { name: 'gaps drawn per level (built at once)', settings: { ...defaultBookSettings, maxLevelGapTicks: 300 }, bidUnits: 8_694_440n },
  { name: 'a bid so low its side ends at zero (built at once)', settings: defaultBookSettings, bidUnits: 5n * btc.tickUnits },
];

describe('lazy depth', () => {
  for (const { name, settings, bidUnits } of cases) {
    it(`${name}: every read answers what the eager redraw drew, and the PRNG moves as it did`, () => {
      const askUnits = bidUnits + btc.tickUnits;
      for (let seed = 1; seed <= 20; seed += 1) {
        const ours = new Mulberry32(seed);
        const theirs = new Mulberry32(seed);
        const book = new OrderBook(btc, ours.next, settings);
        const want = eagerRedraw(btc, theirs.next, settings, bidUnits, askUnits);
        book.redraw(bidUnits, askUnits);
        expect(ours.state).toBe(theirs.state);
        // The touch first (as the price process reads it at every requote), then the tape, then everything.
        expect(book.levelsOf('bids', 1)).toEqual(want.bids.slice(0, 1));
        expect(book.levelsOf('asks', 1)).toEqual(want.asks.slice(0, 1));
        expect(book.tradedAgainst('BUY')).toBe(want.tradedAtBid);
        expect(book.tradedAgainst('SELL')).toBe(want.tradedAtAsk);
        expect(book.levelsOf('bids', 100)).toEqual(want.bids);
        expect(book.opposite('BUY')).toEqual(want.asks);
      }
    });
  }

  it('what takers took from the touch before the deeper levels were built stays taken', () => {
    const ours = new Mulberry32(5);
    const theirs = new Mulberry32(5);
    const book = new OrderBook(btc, ours.next, defaultBookSettings);
    const want = eagerRedraw(btc, theirs.next, defaultBookSettings, 8_694_440n, 8_694_450n);
    book.redraw(8_694_440n, 8_694_450n);
    const bestBid = want.bids[0] as BookLevel;
    book.setTouchSizes({ bidUnits: bestBid.priceUnits, bidQtyUnits: 7n, askUnits: 0n, askQtyUnits: 0n });
    book.consume('BUY', (want.asks[0] as BookLevel).qtyUnits);
    expect(book.levelsOf('bids', 3)).toEqual([{ ...bestBid, qtyUnits: 7n }, ...want.bids.slice(1, 3)]);
    expect(book.levelsOf('asks', 100)).toEqual(want.asks.slice(1));
    expect(book.sizeAt('BUY', bestBid.priceUnits)).toBe(7n);
  });

  it('a redraw builds no level until the book is read', () => {
    // The rules' price scale is read only to price a level's size: counting its reads counts the levels built.
    let priceScaleReads = 0;
    const counted = new Proxy(btc, {
      get(target, key, receiver) {
        if (key === 'priceScale') priceScaleReads += 1;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const book = new OrderBook(counted, new Mulberry32(3).next, defaultBookSettings);
    for (let i = 0; i < 100; i += 1) book.redraw(8_694_440n + BigInt(i) * btc.tickUnits, 8_694_450n + BigInt(i) * btc.tickUnits);
    expect(priceScaleReads).toBe(0);
    book.levelsOf('bids', 1);
    expect(priceScaleReads).toBe(2); // the two touch levels, of the last redraw only
  });
});
