import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import { T0, stateWithPositions, testConfig, withQuote } from './fixtures.js';

// A decision notes times and counts (an equity sample, a stop check, their windows' counts) in one copy of the market
// view, written in place while it is the decision's own (context.ts marketToWrite). The market it started from is the
// committed state's, which a snapshot, the schedule and every earlier reader still hold: it must never be written.

describe('market notes of a decision', () => {
  it('are written into the decision’s own copy, never into the market it started from', () => {
    let state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'BTCUSDT', qty: 0.1, entryPrice: 60_000 }] });
    state = withQuote(state, 'BTCUSDT', 60_100, 60_100.1, T0 + 9_000);
    const nowMs = T0 + 10_000;
    // Frozen: a note written into this object throws (modules are strict), and its maps keep the values they had.
    const start = Object.freeze(state.market);
    const before = { equity: start.lastEquitySampleAtMs.get('u'), check: start.lastStopCheckAtMs.get('u') };
    const beat = decide(state, { kind: 'timer' }, nowMs, testConfig);
    // The beat noted an equity sample and a stop check (several notes: one copy of the market took them all).
    expect(beat.outbound.some((e) => e.type === 'equity')).toBe(true);
    expect(beat.state.market).not.toBe(start);
    expect(beat.state.market.lastEquitySampleAtMs.get('u')).toBe(nowMs);
    expect(beat.state.market.lastStopCheckAtMs.get('u')).toBe(nowMs);
    expect({ equity: start.lastEquitySampleAtMs.get('u'), check: start.lastStopCheckAtMs.get('u') }).toEqual(before);
    // A second decision from the beat's state copies that market in turn: the first decision's result stays as it was.
    const after = Object.freeze(beat.state.market);
    const again = decide(beat.state, { kind: 'timer' }, nowMs + 60_000, testConfig);
    expect(again.state.market).not.toBe(after);
    expect(after.lastEquitySampleAtMs.get('u')).toBe(nowMs);
  });
});
