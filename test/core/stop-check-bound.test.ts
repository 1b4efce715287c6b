import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import type { Decision } from '../../src/core/decide.js';
import { CoreDriver, placed, withConfig } from './fixtures.js';

// The protective-stop pass's periodic checks (a listing of open algo orders and a position read per session) are
// bounded per minute over all sessions (protectiveStopChecksPerMinute): a thousand sessions due at once must not
// spend the venue's request weight that entries and flattens need. The longest-unchecked go first, so every
// session still comes round; the bound never delays a flatten, which is decided at once.

const minuteMs = 60_000;

function startedSessions(count: number, config = withConfig({ maxUsersPerRouteStep: 1_000 })): CoreDriver {
  // At the top of a minute, so the first minute's count starts from zero.
  const d = new CoreDriver({ nowMs: Math.ceil(1_700_000_000_000 / minuteMs) * minuteMs, config });
  d.tick('BTCUSDT', 60_000, 60_000.1);
  d.tick('ETHUSDT', 3_000, 3_000.1);
  for (let i = 0; i < count; i += 1) d.command({ id: `start-${i}`, userId: `u${i}`, type: 'session.start', mode: 'paper', capitalUsd: 1_000, stopLossPct: 10 });
  return d;
}

const checksIn = (d: Pick<Decision, 'effects'>): string[] => d.effects.flatMap((e) => (e.kind === 'list_stops' ? [e.userId] : []));

describe('protective-stop checks per minute', () => {
  it('never start more than protectiveStopChecksPerMinute in a minute, and reach every session', () => {
    const sessions = 300;
    const d = startedSessions(sessions);
    const { protectiveStopChecksPerMinute: perMinute } = d.config;
    expect(perMinute).toBeLessThan(sessions);
    const perMinuteSeen = new Map<number, number>();
    const checked = new Set<string>();
    const count = (decision: Decision): void => {
      const minute = Math.floor(d.nowMs / minuteMs);
      for (const userId of checksIn(decision)) {
        checked.add(userId);
        perMinuteSeen.set(minute, (perMinuteSeen.get(minute) ?? 0) + 1);
      }
    };
    for (const decision of d.decisions) count(decision);
    // Timer beats every second for four minutes, with a fresh quote each (the feed stays alive).
    for (let s = 0; s < 4 * 60; s += 1) {
      d.tick('BTCUSDT', 60_000, 60_000.1);
      count(d.timer(1_000));
    }
    for (const [minute, n] of perMinuteSeen) expect(n, `checks in minute ${minute}`).toBeLessThanOrEqual(perMinute);
    // 300 sessions at 120 a minute: all checked within three minutes.
    expect(checked.size).toBe(sessions);
  });

  it('decides as a full scan would while sessions wait their turn', () => {
    const d = startedSessions(40, withConfig({ protectiveStopChecksPerMinute: 12, protectiveStopCheckBurst: 2 }));
    for (let s = 0; s < 150; s += 7) {
      d.nowMs += 7_000;
      d.tick('BTCUSDT', 60_000, 60_000.1);
      const scheduled = decide(d.state, { kind: 'timer' }, d.nowMs, d.config, { scratch: true });
      const full = decide(d.state, { kind: 'timer' }, d.nowMs, d.config, { scratch: true, fullScan: true });
      expect(checksIn(scheduled)).toEqual(checksIn(full));
      expect(scheduled.effects).toEqual(full.effects);
      d.step({ kind: 'timer' });
    }
  });

  it('does not hold back a /stop: its flatten goes out in the same decision while every check waits', () => {
    const d = startedSessions(200);
    const routed = d.command({ id: 'route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
    for (const p of placed(routed)) d.fill(p.order.clientOrderId, 60_000);
    d.timer(1_000); // the minute's checks are used up
    const stop = d.command({ id: 'stop-u7', userId: 'u7', type: 'session.stop' });
    expect(placed(stop).map((p) => [p.userId, d.order(p.order.clientOrderId).purpose, p.lane])).toEqual([['u7', 'flatten', 'priority']]);
  });
});
