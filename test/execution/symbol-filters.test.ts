import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { quoteAgeMs } from '../../src/core/venues.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import type { Harness } from '../support/harness.js';
import { useHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// Trading rules that change under the engine, against the paper exchange server: a symbol leaving TRADING (a
// delisting's SETTLING) refuses new positions and still lets holders out; a raised MIN_NOTIONAL is learnt from the
// first refusal, not an hour later; a lagging feed whose quotes arrive now but describe an old book blocks entries,
// and never a flatten.

const h = useHarness({ label: 'symbol-filters' });

async function simControl(harness: Harness, path: string, params: Record<string, string>): Promise<Record<string, unknown>> {
  const response = await fetch(`${harness.sim.restBaseUrl}${path}?${new URLSearchParams(params).toString()}`, { method: 'POST' });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function route(harness: Harness, id: string, userId: string, symbol: string, weight: number): Promise<{ skipped?: string; clientOrderId?: string }> {
  await harness.send({ id, userId: 'signals', type: 'signals.route', userIds: [userId], signals: [{ symbol, weight }] });
  const reply = await harness.reply(id, 'done');
  return (reply.result as { routed: { skipped?: string; clientOrderId?: string }[] }).routed[0] ?? {};
}

async function rejectionOf(harness: Harness, clientOrderId: string): Promise<string> {
  return waitFor(`the exchange's answer to ${clientOrderId}`, async () => {
    const events = (await harness.log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent);
    const status = events.find((e) => e.type === 'order.status' && e.clientOrderId === clientOrderId && e.status === 'REJECTED');
    return status?.type === 'order.status' ? (status.reason ?? '') : undefined;
  });
}

/** Opens a position: the post-only entry is refused (forced), the bounded IOC fallback takes. */
async function enter(harness: Harness, userId: string, symbol: string, weight: number): Promise<void> {
  await harness.reply(await harness.send({ id: `${userId}-start`, userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
  harness.sim.faults.forcePostOnlyReject = true;
  try {
    const first = await route(harness, `${userId}-enter`, userId, symbol, weight);
    expect(first.clientOrderId).toBeDefined();
    await waitFor(`${userId} to hold ${symbol}`, () => Number(harness.service.engine.current.durable.sessions.get(userId)?.positions[symbol]?.qty ?? 0) > 0);
  } finally {
    harness.sim.faults.forcePostOnlyReject = false;
  }
}

async function stopFlat(harness: Harness, userId: string, symbol: string): Promise<void> {
  await harness.reply(await harness.send({ id: `${userId}-stop`, userId, type: 'session.stop' }), 'done');
  expect(harness.sim.position(paperCredentials(userId).apiKey, symbol)).toBe(0);
}

describe('trading rules that change under the engine', () => {
  it('a symbol going SETTLING: the first entry is refused -4140, the rules are read again, later entries are skipped with the reason; the exit still goes out', async () => {
    const harness = h();
    await enter(harness, 'settler', 'BTCUSDT', 0.3);
    await simControl(harness, '/sim/v1/symbol', { symbol: 'BTCUSDT', status: 'SETTLING' });

    const refused = await route(harness, 'settler-more-1', 'settler', 'BTCUSDT', 0.6);
    expect(refused.clientOrderId).toBeDefined(); // the engine's rules still said TRADING
    expect(await rejectionOf(harness, refused.clientOrderId ?? '')).toMatch(/^-4140 /);
    await waitFor('the refreshed rules', () => harness.service.engine.current.market.venues.paper.filters.BTCUSDT?.status === 'SETTLING');

    const skipped = await route(harness, 'settler-more-2', 'settler', 'BTCUSDT', 0.9);
    expect(skipped.skipped).toBe('BTCUSDT is SETTLING on the exchange: no new positions (exits are still sent)');
    await stopFlat(harness, 'settler', 'BTCUSDT');
    await simControl(harness, '/sim/v1/symbol', { symbol: 'BTCUSDT', status: 'TRADING' });
  });

  it('a raised MIN_NOTIONAL is picked up after the first -4164, and the next entry is skipped locally', async () => {
    const harness = h();
    await harness.reply(await harness.send({ id: 'minner-start', userId: 'minner', type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
    await simControl(harness, '/sim/v1/symbol', { symbol: 'ETHUSDT', minNotional: '50000' });
    const refused = await route(harness, 'minner-1', 'minner', 'ETHUSDT', 0.5);
    expect(await rejectionOf(harness, refused.clientOrderId ?? '')).toMatch(/^-4164 /);
    await waitFor('the refreshed MIN_NOTIONAL', () => Number(harness.service.engine.current.market.venues.paper.filters.ETHUSDT?.minNotional) === 50_000);
    const skipped = await route(harness, 'minner-2', 'minner', 'ETHUSDT', 0.5);
    expect(skipped.skipped).toMatch(/below minimum 50000/);
    await simControl(harness, '/sim/v1/symbol', { symbol: 'ETHUSDT', minNotional: '20' });
  });

  it('quotes that arrive now but describe a 5 s old book block entries, not a flatten', async () => {
    const harness = h();
    await enter(harness, 'lagger', 'SOLUSDT', 0.3);
    harness.sim.faults.marketDataLagMs = 5_000;
    try {
      await waitFor('a lagging SOLUSDT quote', () => {
        const quote = harness.service.engine.current.market.venues.paper.quotes.SOLUSDT;
        return quote !== undefined && quoteAgeMs(quote, Date.now()) > 4_000 && Date.now() - quote.receivedAtMs < 1_000;
      });
      const skipped = await route(harness, 'lagger-more', 'lagger', 'SOLUSDT', 0.6);
      expect(skipped.skipped).toBe('no quote younger than 3000 ms');
      await stopFlat(harness, 'lagger', 'SOLUSDT');
    } finally {
      harness.sim.faults.marketDataLagMs = 0;
    }
  });
});
