import { describe, expect, it } from 'vitest';
import type { EngineLog } from '../../src/log/port.js';
import { ManualClock } from '../../src/engine/clock.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { useHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// Exchange news must survive a log outage. The exchange sends an order's answer and its user-stream updates
// once; a probe saw them dropped during Redis outages ("input not committed; will be retried by its source"),
// though no source retries them. Here the log refuses every commit of exchange news (commands, which the
// stream redelivers anyway, still go through, so the order can be planned) while the simulator answers our
// order; once the log is back the news is committed and the engine re-queries what it may have missed. The
// clock is manual and there are no watchdog beats: nothing but the kept input can tell the engine.

let outage = false;
let refusedCommits = 0;
const flaky = (log: EngineLog): EngineLog => ({
  ...log,
  commit: (batch) => {
    if (outage && batch.ack.length === 0 && batch.deadLetters.length === 0) {
      refusedCommits += 1;
      return Promise.reject(new Error('log unavailable (test outage)'));
    }
    return log.commit(batch);
  },
});

describe('a log outage', () => {
  const harness = useHarness({ label: 'outage', clock: new ManualClock(Date.UTC(2026, 0, 1)), timer: 'manual', wrapLog: flaky });

  it('keeps the exchange answers that arrive during it and commits them once the log is back', async () => {
    const h = harness();
    await h.send({ id: 'out-start', userId: 'outage-user', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    await h.reply('out-start', 'done');
    const resyncs: number[] = [];
    const placeResults: string[] = [];
    h.service.engine.observe((input) => {
      if (input.kind === 'resync') resyncs.push(1);
      if (input.kind === 'place_result') placeResults.push(input.clientOrderId);
    });
    outage = true;
    await h.send({ id: 'out-route', userId: 'signals', type: 'signals.route', userIds: ['outage-user'], signals: [{ symbol: 'SOLUSDT', weight: 0.5 }] });
    const routed = await h.reply('out-route', 'done');
    const clientOrderId = (routed.result as { routed: { clientOrderId?: string }[] }).routed[0]?.clientOrderId;
    expect(clientOrderId).toBeDefined();
    const key = paperCredentials('outage-user').apiKey;
    // The exchange answers (accepts, rests, fills or refuses the post-only order) while the log refuses its news.
    await h.service.executor.idle();
    await waitFor('a commit of that answer was refused', async () => (refusedCommits > 0 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.service.engine.current.durable.orders.get(clientOrderId ?? '')?.status).toBe('pending');
    outage = false;
    const settled = await waitFor(
      'the answer committed after the outage',
      async () => {
        const order = h.service.engine.current.durable.orders.get(clientOrderId ?? '');
        return order && order.status !== 'pending' ? order : undefined;
      },
      10_000,
    );
    expect(['NEW', 'PARTIALLY_FILLED', 'FILLED', 'REJECTED', 'EXPIRED']).toContain(settled.status);
    // The answer to the order itself, refused during the outage, was committed after it.
    await waitFor('the kept place answer committed', async () => (placeResults.includes(clientOrderId ?? '') ? true : undefined));
    // The engine also asked the exchange again about what it might have missed.
    await waitFor('a resync after the outage', async () => (resyncs.length > 0 ? true : undefined));
    const sessions = h.service.engine.current.durable.sessions;
    await waitFor(
      'engine position equals the exchange',
      async () => {
        await h.service.settle();
        const theirs = h.sim.position(key, 'SOLUSDT');
        const ours = Number(sessions.get('outage-user')?.positions.SOLUSDT?.qty ?? 0);
        return Number(h.service.engine.current.durable.sessions.get('outage-user')?.positions.SOLUSDT?.qty ?? ours) === theirs ? true : undefined;
      },
      10_000,
    );
  });
});
