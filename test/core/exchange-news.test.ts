import { describe, expect, it } from 'vitest';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { CoreDriver, eventsOf, placed, stateWithPositions, testConfig } from './fixtures.js';

// What the exchange says is news the engine must act on once, correctly: a -2022 means our position view is
// wrong (re-read it and fix that very symbol), a rejection that recurs is said once and backed off, and a
// position in the account outside the traded symbols is reported once and never touched.

type Alert = Extract<OutboundEvent, { type: 'alert' }>;
const alertsOf = (d: { outbound: OutboundEvent[] }): Alert[] => d.outbound.filter((e): e is Alert => e.type === 'alert');

function flattening(): { d: CoreDriver; first: string } {
  const d = new CoreDriver();
  d.state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'BTCUSDT', qty: 1, entryPrice: 60_000 }] });
  const first = placed(d.tick('BTCUSDT', 59_000, 59_000.1))[0]?.order.clientOrderId;
  if (!first) throw new Error('no flatten');
  return { d, first };
}

describe('-2022: the position view is wrong', () => {
  it('the reconcile it asks for fixes that very symbol (the rejection and the request share the same millisecond)', () => {
    const { d, first } = flattening();
    const rejected = d.step({
      kind: 'place_result',
      clientOrderId: first,
      outcome: { kind: 'rejected', code: -2022, message: 'ReduceOnly Order is rejected.' },
    });
    const request = rejected.effects.find((e) => e.kind === 'reconcile');
    expect(request).toMatchObject({ kind: 'reconcile', userId: 'u', requestedAtMs: d.nowMs });
    // The exchange holds nothing: the engine adopts that, so the kill-switched session is flat at last.
    const read = d.step({ kind: 'reconcile', userId: 'u', positions: [], requestedAtMs: request?.kind === 'reconcile' ? request.requestedAtMs : 0 });
    expect(eventsOf(read.wal, 'position.adopted')).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', qty: '0' })]);
  });
});

describe('a rejection that recurs', () => {
  it('is alerted once, then once more as recurring, then backed off at doubling intervals without more alerts', () => {
    const { d, first } = flattening();
    const reject = (id: string) =>
      d.step({ kind: 'place_result', clientOrderId: id, outcome: { kind: 'rejected', code: -4131, message: 'PERCENT_PRICE filter limit' } });
    expect(alertsOf(reject(first)).map((a) => a.message)).toEqual([expect.stringMatching(/rejected: -4131/)]);
    const waits: number[] = [];
    let alerts: string[] = [];
    for (let attempt = 0; attempt < 7; attempt += 1) {
      let waitedMs = 0;
      let next: string | undefined;
      while (next === undefined && waitedMs < 120_000) {
        waitedMs += 1_000;
        next = placed(d.timer(1_000))[0]?.order.clientOrderId;
      }
      if (!next) throw new Error('the flatten was dropped');
      waits.push(waitedMs);
      alerts = alerts.concat(alertsOf(reject(next)).map((a) => a.message));
    }
    // 2 s, 4 s, 8 s … capped at maxRejectionBackoffMs: never re-sent every 2 s forever, never dropped.
    expect(waits).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(alerts).toEqual([expect.stringMatching(/rejected again: -4131.*backs off/)]);
    expect(testConfig.maxRejectionBackoffMs).toBe(60_000);
  });
});

describe('positions outside the traded symbols', () => {
  it('are reported once and never adopted', () => {
    const d = new CoreDriver();
    d.tick('BTCUSDT', 60_000, 60_000.1);
    d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    const read = { kind: 'reconcile' as const, userId: 'u', positions: [{ symbol: 'DOGEUSDT', positionAmt: '1000', entryPrice: '0.1' }] };
    const first = d.step(read);
    expect(eventsOf(first.wal, 'position.adopted')).toEqual([]);
    expect(alertsOf(first).map((a) => a.message)).toEqual([expect.stringMatching(/also holds 1000 DOGEUSDT.*left untouched/)]);
    expect(alertsOf(d.step(read))).toEqual([]);
    // Nothing to flatten, no stale feed for a symbol it does not trade: the session stops at once.
    d.timer(testConfig.staleFeedMs * 2);
    expect(d.state.durable.sessions.get('u')?.killSwitch.engaged).toBe(false);
    const stop = d.command({ id: 'stop', userId: 'u', type: 'session.stop' });
    expect(stop.outbound.filter((e) => e.type === 'reply').map((e) => (e.type === 'reply' ? e.status : ''))).toEqual(['accepted', 'done']);
  });
});
