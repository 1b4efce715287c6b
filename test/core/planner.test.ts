import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { abs, compareDecimal, isMultipleOf, snapToStep, sub, toQty, toUsd } from '../../src/model/decimal.js';
import type { PlannedOrder } from '../../src/core/planner.js';
import { planFallback, planFlatten, planTowardTarget, targetQuantity } from '../../src/core/planner.js';
import type { SymbolFilters } from '../../src/model/market.js';
import { makeFilters } from './fixtures.js';

// Planner: rounding never exceeds a filter. Every price and quantity leaving it is on the symbol's grid and
// inside its bounds; entries meet MIN_NOTIONAL (checked exactly, in integers).

/** Exact product of two decimal strings, as a decimal string. */
function mulDecimal(a: string, b: string): string {
  const parts = (s: string): { digits: bigint; places: number } => {
    const [whole = '0', frac = ''] = s.split('.');
    return { digits: BigInt(whole + frac), places: frac.length };
  };
  const x = parts(a);
  const y = parts(b);
  const places = x.places + y.places;
  const text = (x.digits * y.digits).toString().padStart(places + 1, '0');
  return places > 0 ? `${text.slice(0, -places)}.${text.slice(-places)}` : text;
}

const filtersArb = fc
  .record({
    tickSize: fc.constantFrom('0.1', '0.10', '0.01', '0.001', '1', '0.05', '0.0001'),
    stepSize: fc.constantFrom('0.001', '0.01', '0.1', '1'),
    minSteps: fc.integer({ min: 1, max: 20 }),
    maxSteps: fc.integer({ min: 1, max: 1_000_000 }),
    marketMaxSteps: fc.integer({ min: 1, max: 1_000_000 }),
    minNotional: fc.constantFrom('0', '5', '20', '100'),
  })
  .map((f): SymbolFilters => {
    const step = Number(f.stepSize);
    return makeFilters('XUSDT', {
      tickSize: f.tickSize,
      minPrice: f.tickSize,
      maxPrice: '10000000',
      stepSize: f.stepSize,
      minQty: snapToStep(f.minSteps * step, f.stepSize, 'down'),
      maxQty: snapToStep(Math.max(f.minSteps, f.maxSteps) * step, f.stepSize, 'down'),
      marketStepSize: f.stepSize,
      marketMaxQty: snapToStep(f.marketMaxSteps * step, f.stepSize, 'down'),
      minNotional: f.minNotional,
    });
  });

// fc.double clusters at the ends of its range; prices spread log-uniformly over 0.01 … 200_000 instead.
const priceArb = fc.tuple(fc.integer({ min: -200, max: 530 }), fc.integer({ min: 0, max: 999 })).map(([e, jitter]) => 10 ** (e / 100) * (1 + jitter / 10_000));
const weightArb = fc.oneof(
  fc.integer({ min: -1_000, max: 1_000 }).map((x) => x / 1_000),
  fc.double({ min: -1, max: 1, noNaN: true }),
);

/** A touch on the tick grid: bid >= one tick, ask = bid + spread ticks. */
function touchFor(filters: SymbolFilters, price: number, spreadTicks: number): { bid: number; ask: number } {
  const tick = Number(filters.tickSize);
  const bid = Number(snapToStep(Math.max(tick, price), filters.tickSize, 'down'));
  return { bid, ask: Number(snapToStep(bid + spreadTicks * tick, filters.tickSize, 'up')) };
}

function expectWithinFilters(order: PlannedOrder, filters: SymbolFilters): void {
  expect(isMultipleOf(order.quantity, filters.stepSize)).toBe(true);
  expect(compareDecimal(order.quantity, filters.minQty)).toBeGreaterThanOrEqual(0);
  expect(compareDecimal(order.quantity, filters.maxQty)).toBeLessThanOrEqual(0);
  expect(order.price).not.toBeNull();
  const price = order.price ?? '';
  expect(isMultipleOf(price, filters.tickSize)).toBe(true);
  expect(compareDecimal(price, filters.minPrice)).toBeGreaterThanOrEqual(0);
  expect(compareDecimal(price, filters.maxPrice)).toBeLessThanOrEqual(0);
  // Reduce-only orders are exempt from MIN_NOTIONAL on Binance; entries are not.
  if (!order.reduceOnly) expect(compareDecimal(mulDecimal(order.quantity, price), filters.minNotional)).toBeGreaterThanOrEqual(0);
}

describe('planner: rounding never exceeds a filter', () => {
  it('plans post-only orders at the touch, on the grid, within quantity bounds, meeting min notional for entries', () => {
    let orders = 0;
    let reduces = 0;
    fc.assert(
      fc.property(
        filtersArb,
        priceArb,
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 10, max: 10_000_000 }),
        weightArb,
        fc.oneof(
          fc.constant(0),
          fc.integer({ min: -1_000_000, max: 1_000_000 }).map((x) => x / 1_000),
          fc.integer({ min: -1_000_000, max: 1_000_000 }).map((x) => x / 1_000_000),
          fc.double({ min: -1_000, max: 1_000, noNaN: true }),
        ),
        fc.boolean(),
        (filters, price, spreadTicks, capital, weight, rawCurrent, onGrid) => {
          const touch = touchFor(filters, price, spreadTicks);
          // Positions are on the step grid, or (adopted from the exchange) any 1e-9-rounded amount.
          const magnitude = Math.abs(rawCurrent);
          const current = onGrid
            ? Math.sign(rawCurrent) * Number(snapToStep(magnitude, filters.stepSize, 'down'))
            : magnitude < 1e-6
              ? 0
              : Math.round(rawCurrent * 1e9) / 1e9;
          const targetQty = targetQuantity(weight, toUsd(capital), 1, touch, filters);
          const target = Number(targetQty);
          // The target is on the grid, has the weight's sign, and never exceeds capital × |weight| at mid.
          expect(isMultipleOf(snapToStep(Math.abs(target), filters.stepSize, 'down'), filters.stepSize)).toBe(true);
          expect(target === 0 || Math.sign(target) === Math.sign(weight)).toBe(true);
          expect(Math.abs(target) * ((touch.bid + touch.ask) / 2)).toBeLessThanOrEqual(Math.abs(weight) * capital * (1 + 1e-9));

          const currentQty = toQty(current);
          const plan = planTowardTarget('XUSDT', currentQty, targetQty, touch, filters);
          if (plan.kind === 'skip') return;
          orders += 1;
          const o = plan.order;
          expectWithinFilters(o, filters);
          // GTX at the touch: buy at the bid, sell at the ask.
          expect(o).toMatchObject({ symbol: 'XUSDT', type: 'LIMIT', timeInForce: 'GTX' });
          expect(o.price).toBe(o.side === 'BUY' ? snapToStep(touch.bid, filters.tickSize, 'down') : snapToStep(touch.ask, filters.tickSize, 'up'));
          expect(Math.abs(Number(o.price) - (o.side === 'BUY' ? touch.bid : touch.ask))).toBeLessThan(Number(filters.tickSize) / 1_000);
          // Moves toward the target and never past it (a flip stops at flat).
          const flips = current !== 0 && target !== 0 && Math.sign(current) !== Math.sign(target);
          const goal = flips ? 0 : target;
          expect(o.side).toBe(goal > current ? 'BUY' : 'SELL');
          expect(compareDecimal(o.quantity, abs(sub(flips ? toQty(0) : targetQty, currentQty)))).toBeLessThanOrEqual(0);
          if (o.reduceOnly) {
            reduces += 1;
            expect(o.purpose).toBe('reduce');
            expect(compareDecimal(o.quantity, abs(currentQty))).toBeLessThanOrEqual(0);
            expect(o.side).toBe(current > 0 ? 'SELL' : 'BUY');
          } else {
            expect(o.purpose).toBe('entry');
          }
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 200) },
    );
    expect(orders).toBeGreaterThan(40);
    expect(reduces).toBeGreaterThan(5);
  });

  it('closes first, reduce-only, when the target flips sides', () => {
    const filters = makeFilters('XUSDT', { tickSize: '0.1', minNotional: '5' });
    const long = planTowardTarget('XUSDT', toQty('0.5'), toQty('-0.3'), { bid: 100, ask: 100.1 }, filters);
    expect(long).toMatchObject({
      kind: 'order',
      targetQty: '-0.300',
      order: { side: 'SELL', quantity: '0.500', reduceOnly: true, purpose: 'reduce', price: '100.1', timeInForce: 'GTX' },
    });
    const short = planTowardTarget('XUSDT', toQty('-0.5'), toQty('0.3'), { bid: 100, ask: 100.1 }, filters);
    expect(short).toMatchObject({ kind: 'order', order: { side: 'BUY', quantity: '0.500', reduceOnly: true, purpose: 'reduce', price: '100.0' } });
    // A reduce below MIN_NOTIONAL is still sent (reduce-only is exempt); the same size as an entry is not.
    expect(planTowardTarget('XUSDT', toQty('0.01'), toQty('0'), { bid: 100, ask: 100.1 }, filters)).toMatchObject({
      kind: 'order',
      order: { quantity: '0.010', reduceOnly: true },
    });
    expect(planTowardTarget('XUSDT', toQty('0'), toQty('0.01'), { bid: 100, ask: 100.1 }, filters)).toMatchObject({
      kind: 'skip',
      reason: expect.stringMatching(/notional/),
    });
  });

  it('caps at maxQty and skips below minQty', () => {
    const filters = makeFilters('XUSDT', { tickSize: '0.1', minQty: '0.010', maxQty: '2.000', minNotional: '5' });
    expect(planTowardTarget('XUSDT', toQty('0'), toQty('5'), { bid: 100, ask: 100.1 }, filters)).toMatchObject({ kind: 'order', order: { quantity: '2.000' } });
    expect(planTowardTarget('XUSDT', toQty('0'), toQty('0.009'), { bid: 1_000, ask: 1_000.1 }, filters)).toMatchObject({
      kind: 'skip',
      reason: expect.stringMatching(/minimum quantity/),
    });
    expect(planTowardTarget('XUSDT', toQty('1'), toQty('1'), { bid: 100, ask: 100.1 }, filters)).toMatchObject({ kind: 'skip', reason: 'already at target' });
  });
});

describe('post-only fallback', () => {
  it('is a limit IOC on the tick grid, no more than 15 bps worse than mid, same side and size', () => {
    fc.assert(
      fc.property(
        filtersArb,
        priceArb,
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom('BUY' as const, 'SELL' as const),
        fc.constantFrom('entry' as const, 'reduce' as const),
        fc.integer({ min: 1, max: 100 }),
        (filters, price, spreadTicks, side, purpose, bps) => {
          const touch = touchFor(filters, price, spreadTicks);
          const rejected: PlannedOrder = {
            symbol: 'XUSDT',
            side,
            type: 'LIMIT',
            quantity: filters.minQty,
            price: '1',
            timeInForce: 'GTX',
            reduceOnly: purpose === 'reduce',
            purpose,
          };
          const fb = planFallback(rejected, touch, filters, bps);
          const mid = (touch.bid + touch.ask) / 2;
          const bound = bps / 10_000;
          expect(fb).toMatchObject({
            symbol: 'XUSDT',
            side,
            type: 'LIMIT',
            timeInForce: 'IOC',
            quantity: filters.minQty,
            reduceOnly: purpose === 'reduce',
            purpose,
          });
          expect(isMultipleOf(fb.price ?? '', filters.tickSize)).toBe(true);
          const p = Number(fb.price);
          const tick = Number(filters.tickSize);
          // Never more aggressive than the bound; on the passive side at most one tick of rounding beyond it.
          if (side === 'BUY') {
            expect(p).toBeLessThanOrEqual(mid * (1 + bound) * (1 + 1e-12));
            expect(p).toBeGreaterThan(mid * (1 + bound) - tick - 1e-9);
          } else {
            expect(p).toBeGreaterThanOrEqual(mid * (1 - bound) * (1 - 1e-12));
            expect(p).toBeLessThan(mid * (1 - bound) + tick + 1e-9);
          }
          // Where the grid is fine enough to express it, the price is within the bound on both sides of mid.
          if (tick / mid < bound) expect(Math.abs(p - mid) / mid).toBeLessThanOrEqual(bound * (1 + 1e-9) + tick / mid);
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 200) },
    );
  });

  it('known case: 15 bps around a 60_000 mid', () => {
    const filters = makeFilters('BTCUSDT');
    const base: PlannedOrder = {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
      price: '59999.9',
      timeInForce: 'GTX',
      reduceOnly: false,
      purpose: 'entry',
    };
    expect(planFallback(base, { bid: 59_999.9, ask: 60_000.1 }, filters, 15).price).toBe('60090.0');
    expect(planFallback({ ...base, side: 'SELL' }, { bid: 59_999.9, ask: 60_000.1 }, filters, 15).price).toBe('59910.0');
  });
});

describe('flatten', () => {
  it('is a MARKET reduce-only order on the opposite side, sized up on the market lot grid (capped at marketMaxQty)', () => {
    fc.assert(
      fc.property(filtersArb, fc.integer({ min: 1, max: 10_000_000 }), fc.constantFrom(1, -1), fc.boolean(), (filters, units, sign, offGrid) => {
        const step = Number(filters.stepSize);
        const qty = sign * (offGrid ? Math.round(units * step * 1.37 * 1e9) / 1e9 : Number(snapToStep(units * step, filters.stepSize, 'down')));
        const plan = planFlatten('XUSDT', toQty(qty), filters);
        expect(plan).toMatchObject({
          symbol: 'XUSDT',
          side: qty > 0 ? 'SELL' : 'BUY',
          type: 'MARKET',
          price: null,
          timeInForce: null,
          reduceOnly: true,
          purpose: 'flatten',
        });
        const quantity = plan?.quantity ?? '';
        expect(isMultipleOf(quantity, filters.marketStepSize)).toBe(true);
        expect(compareDecimal(quantity, filters.marketMaxQty)).toBeLessThanOrEqual(0);
        if (Math.abs(qty) <= Number(filters.marketMaxQty)) {
          // The whole position, no dust: at least its size and less than one step more.
          expect(compareDecimal(quantity, abs(toQty(qty)))).toBeGreaterThanOrEqual(0);
          expect(Number(quantity)).toBeLessThan(Math.abs(qty) + step);
        } else {
          expect(quantity).toBe(filters.marketMaxQty);
        }
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 200) },
    );
  });

  it('known cases', () => {
    const filters = makeFilters('XUSDT', { marketMaxQty: '100' });
    expect(planFlatten('XUSDT', toQty('-0.25'), filters)).toMatchObject({
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.250',
      reduceOnly: true,
      purpose: 'flatten',
    });
    expect(planFlatten('XUSDT', toQty('0.0015'), filters)).toMatchObject({ side: 'SELL', quantity: '0.002' });
    expect(planFlatten('XUSDT', toQty('250'), filters)).toMatchObject({ side: 'SELL', quantity: '100.000' });
    expect(planFlatten('XUSDT', toQty('0'), filters)).toBeNull();
  });
});

describe('planner: no dust reductions', () => {
  // SOLUSDT-like filters: step 0.01, MIN_NOTIONAL 5 USDT. A session held at 3.33 SOL (weight 0.5 of 1 000 USDT at 150)
  // whose price rises 0.1 %: the target falls one step, 0.01 SOL (1.50 USDT). That reduction used to be sent (reduce-only
  // is exempt from MIN_NOTIONAL) while the matching growth on a fall was not (an entry is held to it): every holder
  // shrank by dust at each rise, and 10 000 sessions sent thousands such orders a minute.
  const filters = makeFilters('SOLUSDT', { stepSize: '0.01', minQty: '0.01', minNotional: '5', tickSize: '0.01' });
  const touch = (price: number): { bid: number; ask: number } => ({ bid: price, ask: price + 0.01 });

  it('a partial reduction below MIN_NOTIONAL is not sent, as an entry below it is not', () => {
    const held = toQty('3.33');
    const up = planTowardTarget('SOLUSDT', held, toQty('3.32'), touch(150.15), filters);
    expect(up).toMatchObject({ kind: 'skip', reason: expect.stringMatching(/below minimum 5/) });
    const down = planTowardTarget('SOLUSDT', held, toQty('3.34'), touch(149.85), filters);
    expect(down).toMatchObject({ kind: 'skip', reason: expect.stringMatching(/below minimum 5/) });
  });

  it('a reduction of at least MIN_NOTIONAL is sent, and closing a position is never held back', () => {
    const held = toQty('3.33');
    expect(planTowardTarget('SOLUSDT', held, toQty('3.29'), touch(150), filters)).toMatchObject({
      kind: 'order',
      order: { side: 'SELL', quantity: '0.04', reduceOnly: true, purpose: 'reduce' },
    });
    // Closing 0.02 SOL (3 USDT): below the minimum, sent (reduce-only is exempt, and nothing is left).
    expect(planTowardTarget('SOLUSDT', toQty('0.02'), toQty('0'), touch(150), filters)).toMatchObject({
      kind: 'order',
      order: { side: 'SELL', quantity: '0.02', reduceOnly: true },
    });
    // A flip's first leg closes the position: sent whatever its size.
    expect(planTowardTarget('SOLUSDT', toQty('0.02'), toQty('-3'), touch(150), filters)).toMatchObject({
      kind: 'order',
      order: { side: 'SELL', quantity: '0.02', reduceOnly: true },
    });
  });
});
