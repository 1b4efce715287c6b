import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decide.js';
import { holdingBtcDriver, placed } from './fixtures.js';

// A stopping session closes when it is flat: as the engine sees it, and as the exchange last said. A reconcile that
// found the exchange holding more while an order of that symbol was unsettled could not adopt it then; closing on the
// engine's view afterwards left the rest on the exchange, in no session (found by the deterministic simulation, seed
// 501191 over 2 000 steps: 0.004 BTC left after /stop).

const reconciles = (d: Decision): number => d.effects.filter((e) => e.kind === 'reconcile').length;

describe('a stopping session closes on a flat the exchange agrees with', () => {
  it('after a reconcile that disagreed while its flatten was open, reads the positions again, flattens what is left, then closes', () => {
    const d = holdingBtcDriver();
    const held = d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty ?? '0';
    const flatten = placed(d.command({ id: 'stop', userId: 'u', type: 'session.stop' }))[0]?.order;
    if (!flatten) throw new Error('no flatten');
    // While the flatten is open, the exchange reports 0.004 BTC more than the engine holds (a fill it never heard of).
    const more = (Number(held) + 0.004).toFixed(3);
    d.step({ kind: 'reconcile', userId: 'u', positions: [{ symbol: 'BTCUSDT', positionAmt: more, entryPrice: '50000' }], requestedAtMs: d.nowMs });
    expect(d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty).toBe(held); // unsettled: not adopted then
    // The flatten fills: flat as the engine sees it, but the session stays open and asks the exchange again.
    d.nowMs += 1_000;
    const filled = d.fill(flatten.clientOrderId, 50_000);
    expect(d.state.durable.sessions.get('u')?.status).toBe('stopping');
    // Within the periodic check's period (a reconcile was asked at the stop just before).
    expect(reconciles(filled) + reconciles(d.timer(d.config.protectiveStopCheckMs))).toBe(1);
    // The exchange still holds 0.004: adopted, flattened, and only then the session closes.
    d.nowMs += 1_000;
    const answer = d.step({
      kind: 'reconcile',
      userId: 'u',
      positions: [{ symbol: 'BTCUSDT', positionAmt: '0.004', entryPrice: '50000' }],
      requestedAtMs: d.nowMs - 500,
    });
    const rest = placed(answer)[0]?.order;
    expect(rest).toMatchObject({ symbol: 'BTCUSDT', side: 'SELL', quantity: '0.004', reduceOnly: true });
    expect(d.state.durable.sessions.get('u')?.status).toBe('stopping');
    d.fill(rest?.clientOrderId ?? '', 50_000);
    expect(d.state.durable.sessions.get('u')?.status).toBe('closed');
  });

  it('closes at once when no reconcile disagreed', () => {
    const d = holdingBtcDriver();
    const flatten = placed(d.command({ id: 'stop', userId: 'u', type: 'session.stop' }))[0]?.order;
    if (!flatten) throw new Error('no flatten');
    const filled = d.fill(flatten.clientOrderId, 50_000);
    expect(d.state.durable.sessions.get('u')?.status).toBe('closed');
    expect(reconciles(filled)).toBe(0);
  });
});
