import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decide.js';
import { emptyDurableState } from '../../src/core/state.js';
import { foldEvents } from '../../src/core/events.js';
import { CoreDriver, eventsOf, placed, replies, viaJson, withConfig } from './fixtures.js';

// A repeated signal finds most users at their target already. Their outcome is counted per symbol in the route's
// answer, not listed: a route to 1 000 users answered with 1 000 "already at target" entries (~80 KB), and at 10 000
// sessions those answers were most of the bytes the engine wrote to Redis. The route's WAL steps still name every such
// user (route.progress `atTarget`), the last step too, so each user's outcome stays in the log.

type RouteAnswer = { routed: { userId: string; clientOrderId?: string; skipped?: string }[]; atTarget?: Record<string, number> };

function route(d: CoreDriver, id: string): { answer: RouteAnswer | undefined; decisions: Decision[] } {
  const decisions: Decision[] = [d.command({ id, userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] })];
  for (let last = decisions[0]; last?.continuation; last = decisions[decisions.length - 1]) decisions.push(d.step(last.continuation));
  const answer = replies(decisions[decisions.length - 1] as Decision).find((r) => r.status === 'done')?.result as RouteAnswer | undefined;
  return { answer, decisions };
}

describe('a route to users at their target', () => {
  it('counts them in its answer, and names each in its WAL steps', () => {
    const d = new CoreDriver({ config: withConfig({ maxUsersPerRouteStep: 3 }) });
    d.tick('BTCUSDT', 60_000, 60_000.1);
    const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];
    for (const userId of users) d.command({ id: `start-${userId}`, userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
    const first = route(d, 'route-1');
    expect(first.answer?.routed.map((r) => r.userId)).toEqual(users);
    expect(first.answer?.routed.every((r) => r.clientOrderId !== undefined)).toBe(true);
    expect(first.answer?.atTarget).toBeUndefined();
    for (const decision of first.decisions) for (const p of placed(decision)) d.fill(p.order.clientOrderId, 60_000);

    const again = route(d, 'route-2');
    expect(again.answer).toEqual({ routed: [], atTarget: { BTCUSDT: users.length } });
    const named = again.decisions.flatMap((decision) => eventsOf(decision.wal, 'route.progress')).flatMap((e) => e.atTarget?.BTCUSDT ?? []);
    expect(named).toEqual(users);
    // The answered route leaves no progress behind, and its events replay to the same state.
    expect(d.state.durable.routes['route-2']).toBeUndefined();
    expect(foldEvents(emptyDurableState(), viaJson(d.wal), d.config).routes).toEqual(d.state.durable.routes);
  });

  it('does not count a user whose target is too small for one order as at its target: it says so', () => {
    const d = new CoreDriver();
    d.tick('BTCUSDT', 60_000, 60_000.1);
    // 0.5 of 5 USD is 2.50 USD of BTC at 60 000: 0.00004 BTC, below one step of the symbol. The user holds nothing
    // and never will at this capital; "at target" said the opposite.
    d.command({ id: 'start-small', userId: 'small', type: 'session.start', mode: 'paper', capitalUsd: 5 });
    d.command({ id: 'start-big', userId: 'big', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
    const { answer } = route(d, 'route-small');
    expect(answer?.atTarget).toBeUndefined();
    const small = answer?.routed.find((r) => r.userId === 'small');
    expect(small?.clientOrderId).toBeUndefined();
    expect(small?.skipped).toMatch(/^target 2\.50 USD \(weight 0\.5 of 5 USD\) is less than one BTCUSDT order step of 0\.001$/);
    expect(answer?.routed.find((r) => r.userId === 'big')?.clientOrderId).toBeDefined();
  });
});
