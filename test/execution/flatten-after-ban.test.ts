import { describe, expect, it } from 'vitest';
import { paperCredentials } from '../../src/engine/accounts.js';
import { memoryRateBudget } from '../../src/exchange/rate-budget.js';
import { startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// A 418 ban blocks flattens too: every retry during it is held back by the budget. Those refusals must not build
// up the doubling back-off meant for orders the exchange keeps refusing: the budget says when the ban ends, and the
// flatten goes out then. Here retries double from 3 s with no practical cap: after the 418 itself, the budget's
// refusals at 3 and 6 s would put the next attempt at 12 s, then 24 s, 11 s after a 13 s ban has ended; the
// budget's word sends it at about 13 s.

describe('a flatten held back by a ban', () => {
  it('goes out when the ban ends, not after the back-off the ban built up', async () => {
    const h = await startHarness({
      label: 'ban-flatten',
      rateBudget: memoryRateBudget(),
      config: { flattenRetryMs: 3_000, maxRejectionBackoffMs: 600_000 },
    });
    try {
      const user = 'owed';
      const key = paperCredentials(user).apiKey;
      await h.reply(await h.send({ id: 'o-start', userId: user, type: 'session.start', mode: 'paper', capitalUsd: 10_000, stopLossPct: 5 }), 'done');
      h.sim.faults.forcePostOnlyReject = true; // the entry fills at once through the bounded fallback
      await h.send({ id: 'o-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
      await waitFor('a long', () => h.sim.position(key, 'BTCUSDT') > 0, 15_000);
      h.sim.faults.forcePostOnlyReject = false;

      const banMs = 13_000;
      h.sim.faults.banMs = banMs;
      h.sim.faults.ban418Count = 1; // the next request starts the ban
      await h.send({ id: 'o-stop', userId: user, type: 'session.stop' });
      const first = await waitFor('the first 418', () => h.sim.requests().find((r) => r.status === 418));
      // Flat within a few seconds of the ban's end (the doubling back-off's 24 s are far beyond).
      await waitFor('flat after the ban', () => h.sim.position(key, 'BTCUSDT') === 0, banMs + 8_000);
      const flattens = h.sim.requests().filter((r) => r.path === '/fapi/v1/order' && r.status === 200 && r.receivedAt > first.receivedAt);
      expect(flattens.length).toBeGreaterThan(0);
      const sentAfterMs = (flattens[0]?.receivedAt ?? Infinity) - first.receivedAt;
      expect(sentAfterMs).toBeGreaterThanOrEqual(banMs - 1_000);
      expect(sentAfterMs).toBeLessThan(banMs + 5_000);
    } finally {
      await h.close();
    }
  }, 60_000);
});
