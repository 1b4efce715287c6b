import { describe, expect, it } from 'vitest';
import { clipToPercentPrice, planFallback, planFlatten, planTowardTarget } from '../../src/core/planner.js';
import type { Quote } from '../../src/core/venues.js';
import { quoteAgeMs } from '../../src/core/venues.js';
import { compareDecimal, toQty } from '../../src/model/decimal.js';
import { makeFilters } from './fixtures.js';

// The trading rules beyond tick and step: contract status, PERCENT_PRICE and MARKET_LOT_SIZE, and how old a quote is.

const touch = { bid: 100, ask: 100.1 };
const mid = (touch.bid + touch.ask) / 2;

describe('symbol filters in planning', () => {
  it('plans no entry on a symbol that is not TRADING, but still reduces a position there', () => {
    const settling = makeFilters('XUSDT', { status: 'SETTLING', minNotional: '5' });
    const entry = planTowardTarget('XUSDT', toQty('0'), toQty('1'), touch, settling);
    expect(entry).toMatchObject({ kind: 'skip', reason: 'XUSDT is SETTLING on the exchange: no new positions (exits are still sent)' });
    const reduce = planTowardTarget('XUSDT', toQty('2'), toQty('1'), touch, settling);
    expect(reduce).toMatchObject({ kind: 'order', order: { side: 'SELL', reduceOnly: true, purpose: 'reduce' } });
    expect(planFlatten('XUSDT', toQty('2'), settling)).toMatchObject({ type: 'MARKET', reduceOnly: true });
  });

  it('keeps the fallback inside PERCENT_PRICE: a BUY at most mid × multiplierUp, a SELL at least mid × multiplierDown', () => {
    const tight = makeFilters('XUSDT', { tickSize: '0.01', minPrice: '0.01', multiplierUp: '1.0010', multiplierDown: '0.9990', minNotional: '5' });
    const base = {
      symbol: 'XUSDT',
      type: 'LIMIT' as const,
      quantity: '1',
      price: '100',
      timeInForce: 'GTX' as const,
      reduceOnly: false,
      purpose: 'entry' as const,
    };
    // 100 bps would be 101.05 / 99.05; the filter allows 100.15 / 99.95 only (mid 100.05).
    const buy = planFallback({ ...base, side: 'BUY' }, touch, tight, 100);
    const sell = planFallback({ ...base, side: 'SELL' }, touch, tight, 100);
    expect(buy.price).toBe('100.15');
    expect(sell.price).toBe('99.95');
    expect(Number(buy.price)).toBeLessThanOrEqual(mid * 1.001);
    expect(Number(sell.price)).toBeGreaterThanOrEqual(mid * 0.999);
    // Inside the bound a price is left alone; one bound per side (a BUY far below is fine).
    expect(clipToPercentPrice('BUY', '50.00', touch, tight)).toBe('50.00');
    expect(compareDecimal(clipToPercentPrice('SELL', '150.00', touch, tight), '150.00')).toBe(0);
  });

  it('sizes a flatten on MARKET_LOT_SIZE: its step, its minimum and its maximum, not LOT_SIZE', () => {
    const f = makeFilters('XUSDT', { stepSize: '0.001', minQty: '0.001', marketStepSize: '0.01', marketMinQty: '0.05', marketMaxQty: '3' });
    expect(planFlatten('XUSDT', toQty('0.013'), f)?.quantity).toBe('0.05');
    expect(planFlatten('XUSDT', toQty('1.234'), f)?.quantity).toBe('1.24');
    expect(planFlatten('XUSDT', toQty('-7.5'), f)).toMatchObject({ side: 'BUY', quantity: '3.00' });
  });
});

describe('quote age', () => {
  const quote = (time: number, receivedAtMs: number): Quote => ({ symbol: 'XUSDT', bid: 1, ask: 2, time, receivedAtMs });
  it("runs from the exchange's time of the book state when the stream gives one, never from later than receipt", () => {
    expect(quoteAgeMs(quote(1_000, 5_000), 5_100)).toBe(4_100); // received just now, but a 4 s old book
    expect(quoteAgeMs(quote(0, 5_000), 5_100)).toBe(100); // no exchange time: from receipt
    expect(quoteAgeMs(quote(9_000, 5_000), 5_100)).toBe(100); // a venue clock ahead of ours does not make it younger
  });
});
