import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decide.js';
import type { WalEvent } from '../../src/core/events.js';
import { foldEvents } from '../../src/core/events.js';
import { toPrice, toQty, toUsd } from '../../src/model/decimal.js';
import { CoreDriver, withConfig } from './fixtures.js';

// A timer beat visits at most maxSessionVisitsPerBeat sessions in its risk pass and in its equity pass; the rest wait
// for its continuation, a later step (issue 12: at 10 000 sessions a beat after a route visited every session in one
// step of 15–60 ms). Each step here is one decision; the engine queues a continuation behind whatever waits.

/** A beat and its continuations, one decision each, until one leaves nothing for later. */
function beatInSteps(d: CoreDriver, advanceMs: number): Decision[] {
  const steps = [d.timer(advanceMs)];
  for (let last = steps[0]; last?.continuation !== undefined;) {
    last = d.step(last.continuation);
    steps.push(last);
    if (steps.length > 100) throw new Error('the beat never ends');
  }
  return steps;
}

const samples = (x: Decision): number => x.outbound.filter((e) => e.type === 'equity').length;
const kills = (x: Decision): number => x.wal.filter((e) => e.type === 'kill_switch.engaged').length;

describe('a bounded timer beat', () => {
  it('visits sessions changed since the last beat, and those due, at most maxSessionVisitsPerBeat per step, and continues with the rest', () => {
    const sessions = 25;
    const d = new CoreDriver({ config: withConfig({ maxSessionVisitsPerBeat: 10, equityIdleSampleMs: 60_000 }) });
    d.tick('BTCUSDT', 50_000, 50_001);
    d.timer(0); // the passes' first (full) scans
    for (let i = 0; i < sessions; i += 1) d.command({ id: `s${i}`, userId: `u${i}`, type: 'session.start', capitalUsd: 1_000, horizonHours: 1 });

    // Every session started since the last beat: each is sampled once, ten a step.
    const first = beatInSteps(d, 1_000);
    expect(first.map(samples)).toEqual([10, 10, 5]);
    expect(first.map((x) => x.continuation !== undefined)).toEqual([true, true, false]);
    // Nothing is left: the next beat has nothing to visit.
    expect(beatInSteps(d, 1_000).map(samples)).toEqual([0]);

    // Past their horizon every session is due in the risk pass: at most ten kill switches a step, none missed or
    // doubled. (A kill switch changes its session, which the next step visits again: that visit counts in its ten.)
    d.tick('BTCUSDT', 50_000, 50_001);
    const horizon = beatInSteps(d, 3_600_000);
    expect(horizon[0] && kills(horizon[0])).toBe(10);
    expect(Math.max(...horizon.map(kills))).toBe(10);
    expect(horizon.reduce((sum, x) => sum + kills(x), 0)).toBe(sessions);
    const engaged = new Set(d.wal.filter((e) => e.type === 'kill_switch.engaged').map((e) => e.userId));
    expect(engaged.size).toBe(sessions);
  });
});

describe('a bounded protective-stop pass', () => {
  it('after a wake-up of every session (a halt) visits at most maxStopPassVisitsPerDecision sessions a decision, and a beat continues until none is left', () => {
    const sessions = 25;
    const d = new CoreDriver({ config: withConfig({ maxStopPassVisitsPerDecision: 10 }) });
    const events: WalEvent[] = [];
    for (let i = 0; i < sessions; i += 1) {
      const userId = `u${i}`;
      events.push({ type: 'session.started', userId, mode: 'paper', capitalUsd: toUsd(10_000), stopLossPct: 5, horizonDeadlineMs: null, atMs: d.nowMs });
      events.push({ type: 'position.adopted', userId, symbol: 'BTCUSDT', qty: toQty('0.1'), entryPrice: toPrice(50_000), reason: 'test' });
    }
    d.state = { durable: foldEvents(d.state.durable, events, d.config), market: d.state.market };
    d.tick('BTCUSDT', 50_000, 50_000.1);
    // The pass's first run (its schedule is new) visits everyone: every session's stop is planned, then confirmed.
    const planned = d.timer(0).wal.filter((e) => e.type === 'stop.planned');
    expect(planned).toHaveLength(sessions);
    for (const e of planned)
      if (e.type === 'stop.planned')
        d.step({ kind: 'stop_placed', userId: e.userId, symbol: e.symbol, clientAlgoId: e.clientAlgoId, outcome: { kind: 'accepted' } });

    // A halt wakes every session for the stop pass: ten stops cancelled a decision, the rest by the beat's steps.
    const removed = (x: Decision): number => x.wal.filter((e) => e.type === 'stop.removed').length;
    const halt = d.command({ id: 'h', userId: 'operator', type: 'admin.halt_all' });
    expect(removed(halt)).toBe(10);
    const beat = beatInSteps(d, 1_000);
    expect(Math.max(...beat.map(removed))).toBeLessThanOrEqual(10);
    expect(removed(halt) + beat.reduce((sum, x) => sum + removed(x), 0)).toBe(sessions);
    expect(new Set(d.wal.filter((e) => e.type === 'stop.removed').map((e) => e.userId)).size).toBe(sessions);
  });
});
