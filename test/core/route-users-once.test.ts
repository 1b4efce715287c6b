import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decide.js';
import { CoreDriver, replies, withConfig } from './fixtures.js';

// A signals.route is decided in steps of maxUsersPerRouteStep users (its continuation is the same input). Its users
// are put in id order once, when it begins, not again at every step: a route to every session takes the sessions
// active then, and one started part-way gets the next route. Every user is routed once, in id order.

function routeToAll(d: CoreDriver, id: string, between: (step: number) => void = () => undefined): { routed: string[]; steps: number } {
  let decision: Decision = d.command({ id, userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.1 }] });
  let steps = 1;
  while (decision.continuation) {
    between(steps);
    decision = d.step(decision.continuation);
    steps += 1;
  }
  const result = replies(decision).find((r) => r.status === 'done')?.result as { routed: { userId: string }[] } | undefined;
  return { routed: (result?.routed ?? []).map((r) => r.userId), steps };
}

describe('a route decided in steps', () => {
  it('routes the sessions active when it began, each once and in id order, whoever starts part-way', () => {
    const d = new CoreDriver({ config: withConfig({ maxUsersPerRouteStep: 3 }) });
    d.tick('BTCUSDT', 60_000, 60_000.1);
    const users = ['u05', 'u01', 'u09', 'u03', 'u07', 'u02', 'u08'];
    for (const userId of users) d.command({ id: `start-${userId}`, userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
    // Part-way, a session starts whose id sorts after the route's cursor.
    const { routed, steps } = routeToAll(d, 'route-1', (step) => {
      if (step === 1) d.command({ id: 'start-u99', userId: 'u99', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
    });
    expect(steps).toBe(3);
    expect(routed).toEqual([...users].sort());
    // The next route reaches it.
    expect(routeToAll(d, 'route-2').routed).toEqual([...users, 'u99'].sort());
  });
});
