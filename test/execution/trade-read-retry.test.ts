import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { memoryRateBudget } from '../../src/exchange/rate-budget.js';
import type { Harness } from '../support/harness.js';
import { startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// A fill whose push the user stream swallowed has its commission read from the trade list (GET /fapi/v1/userTrades).
// That read can be lost too: here the request budget holds it back (the normal lane paused, as after a 429), and the
// executor drops what the budget holds back. The read is owed until answered and asked again
// (core/trade-reads-owed.ts), so the commission is still booked once the pause is over.

async function feeEvents(h: Harness, userId: string): Promise<WalEvent[]> {
  return (await h.log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent).filter((e) => e.type === 'fee' && e.userId === userId);
}

describe('a trade-list read held back by the budget', () => {
  it('is asked again, and the commission of a fill the silent stream swallowed is booked', async () => {
    const budget = memoryRateBudget();
    const h = await startHarness({ label: 'trade-read-retry', rateBudget: budget, connector: { userStreamEchoTimeoutMs: 500 } });
    try {
      const user = 'quiet';
      const key = paperCredentials(user).apiKey;
      await h.reply(await h.send({ id: 'q-start', userId: user, type: 'session.start', mode: 'paper', capitalUsd: 10_000, stopLossPct: 5 }), 'done');
      h.sim.faults.userStreamSilent = true; // the socket stays open and answers pings; nothing is pushed
      h.sim.faults.forcePostOnlyReject = true; // the entry fills at once through the bounded fallback
      await h.send({ id: 'q-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
      await waitFor('a long', () => h.sim.position(key, 'BTCUSDT') > 0, 15_000);
      h.sim.faults.forcePostOnlyReject = false;
      // The entry is not echoed: the adapter calls the stream deaf and the engine asks for the trades, into a pause.
      const pauseMs = 6_000;
      await budget.recordBackoff(pauseMs, Date.now(), 'rate_limited');
      const pausedAt = Date.now();
      await waitFor(
        'the trade list read after the pause',
        () => h.sim.requests().find((r) => r.path === '/fapi/v1/userTrades' && r.receivedAt > pausedAt),
        20_000,
      );
      const fees = await waitFor('the entry fee booked', async () => {
        const booked = await feeEvents(h, user);
        return booked.length > 0 ? booked : undefined;
      });
      expect(fees).toHaveLength(1);
    } finally {
      await h.close();
    }
  }, 60_000);
});
