import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../../src/paper-exchange/mulberry32.js';
import { defaultBookSettings, OrderBook } from '../../src/paper-exchange/order-book.js';
import { defaultSimSymbols, deriveRules } from '../../src/paper-exchange/symbols.js';

// A backtest's book redraws its depth at every quote and reads it for almost none (order-book.ts): with a Mulberry32
// the redraw skips the PRNG past its draws and a level makes its draw later. Nothing may tell: the same levels, and
// the PRNG where the eager draws would have left it, for whoever draws next.

describe('Mulberry32 skipping draws', () => {
  it('skip(n) leaves it where n draws would, and drawAfter gives each of them', () => {
    for (const seed of [0, 1, 42, 0xffffffff, 123_456_789]) {
      for (const n of [0, 1, 2, 41, 42, 1_000, 100_003]) {
        const drawing = new Mulberry32(seed);
        const skipping = new Mulberry32(seed);
        const drawn: number[] = [];
        for (let i = 0; i < n; i += 1) drawn.push(drawing.next());
        const from = skipping.state;
        skipping.skip(n);
        expect(skipping.state).toBe(drawing.state);
        expect(skipping.next()).toBe(drawing.next());
        for (const k of [1, 2, n - 1, n]) if (k >= 1 && k <= n) expect(Mulberry32.drawAfter(from, k)).toBe(drawn[k - 1]);
      }
    }
  });

  it('is found behind its own next only', () => {
    const prng = new Mulberry32(7);
    expect(Mulberry32.behind(prng.next)).toBe(prng);
    expect(Mulberry32.behind(() => prng.next())).toBeUndefined();
  });

  it('gives a book the levels the eager draws gave, and leaves the PRNG as they left it', () => {
    const rules = deriveRules(defaultSimSymbols[0] ?? (undefined as never));
    const lazy = new Mulberry32(99);
    const eager = new Mulberry32(99);
    // A wrapper is not a Mulberry32's own next: that book takes its draws at once, as before.
    const skippingBook = new OrderBook(rules, lazy.next, defaultBookSettings);
    const drawingBook = new OrderBook(rules, () => eager.next(), defaultBookSettings);
    const tick = rules.tickUnits;
    const base = 600_000n * tick;
    for (let step = 0; step < 50; step += 1) {
      const bid = base + BigInt(step % 7) * tick;
      skippingBook.redraw(bid, bid + tick);
      drawingBook.redraw(bid, bid + tick);
      // Read some books whole, some at the touch only, most not at all.
      if (step % 5 === 0) expect(skippingBook.levelsOf('bids', 20)).toEqual(drawingBook.levelsOf('bids', 20));
      if (step % 5 === 1) expect(skippingBook.opposite('BUY')).toEqual(drawingBook.opposite('BUY'));
      expect(lazy.state).toBe(eager.state);
    }
    expect(lazy.next()).toBe(eager.next());
  });
});
