import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import type { SimulatorHandle, SimulatorOptions } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import type { Harness, HarnessOptions } from '../support/harness.js';
import { startHarness } from '../support/harness.js';
import { apiClient } from '../paper-exchange/helpers.js';
import { waitFor } from '../support/wait.js';

// The user stream's whole life against the paper exchange, in scaled time: a listen key that expires (announced or
// silently) is renewed, a deaf stream is noticed by our own order not being pushed, and each gap is covered by
// reading the user's orders and positions again. A fired protective stop is linked to its fill by ALGO_UPDATE.

type ExchangeFill = Extract<WalEvent, { type: 'exchange_fill' }>;

const hour = 60 * 60_000;

async function walEvents(h: Harness): Promise<WalEvent[]> {
  return (await h.log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent);
}

const listenKeyPosts = (sim: SimulatorHandle): { receivedAt: number }[] => sim.requests().filter((r) => r.method === 'POST' && r.path === '/fapi/v1/listenKey');

const positionReadsSince = (sim: SimulatorHandle, sinceMs: number): number =>
  sim.requests().filter((r) => r.method === 'GET' && r.path === '/fapi/v3/positionRisk' && r.receivedAt >= sinceMs).length;

async function withEngine(
  label: string,
  simOptions: SimulatorOptions,
  harness: Omit<HarnessOptions, 'label' | 'sim'>,
  body: (h: Harness) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ port: 0, seed: 11, priceStepMs: 50, ...simOptions });
  const h = await startHarness({ label, sim, ...harness });
  try {
    await body(h);
  } finally {
    await h.close();
    await sim.close();
  }
}

async function startSession(h: Harness, userId: string, extra: Record<string, unknown> = {}): Promise<void> {
  await h.reply(await h.send({ id: `${userId}-start`, userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000, ...extra }), 'done');
}

/** A trade the user makes on the account by hand: only the user stream (or a reconcile) can tell the engine. */
async function manualBuy(h: Harness, userId: string): Promise<void> {
  const res = await apiClient(h.sim.restBaseUrl, paperCredentials(userId).apiKey).signed('POST', '/fapi/v1/order', {
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'MARKET',
    quantity: '0.010',
  });
  expect(res.status).toBe(200);
}

describe('user stream life', () => {
  it('renews a listen key that expired (listenKeyExpired), reconciles the gap and hears the account again', async () => {
    await withEngine(
      'us-expired',
      { listenKeyValidityMs: 1_500 },
      // No keep-alive and no probe within the test: only the pushed listenKeyExpired can save the stream.
      { connector: { listenKeyKeepaliveIntervalMs: hour, userStreamSilenceProbeMs: hour } },
      async (h) => {
        const userId = 'expiring';
        await startSession(h, userId);
        await waitFor('a listen key', () => listenKeyPosts(h.sim)[0]);
        const renewed = await waitFor('a renewed listen key', () => listenKeyPosts(h.sim)[1], 10_000);
        await waitFor('positions read again after the renewal', () => positionReadsSince(h.sim, renewed.receivedAt) > 0, 10_000);

        await manualBuy(h, userId);
        const fill = await waitFor('the manual trade heard on the renewed stream', async () =>
          (await walEvents(h)).find((e): e is ExchangeFill => e.type === 'exchange_fill' && e.userId === userId),
        );
        expect(fill.cause).toBe('manual');
        expect(Number(fill.qty)).toBe(0.01);
      },
    );
  });

  it('reconnects after the server closes the connection at its lifetime cap (24 h on Binance) and reconciles the gap', async () => {
    await withEngine(
      'us-lifetime',
      { userStreamMaxLifetimeMs: 1_500 },
      { connector: { listenKeyKeepaliveIntervalMs: hour, userStreamSilenceProbeMs: hour } },
      async (h) => {
        await startSession(h, 'lifetime');
        await waitFor('a listen key', () => listenKeyPosts(h.sim)[0]);
        const reconnected = await waitFor('a reconnect after the cap', () => listenKeyPosts(h.sim)[1], 10_000);
        await waitFor('positions read again after the reconnect', () => positionReadsSince(h.sim, reconnected.receivedAt) > 0, 10_000);
      },
    );
  });

  it('detects a silent stream on a key that died without notice, renews it and adopts what it missed', async () => {
    await withEngine(
      'us-silent',
      { listenKeyValidityMs: 1_000, listenKeyExpiry: { pushEvent: false } },
      { connector: { listenKeyKeepaliveIntervalMs: hour, userStreamSilenceProbeMs: 3_000 } },
      async (h) => {
        const userId = 'silent';
        await startSession(h, userId);
        const first = await waitFor('a listen key', () => listenKeyPosts(h.sim)[0]);
        // The key is dead (no keep-alive within its validity) and the socket open and silent: the trade is not pushed.
        await waitFor('the key dead', () => Date.now() > first.receivedAt + 1_300);
        await manualBuy(h, userId);

        const renewed = await waitFor('a renewed listen key', () => listenKeyPosts(h.sim)[1], 10_000);
        expect(renewed.receivedAt).toBeGreaterThan(first.receivedAt + 1_000);
        const adopted = await waitFor('the missed trade adopted by the reconcile', async () =>
          (await walEvents(h)).find((e) => e.type === 'position.adopted' && e.userId === userId && e.symbol === 'BTCUSDT'),
        );
        expect(adopted.type === 'position.adopted' ? Number(adopted.qty) : 0).toBe(0.01);
      },
    );
  });

  it('detects a deaf stream on a valid key (our own order not pushed), reconnects and reconciles', async () => {
    await withEngine(
      'us-deaf',
      {},
      { connector: { listenKeyKeepaliveIntervalMs: hour, userStreamSilenceProbeMs: hour, userStreamEchoTimeoutMs: 1_000 } },
      async (h) => {
        const userId = 'deaf';
        const key = paperCredentials(userId).apiKey;
        await startSession(h, userId);
        await waitFor('a listen key', () => listenKeyPosts(h.sim)[0]);
        h.sim.faults.userStreamSilent = true;
        await h.send({ id: 'deaf-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.2 }] });
        await waitFor('an order placed', () => h.sim.orders().some((o) => o.accountKey === key));

        const renewed = await waitFor('the stream reconnected', () => listenKeyPosts(h.sim)[1], 10_000);
        await waitFor('positions read again after the reconnect', () => positionReadsSince(h.sim, renewed.receivedAt) > 0, 10_000);
        h.sim.faults.userStreamSilent = false;
      },
    );
  });

  it('links a fired protective stop to its fill through ALGO_UPDATE (by id, not by guess)', async () => {
    await withEngine('us-algo', {}, { config: { protectiveStopCheckMs: 400 } }, async (h) => {
      const userId = 'stopped';
      const key = paperCredentials(userId).apiKey;
      await startSession(h, userId, { stopLossPct: 5 });
      h.sim.faults.forcePostOnlyReject = true; // enter at once through the bounded fallback
      await h.send({ id: 'algo-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
      await waitFor('a long', () => h.sim.position(key, 'BTCUSDT') > 0);
      h.sim.faults.forcePostOnlyReject = false;
      const stop = await waitFor('a protective stop', () => h.sim.openAlgoOrders(key)[0]);

      h.sim.setMid('BTCUSDT', stop.triggerPrice * 0.99);
      const fill = await waitFor('the stop booked', async () =>
        (await walEvents(h)).find((e): e is ExchangeFill => e.type === 'exchange_fill' && e.userId === userId),
      );
      expect(fill.cause).toBe('protective_stop');
      expect(fill.clientAlgoId).toBe(stop.clientAlgoId);
    });
  });
});
