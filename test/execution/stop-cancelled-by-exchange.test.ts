import { describe, expect, it } from 'vitest';
import { paperCredentials } from '../../src/engine/accounts.js';
import { useHarness } from '../support/harness.js';
import { allOutbound } from '../support/outbound.js';
import { waitFor } from '../support/wait.js';

// A protective stop the exchange cancels on its own (ALGO_UPDATE CANCELED for a stop the engine still tracks) is
// re-placed as soon as the push arrives, with an alert, not at the next periodic check. The check period here is
// ten minutes, so only the push can explain a stop back within the test's wait.

describe('a protective stop cancelled on the exchange’s side', () => {
  const harness = useHarness({ label: 'stop-news', config: { protectiveStopCheckMs: 600_000, protectiveStopIdleCheckMs: 600_000 } });

  it('is re-placed at once on its ALGO_UPDATE, with an alert', async () => {
    const h = harness();
    const key = paperCredentials('newsy').apiKey;
    await h.reply(await h.send({ id: 'n-start', userId: 'newsy', type: 'session.start', mode: 'paper', capitalUsd: 10_000, stopLossPct: 5 }), 'done');
    h.sim.faults.forcePostOnlyReject = true;
    await h.send({ id: 'n-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.5 }] });
    await waitFor('a long', () => h.sim.position(key, 'ETHUSDT') > 0);
    h.sim.faults.forcePostOnlyReject = false;
    const first = await waitFor('a protective stop', () => h.sim.openAlgoOrders(key)[0]);

    h.sim.cancelAlgoOrdersBehindOurBack(key);
    const second = await waitFor('the stop re-placed', () => h.sim.openAlgoOrders(key).find((s) => s.clientAlgoId !== first.clientAlgoId));
    expect(second.side).toBe(first.side);
    expect(second.triggerPrice).toBeCloseTo(first.triggerPrice, 6);
    await waitFor('an alert about it', async () =>
      (await allOutbound(h.log)).some((e) => e.type === 'alert' && e.kind === 'protective_stop' && e.userId === 'newsy' && /cancelled/.test(e.message)),
    );
    expect(h.sim.openAlgoOrders(key)).toHaveLength(1);
  });
});
