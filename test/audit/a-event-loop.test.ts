import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { paperCredentials } from '../../src/engine/accounts.js';
import { useHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// Audit failure A: a synchronous exchange client froze the event loop for as long as Binance took to answer,
// so a /stop waited behind a slow order. Here the exchange answers after 2 s; while user A's order is still
// in flight, user B's stop is handled and its flatten order reaches the exchange, and the event loop never
// stalls for the exchange's answer (a blocking client would show one delay of the whole 2 000 ms).
// The bound is on the longest single stall, at half the exchange's latency: that separates "waited for the
// exchange" from "was busy". A tight percentile bound (it was p99 < 50 ms) measures the CI machine's load
// instead: with other test files on the same two cores it read 52.9 ms and failed a correct engine. How fast
// the loop is lives in `npm run bench`, not here.

const slowExchangeMs = 2_000;
const maxEventLoopStallMs = slowExchangeMs / 2;

describe('audit A: a slow exchange does not block other users', () => {
  const harness = useHarness({ label: 'audit-a', restTimeoutMs: 10_000 });

  it("handles B's stop and sends its flatten while A's order is in flight", async () => {
    const h = harness();
    const a = 'a-user';
    const b = 'b-user';
    await h.reply(await h.send({ id: 'a-start', userId: a, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
    await h.reply(await h.send({ id: 'b-start', userId: b, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');

    // B gets a position (post-only refused, bounded fallback fills).
    h.sim.faults.forcePostOnlyReject = true;
    await h.send({ id: 'a-sig-b', userId: 'signals', type: 'signals.route', userIds: [b], signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
    await waitFor("B's position", () => Number(h.service.engine.current.durable.sessions.get(b)?.positions.BTCUSDT?.qty ?? 0) > 0);
    h.sim.faults.forcePostOnlyReject = false;

    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    h.sim.faults.latencyMs = slowExchangeMs;
    await h.send({ id: 'a-sig-a', userId: 'signals', type: 'signals.route', userIds: [a], signals: [{ symbol: 'ETHUSDT', weight: 0.5 }] });
    const slowOrder = await waitFor("A's order to reach the exchange", () => h.sim.orders().find((o) => o.accountKey === paperCredentials(a).apiKey));
    expect(slowOrder.respondedAt).toBeUndefined();

    await h.reply(await h.send({ id: 'b-stop', userId: b, type: 'session.stop' }), 'accepted');
    const flatten = await waitFor("B's flatten order at the exchange", () =>
      h.sim.orders().find((o) => o.accountKey === paperCredentials(b).apiKey && o.reduceOnly && o.type === 'MARKET'),
    );
    const slowNow = h.sim.orders().find((o) => o.clientOrderId === slowOrder.clientOrderId);
    // Ordering, not speed: B's flatten arrived before A's slow order was answered.
    expect(flatten.receivedAt).toBeLessThan(slowNow?.respondedAt ?? Number.POSITIVE_INFINITY);

    await h.reply('b-stop', 'done');
    histogram.disable();
    const longestStallMs = histogram.max / 1e6;
    expect(longestStallMs).toBeLessThan(maxEventLoopStallMs);
    h.sim.faults.latencyMs = 0;
  });
});
