import { describe, expect, it } from 'vitest';
import { CoreDriver, eventsOf, placed, replies } from './fixtures.js';

// Routes appended while the engine was down wait in the command stream. Traded after the restart, they moved positions
// to targets hours old (the signals service kept appending one every few seconds). A route stamped by its producer
// (issuedAtMs) longer ago than maxSignalAgeMs when it begins is now refused, with its age; the next route trades.

function startedUser(): CoreDriver {
  const d = new CoreDriver();
  d.tick('BTCUSDT', 60_000, 60_000.1);
  d.command({ id: 'start-u1', userId: 'u1', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
  return d;
}

const route = (d: CoreDriver, id: string, issuedAtMs?: number) =>
  d.command({
    id,
    userId: 'signals',
    type: 'signals.route',
    signals: [{ symbol: 'BTCUSDT', weight: 0.5 }],
    ...(issuedAtMs !== undefined ? { issuedAtMs } : {}),
  });

describe('a route stamped longer ago than maxSignalAgeMs', () => {
  it('is refused with its age and trades nothing; a fresh one trades', () => {
    const d = startedUser();
    const stale = route(d, 'route-old', d.nowMs - 2 * 3_600_000);
    expect(replies(stale).map((r) => [r.status, r.reason])).toEqual([['rejected', 'signals issued 7200 s ago, older than 60 s: not traded']]);
    expect(placed(stale)).toEqual([]);
    expect(eventsOf(stale.wal, 'intent.set')).toEqual([]);

    const fresh = route(d, 'route-new', d.nowMs - 1_000);
    expect(replies(fresh).map((r) => r.status)).toEqual(['done']);
    expect(placed(fresh)).toHaveLength(1);
  });

  it('is measured at the limit: 60 s old trades, a millisecond more does not; an unstamped route trades whatever its age', () => {
    const atLimit = startedUser();
    expect(placed(route(atLimit, 'r-limit', atLimit.nowMs - 60_000))).toHaveLength(1);
    const past = startedUser();
    expect(replies(route(past, 'r-past', past.nowMs - 60_001)).map((r) => r.status)).toEqual(['rejected']);
    const unstamped = startedUser();
    expect(placed(route(unstamped, 'r-none'))).toHaveLength(1);
  });
});
