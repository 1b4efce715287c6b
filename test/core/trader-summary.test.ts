import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import { replies, stateWithPositions, T0, testConfig, withQuote } from './fixtures.js';

// Issue 15 item 2: the session summary carries what a trader's status shows — exact quantity, the entry on the
// symbol's tick, the mark at bid/ask, the stop-loss floor and the distance to it, and the times (start, now, horizon)
// readers turn into "running 2h 3m" and "flattens in 5h 12m". The old number fields stay for the dashboard.

const hourMs = 3_600_000;

describe("a trader's session summary", () => {
  it('gives the entry on the tick grid, the mark at bid/ask, the floor and distance, and the times', () => {
    const base = stateWithPositions({
      capitalUsd: 1_000,
      stopLossPct: 5,
      horizonDeadlineMs: T0 + 8 * hourMs,
      positions: [
        { symbol: 'BTCUSDT', qty: 0.01, entryPrice: 50_000.0366 }, // tick "0.10": the nearest multiple is 50000
        { symbol: 'ETHUSDT', qty: -2, entryPrice: 3_000.0049 }, // tick "0.01"
      ],
    });
    const state = withQuote(withQuote(base, 'BTCUSDT', 50_100, 50_100.1, T0), 'ETHUSDT', 2_990, 2_990.02, T0);
    const nowMs = T0 + 2 * hourMs + 3 * 60_000;
    const d = decide(
      state,
      { kind: 'command', delivery: { entryId: '1-1', raw: JSON.stringify({ id: 's', userId: 'u', type: 'status' }), deliveryCount: 1 } },
      nowMs,
      testConfig,
    );
    const summary = replies(d)[0]?.result as { session: Record<string, unknown> & { positions: Record<string, Record<string, unknown>> } };
    const s = summary.session;
    expect(s.positions.BTCUSDT).toMatchObject({ qtyExact: '0.01', entryAtTick: '50000', mark: '50100', tickSize: '0.10', stepSize: '0.001', notionalUsd: 501 });
    expect(s.positions.ETHUSDT).toMatchObject({ qtyExact: '-2', entryAtTick: '3000', mark: '2990.02', tickSize: '0.01' });
    // Equity at bid/ask: 1000 + 0.01 × (50100 − 50000.0366) + (−2) × (2990.02 − 3000.0049) = 1000.999634 + 19.9698.
    expect(s.equityUsd).toBeCloseTo(1_020.969434, 6);
    expect(s).toMatchObject({ stopLossFloorUsd: 950, startedAtMs: T0, asOfMs: nowMs, horizonDeadlineMs: T0 + 8 * hourMs });
    expect(s.stopLossDistanceUsd).toBeCloseTo(70.969434, 6);
    // The fields the dashboard reads are still there.
    expect(s.positions.BTCUSDT).toMatchObject({ qty: 0.01, entryPrice: 50_000.0366, exitPrice: 50_100, unrealizedPnlUsd: expect.any(Number) });
  });

  it('has no floor without a stop-loss and no mark without a quote', () => {
    const state = stateWithPositions({ capitalUsd: 1_000, positions: [{ symbol: 'BTCUSDT', qty: 0.01, entryPrice: 50_000 }] });
    const d = decide(
      state,
      { kind: 'command', delivery: { entryId: '1-1', raw: JSON.stringify({ id: 's', userId: 'u', type: 'status' }), deliveryCount: 1 } },
      T0,
      testConfig,
    );
    const s = (replies(d)[0]?.result as { session: Record<string, unknown> & { positions: Record<string, Record<string, unknown>> } }).session;
    expect(s).toMatchObject({ stopLossFloorUsd: null, stopLossDistanceUsd: null, horizonDeadlineMs: null });
    expect(s.positions.BTCUSDT).toMatchObject({ mark: null, entryAtTick: '50000' });
  });
});
