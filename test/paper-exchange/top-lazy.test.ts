import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mulberry32, SymbolMarket } from '../../src/paper-exchange/price-process.js';
import type { TopOfBook } from '../../src/paper-exchange/price-process.js';
import { defaultSimSymbols, deriveRules } from '../../src/paper-exchange/symbols.js';

// A touch's book (SymbolMarket.top) gets its sizes only when read (price-process.ts, touchSizesPending): a backtest
// requotes at every quote and reads almost none of those books. Read late, after any mix of touches, takers and
// touch sizes, it must be the book the eager code built at each change: the reference below builds it so.

const btc = deriveRules(defaultSimSymbols[0] as (typeof defaultSimSymbols)[number]);
const tick = btc.tickUnits;
const step = btc.stepUnits;
/** Two thin levels a side, so a taker can empty a side (the book then keeps that side's last price, size 0). */
const settings = { levels: 2, minLevelNotionalUsd: 1_000, maxLevelNotionalUsd: 5_000, maxTouchTradeFraction: 0.25 };

type Op =
  | { kind: 'touch'; bidTicks: number; spread: number }
  | { kind: 'take'; side: 'BUY' | 'SELL'; steps: number }
  | { kind: 'sizes'; bidSteps: number; askSteps: number }
  | { kind: 'read' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('touch' as const), bidTicks: fc.integer({ min: 860_000, max: 860_020 }), spread: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('take' as const), side: fc.constantFrom('BUY' as const, 'SELL' as const), steps: fc.integer({ min: 1, max: 150 }) }),
  fc.record({ kind: fc.constant('sizes' as const), bidSteps: fc.integer({ min: 0, max: 90 }), askSteps: fc.integer({ min: 0, max: 90 }) }),
  fc.constant({ kind: 'read' as const }),
);

function apply(market: SymbolMarket, o: Op, nowMs: number): void {
  if (o.kind === 'touch') market.setTouch(BigInt(o.bidTicks) * tick, BigInt(o.bidTicks + o.spread) * tick, nowMs);
  else if (o.kind === 'take') {
    // As matching.ts's taker: level by level, then the touch follows the depth.
    let left = BigInt(o.steps) * step;
    for (let best = market.depth.opposite(o.side)[0]; best && left > 0n; best = market.depth.opposite(o.side)[0]) {
      const took = best.qtyUnits < left ? best.qtyUnits : left;
      market.depth.consume(o.side, took);
      left -= took;
    }
    market.depthChanged(nowMs);
  } else if (o.kind === 'sizes') {
    const { bidUnits, askUnits } = market.top;
    market.setTouchSizes({ bidUnits, askUnits, bidQtyUnits: BigInt(o.bidSteps) * step, askQtyUnits: BigInt(o.askSteps) * step }, nowMs);
  }
}

describe("the price process's top of book, its sizes read late", () => {
  it('is the book a reader at every step sees, whenever it is read', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.array(op, { maxLength: 40 }), (seed, ops) => {
        const market = (): SymbolMarket => new SymbolMarket(btc, new Mulberry32(seed).next, 0, { prng: new Mulberry32(seed + 1), settings });
        const late = market();
        const eager = market();
        // The book as depthChanged built it eagerly at every change: the touch levels, an emptied side keeping its price.
        let want: TopOfBook = { ...eager.top };
        ops.forEach((o, i) => {
          apply(late, o, i + 1);
          apply(eager, o, i + 1);
          if (o.kind === 'read') {
            expect(late.top).toEqual(want);
            return;
          }
          const bid = eager.depth.bestOf('bids');
          const ask = eager.depth.bestOf('asks');
          want = {
            bidUnits: bid?.priceUnits ?? want.bidUnits,
            askUnits: ask?.priceUnits ?? want.askUnits,
            bidQtyUnits: bid?.qtyUnits ?? 0n,
            askQtyUnits: ask?.qtyUnits ?? 0n,
            updateId: want.updateId + 1,
            timeMs: i + 1,
          };
        });
        expect(late.top).toEqual(want);
        expect(late.depth.levelsOf('bids', 10)).toEqual(eager.depth.levelsOf('bids', 10));
        expect(late.depth.levelsOf('asks', 10)).toEqual(eager.depth.levelsOf('asks', 10));
      }),
      { numRuns: 2_000 },
    );
  });
});
