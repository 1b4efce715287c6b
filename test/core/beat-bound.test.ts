import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decide.js';
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
