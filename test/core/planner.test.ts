import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDecimal, isMultipleOf } from '../../src/core/decimal.js';
import { planFallback, planFlatten, planTowardTarget, targetQuantity } from '../../src/core/planner.js';
import type { SymbolFilters } from '../../src/exchange/types.js';

const filtersArb = fc
  .record({
    tickSize: fc.constantFrom('0.1', '0.01', '0.001', '1', '0.05'),
    stepSize: fc.constantFrom('0.001', '0.01', '0.1', '1'),
    minNotional: fc.constantFrom('5', '20', '100'),
  })
  .map(
    (f): SymbolFilters => ({
      symbol: 'XUSDT',
      tickSize: f.tickSize,
      minPrice: f.tickSize,
      maxPrice: '10000000',
      stepSize: f.stepSize,
      minQty: f.stepSize,
      maxQty: '100000',
      marketStepSize: f.stepSize,
      marketMaxQty: '50000',
      minNotional: f.minNotional,
    }),
  );

describe('planner: rounding never exceeds a filter', () => {
  it('plans orders on the grid, within quantity bounds, meeting min notional for entries', () => {
    fc.assert(
      fc.property(
        filtersArb,
        fc.double({ min: 1, max: 100_000, noNaN: true }),
        fc.double({ min: 100, max: 1_000_000, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -10, max: 10, noNaN: true }),
        (filters, mid, capital, weight, currentUnits) => {
          const tick = Number(filters.tickSize);
          const bid = Math.max(tick, Math.floor(mid / tick) * tick);
          const touch = { bid, ask: bid + tick };
          const current = Number((Math.round(currentUnits / Number(filters.stepSize)) * Number(filters.stepSize)).toFixed(6));
          const target = targetQuantity(weight, capital, 1, touch, filters);
          expect(Math.abs(target) * ((touch.bid + touch.ask) / 2)).toBeLessThanOrEqual(Math.abs(weight) * capital * (1 + 1e-9));
          const plan = planTowardTarget('XUSDT', current, target, touch, filters);
          if (plan.kind === 'skip') return;
          const o = plan.order;
          expect(isMultipleOf(o.quantity, filters.stepSize)).toBe(true);
          expect(compareDecimal(o.quantity, filters.minQty)).toBeGreaterThanOrEqual(0);
          expect(compareDecimal(o.quantity, filters.maxQty)).toBeLessThanOrEqual(0);
          expect(o.price !== null && isMultipleOf(o.price, filters.tickSize)).toBe(true);
          expect(o.timeInForce).toBe('GTX');
          expect(Number(o.price)).toBeCloseTo(o.side === 'BUY' ? touch.bid : touch.ask, 6);
          if (!o.reduceOnly) expect(Number(o.quantity) * Number(o.price)).toBeGreaterThanOrEqual(Number(filters.minNotional));
          if (o.reduceOnly) expect(Number(o.quantity)).toBeLessThanOrEqual(Math.abs(current) + 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('closes first, reduce-only, when the target flips sides', () => {
    const filters: SymbolFilters = { symbol: 'XUSDT', tickSize: '0.1', minPrice: '0.1', maxPrice: '1e7', stepSize: '0.001', minQty: '0.001', maxQty: '1000', marketStepSize: '0.001', marketMaxQty: '100', minNotional: '5' };
    const plan = planTowardTarget('XUSDT', 0.5, -0.3, { bid: 100, ask: 100.1 }, filters);
    expect(plan.kind === 'order' && plan.order).toMatchObject({ side: 'SELL', quantity: '0.500', reduceOnly: true, purpose: 'reduce' });
  });

  it('bounds the fallback 15 bps from mid, on the tick grid', () => {
    fc.assert(
      fc.property(filtersArb, fc.double({ min: 1, max: 100_000, noNaN: true }), fc.constantFrom('BUY' as const, 'SELL' as const), (filters, mid, side) => {
        const tick = Number(filters.tickSize);
        const bid = Math.max(tick, Math.floor(mid / tick) * tick);
        const touch = { bid, ask: bid + tick };
        const fb = planFallback({ symbol: 'XUSDT', side, type: 'LIMIT', quantity: '1', price: '1', timeInForce: 'GTX', reduceOnly: false, purpose: 'entry' }, touch, filters, 15);
        const m = (touch.bid + touch.ask) / 2;
        expect(fb.timeInForce).toBe('IOC');
        expect(isMultipleOf(fb.price ?? '', filters.tickSize)).toBe(true);
        if (side === 'BUY') expect(Number(fb.price)).toBeLessThanOrEqual(m * 1.0015 + 1e-9);
        else expect(Number(fb.price)).toBeGreaterThanOrEqual(m * 0.9985 - 1e-9);
      }),
      { numRuns: 200 },
    );
  });

  it('flattens with a reduce-only market order on the opposite side', () => {
    const filters: SymbolFilters = { symbol: 'XUSDT', tickSize: '0.1', minPrice: '0.1', maxPrice: '1e7', stepSize: '0.001', minQty: '0.001', maxQty: '1000', marketStepSize: '0.001', marketMaxQty: '100', minNotional: '5' };
    expect(planFlatten('XUSDT', -0.25, filters)).toMatchObject({ side: 'BUY', type: 'MARKET', quantity: '0.250', reduceOnly: true, purpose: 'flatten' });
    expect(planFlatten('XUSDT', 0, filters)).toBeNull();
  });
});
