import { describe, expect, it } from 'vitest';
import type { ExchangeAccount } from '../../src/exchange/port.js';
import { executorOn } from '../support/executor.js';

// The executor keeps a pair of lanes per account it ever served. When an effect finished and left none running, it
// looked at every account's lanes to tell whether it was idle, for the sake of idle() callers (tests, shutdown):
// at 10 000 sessions that was a pass over 10 000 lanes per effect. With nobody waiting for idle it must not look.

/** An account whose every answer is "unknown" (the executor only needs an answer; the core is not involved). */
const account = {
  cancelOrder: async () => ({ kind: 'not_found' }),
} as unknown as ExchangeAccount;

describe('an effect that finishes with nothing else running', () => {
  it('does not look at every account’s lanes when nobody waits for idle', async () => {
    const { executor, results } = executorOn(account);
    const lanes = (executor as unknown as { lanes: Map<string, unknown> }).lanes;
    const users = 300;
    let passes = 0;
    const values = lanes.values.bind(lanes);
    lanes.values = () => {
      passes += 1;
      return values();
    };
    // One account after another, each effect answered before the next is sent: each leaves none running.
    for (let i = 0; i < users; i += 1) {
      executor.submit({ kind: 'cancel', userId: `u${i}`, lane: 'priority', symbol: 'BTCUSDT', clientOrderId: `c${i}` });
      while (results.length <= i) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(results).toHaveLength(users);
    expect(passes).toBe(0);
    // idle() still answers once everything is done.
    await executor.idle();
  });
});
