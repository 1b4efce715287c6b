import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import type { Decision, Input } from '../../src/core/decide.js';
import { CoreDriver, eventsOf, placed, testFilters } from './fixtures.js';
import { toUsd } from '../../src/model/decimal.js';
import { dueAgain, Schedule, scheduleFor, sessionsToVisit } from '../../src/core/schedule.js';

// The timer passes visit the scheduled sessions (changed or due, src/core/schedule.ts), not every session; they
// must decide exactly what a full scan would, at any time: horizons, stale feeds, periodic stop checks, placement
// retries and equity samples come due on their own, and halts and filter changes wake every session.

const users = ['a', 'b', 'c', 'd', 'e', 'f'];

/** Six sessions, each long BTCUSDT with a stop-loss, horizons one minute apart. */
function sessions(): CoreDriver {
  const d = new CoreDriver();
  d.tick('BTCUSDT', 60_000, 60_000.1);
  d.tick('ETHUSDT', 3_000, 3_000.1);
  users.forEach((userId, i) => {
    d.command({ id: `start-${userId}`, userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000, stopLossPct: 10, horizonHours: (i + 1) / 60 });
  });
  const routed = d.command({
    id: 'route',
    userId: 'signals',
    type: 'signals.route',
    signals: [{ symbol: 'BTCUSDT', weight: 1 }],
  });
  for (const p of placed(routed)) d.fill(p.order.clientOrderId, 60_000);
  return d;
}

/** What a timer beat at the driver's time decides, visiting the scheduled sessions and visiting all. */
function bothWays(d: CoreDriver): { scheduled: Decision; full: Decision } {
  const timer: Input = { kind: 'timer' };
  return {
    scheduled: decide(d.state, timer, d.nowMs, d.config, { scratch: true }),
    full: decide(d.state, timer, d.nowMs, d.config, { scratch: true, fullScan: true }),
  };
}

function expectSame(d: CoreDriver): Decision {
  const { scheduled, full } = bothWays(d);
  expect({ wal: scheduled.wal, outbound: scheduled.outbound, effects: scheduled.effects }).toEqual({
    wal: full.wal,
    outbound: full.outbound,
    effects: full.effects,
  });
  return scheduled;
}

describe('due-time schedule of the timer passes', () => {
  it('decides as a full scan would, beat after beat, while horizons, checks, samples and stale feeds come due', () => {
    const d = sessions();
    expect(d.state.durable.sessions.values().every((s) => Object.keys(s.positions).length === 1)).toBe(true);
    // Beats every 7 s for three minutes, with fresh BTC quotes (ETH goes silent: its holders, none, stay untouched).
    for (let beat = 0; beat < 26; beat += 1) {
      d.nowMs += 7_000;
      d.tick('BTCUSDT', 60_000 + beat, 60_000.1 + beat);
      expectSame(d);
      d.step({ kind: 'timer' });
    }
    // a, b and c reached their horizons at 1, 2 and 3 minutes (seen by the tick or the beat, whichever came first).
    const horizons = eventsOf(d.wal, 'kill_switch.engaged').filter((e) => e.reason === 'horizon');
    expect(horizons.map((e) => e.userId)).toEqual(['a', 'b', 'c']);
    // A silent feed: every holder left is flattened by the stale-feed rule, none missed.
    d.nowMs += d.config.staleFeedMs + 1;
    const stale = expectSame(d);
    expect(new Set(eventsOf(stale.wal, 'kill_switch.engaged').map((e) => e.userId))).toEqual(new Set(['d', 'e', 'f']));
  });

  it('wakes every session when trading is halted and when the filters change', () => {
    const d = sessions();
    d.nowMs += 1_000;
    d.step({ kind: 'timer' });
    d.nowMs += 1_000;
    d.command({ id: 'halt', userId: 'operator', type: 'admin.halt_all', reason: 'drill' });
    expectSame(d);
    const d2 = sessions();
    d2.nowMs += 1_000;
    d2.step({ kind: 'timer' });
    const wider = { ...testFilters, BTCUSDT: { ...testFilters.BTCUSDT!, tickSize: '5000' } };
    d2.step({ kind: 'filters', venue: 'paper', filters: wider });
    d2.nowMs += 1_000;
    expectSame(d2);
  });

  it('a booked funding payment is checked against the stop-loss at once, without visiting every session', () => {
    const d = sessions();
    d.nowMs += 1_000;
    d.step({ kind: 'timer' });
    const record = { symbol: 'BTCUSDT', incomeType: 'FUNDING_FEE', income: toUsd('-500'), asset: 'USDT', info: '', time: d.nowMs, tranId: '1', tradeId: '' };
    const funding = d.step({ kind: 'income_listed', userId: 'e', incomeType: 'FUNDING_FEE', read: { records: [record], rejected: [] } });
    expect(eventsOf(funding.wal, 'kill_switch.engaged').map((e) => e.userId)).toEqual(['e']);
    expectSame(d);
  });
});

describe('a rationed pass', () => {
  it('takes at most its ration of the sessions due by time, earliest first; the rest stay queued', () => {
    const count = 1_000;
    const d = new CoreDriver();
    for (let i = 0; i < count; i += 1) d.command({ id: `s${i}`, userId: `r${i}`, type: 'session.start', capitalUsd: 1_000 });
    const durable = d.state.durable;
    const schedule = new Schedule(durable);
    expect(sessionsToVisit(schedule, 'equity', durable, [], 0, false)).toHaveLength(count); // the first look: everyone
    // Due in reverse order of start: r999 first.
    for (let i = 0; i < count; i += 1) dueAgain(schedule, 'equity', `r${i}`, 1_000 + count - i);
    const first = sessionsToVisit(schedule, 'equity', durable, [], 10_000, false, [], 100);
    expect(first).toHaveLength(100);
    expect(new Set(first.map((s) => s.userId))).toEqual(new Set(Array.from({ length: 100 }, (_, k) => `r${count - 1 - k}`)));
    expect(sessionsToVisit(schedule, 'equity', durable, [], 10_000, false, [], 100).map((s) => s.userId)).not.toContain('r999');
    // What was not taken is still queued: the remaining 800, in as many rationed looks.
    let left = 0;
    for (let look = 0; look < 10; look += 1) left += sessionsToVisit(schedule, 'equity', durable, [], 10_000, false, [], 100).length;
    expect(left).toBe(count - 200);
  });
});

describe('where a schedule is kept', () => {
  it('finds each state its schedule, the newest hand-on or an older one, once each, whatever was handed on since', () => {
    const d = sessions();
    const timer: Input = { kind: 'timer' };
    const tick = (bid: number): Input => ({ kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid, ask: bid + 0.1, time: d.nowMs } });
    // Each decision takes the schedule of the state it starts from and hands it to the state it makes.
    const start = decide(d.state, timer, d.nowMs, d.config).state;
    const a = decide(start, tick(60_001), d.nowMs, d.config).state;
    // A second decision from `start` (whose schedule `a` took) builds its own: `a`'s is no longer the newest hand-on.
    const b = decide(start, tick(60_002), d.nowMs, d.config).state;
    expect(scheduleFor(a, false).passes.size).toBe(3);
    const b2 = decide(b, timer, d.nowMs + 1_000, d.config).state;
    const a2 = decide(a, timer, d.nowMs + 1_000, d.config).state;
    for (const state of [a2, b2]) expect(scheduleFor(state, false).passes.size).toBe(3);
    // Taken once (by a decision that hands it on), it is gone from that state.
    for (const state of [a2, b2]) {
      expect(scheduleFor(state, true).passes.size).toBe(3);
      expect(scheduleFor(state, false).passes.size).toBe(0);
    }
  });
});
