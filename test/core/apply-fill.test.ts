import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyFillToPosition } from '../../src/core/events.js';
import type { Decimal, Price, Qty, Usd } from '../../src/model/decimal.js';
import { abs, add, decimalOf, div, entryPriceScale, isZero, min, mul, neg, sign, sub, zero } from '../../src/model/decimal.js';

// A fill moves a position (the fold, and the ledger's own book of it) in exact arithmetic, now on parsed values with each
// result written once. It must give the very decimals the string operations gave one after another.

/** The fill as the string operations computed it (each step written as a decimal and parsed again by the next). */
function byStrings(position: { qty: Qty; entryPrice: Price } | undefined, signedQty: Qty, price: Price): { qty: Qty; entryPrice: Price; realizedPnlUsd: Usd } {
  const qty = position?.qty ?? zero;
  const entry = position?.entryPrice ?? zero;
  const next = add(qty, signedQty);
  if (isZero(qty) || sign(qty) === sign(signedQty)) {
    const cost = add(mul(abs(qty), entry), mul(abs(signedQty), price));
    const entryPrice = isZero(next) ? zero : (div(cost, abs(next), entryPriceScale, 'half-even') as Price);
    return { qty: next, entryPrice, realizedPnlUsd: zero };
  }
  const closed = min(abs(qty), abs(signedQty));
  const pnl = mul(closed, sub<Decimal>(price, entry)) as Usd;
  const realizedPnlUsd = sign(qty) > 0 ? pnl : neg(pnl);
  if (isZero(next)) return { qty: zero, entryPrice: zero, realizedPnlUsd };
  return { qty: next, entryPrice: sign(next) === sign(qty) ? entry : price, realizedPnlUsd };
}

const decimalArb = (min: number, max: number, scale: number): fc.Arbitrary<string> =>
  fc.integer({ min, max }).map((u) => decimalOf({ units: BigInt(u), scale }));

describe('a fill applied to a position', () => {
  it('gives the decimals the string operations gave: adding, reducing, closing and flipping, any scales', () => {
    fc.assert(
      fc.property(
        fc.option(fc.record({ qty: decimalArb(-5_000_000, 5_000_000, 3), entry: decimalArb(1, 10_000_000, 12) }), { nil: undefined }),
        fc.oneof(decimalArb(-5_000_000, 5_000_000, 3), decimalArb(-50, 50, 0)),
        fc.oneof(decimalArb(1, 100_000_000, 1), decimalArb(1, 10_000, 4)),
        (held, fill, price) => {
          const position = held === undefined ? undefined : { qty: held.qty as Qty, entryPrice: held.entry as Price };
          expect(applyFillToPosition(position, fill as Qty, price as Price)).toEqual(byStrings(position, fill as Qty, price as Price));
        },
      ),
      { numRuns: 20_000 },
    );
    // The cases by name: a close to zero, a flip, a reduce, an add with a rounded average.
    const long = { qty: '0.3' as Qty, entryPrice: '60000' as Price };
    for (const [fill, price] of [
      ['-0.3', '61000'],
      ['-0.5', '59000.5'],
      ['-0.1', '60500'],
      ['0.7', '60000.3'],
    ] as const)
      expect(applyFillToPosition(long, fill as Qty, price as Price)).toEqual(byStrings(long, fill as Qty, price as Price));
  });
});
