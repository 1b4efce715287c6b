import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stopLossBreached, stopLossLevelUsd, valueSession } from '../../src/core/mtm.js';
import { lte } from '../../src/model/decimal.js';
import { T0, stateWithPositions, withQuote } from './fixtures.js';

// The stop-loss test of a one-position session (on every tick for every holder) takes a float shortcut when the
// exit price is clearly on one side of the breach price; it must agree with the exact valuation everywhere,
// exactly at the breach price included.

describe('stop-loss of a one-position session', () => {
  it('agrees with the exact valuation, at and around the breach price', () => {
    fc.assert(
      fc.property(
        fc.record({
          capital: fc.integer({ min: 100, max: 1_000_000 }),
          pct: fc.integer({ min: 1, max: 99 }),
          qtyUnits: fc.integer({ min: -100_000, max: 100_000 }).filter((q) => q !== 0),
          entryTicks: fc.integer({ min: 1_000, max: 10_000_000 }),
          offsetTicks: fc.integer({ min: -50, max: 50 }),
        }),
        ({ capital, pct, qtyUnits, entryTicks, offsetTicks }) => {
          const qty = qtyUnits / 1000;
          const entry = entryTicks / 10;
          // The price at which equity equals the stop level, snapped to the tick grid, then moved a few ticks.
          const breachAt = entry - (capital * pct) / 100 / qty;
          const exit = Math.max(0.1, Math.round(breachAt * 10) / 10 + offsetTicks / 10);
          const base = stateWithPositions({ capitalUsd: capital, stopLossPct: pct, positions: [{ symbol: 'BTCUSDT', qty, entryPrice: entry }] });
          const state = withQuote(base, 'BTCUSDT', Number(exit.toFixed(1)), Number(exit.toFixed(1)), T0);
          const session = state.durable.sessions.get('u');
          if (!session) throw new Error('no session');
          const exact = lte(valueSession(session, state.market).equityUsd, stopLossLevelUsd(session.capitalUsd, pct));
          expect(stopLossBreached(session, state.market)).toBe(exact);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
