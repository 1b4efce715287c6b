import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decide.js';
import { CoreDriver, placed } from './fixtures.js';

// A route computes each user's target quantity once per (weight, capital, quote, filters) in a step (route-signals.ts
// TargetMemo): users who differ in any of them must still get their own quantity.

function routeAll(d: CoreDriver, id: string, weight: number): Decision[] {
  const decisions: Decision[] = [d.command({ id, userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight }] })];
  for (let last = decisions[0]; last?.continuation; last = decisions[decisions.length - 1]) decisions.push(d.step(last.continuation));
  return decisions;
}

describe('a route to users of different capitals', () => {
  it('sizes each user from its own capital', () => {
    const d = new CoreDriver();
    d.tick('BTCUSDT', 60_000, 60_000.1);
    const capitals: Record<string, number> = { a: 1_000, b: 2_000, c: 1_000, d: 4_000 };
    for (const [userId, capitalUsd] of Object.entries(capitals)) d.command({ id: `start-${userId}`, userId, type: 'session.start', mode: 'paper', capitalUsd });
    const orders = routeAll(d, 'route-1', 0.5).flatMap((decision) => placed(decision));
    const qtyOf = (userId: string): number => Number(orders.find((p) => p.userId === userId)?.order.quantity);
    expect(qtyOf('a')).toBeGreaterThan(0);
    expect(qtyOf('c')).toBe(qtyOf('a'));
    expect(qtyOf('b')).toBeCloseTo(2 * qtyOf('a'), 2);
    expect(qtyOf('d')).toBeCloseTo(4 * qtyOf('a'), 2);
  });
});
