import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { neg, sum, toQty, toUsd } from '../../src/model/decimal.js';
import type { Usd } from '../../src/model/decimal.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import type { Harness } from '../support/harness.js';
import { startHarness } from '../support/harness.js';
import { apiClient } from '../paper-exchange/helpers.js';
import { waitFor } from '../support/wait.js';

// The engine against a paper exchange whose book has finite depth: an entry that takes slips through the
// levels, only as far as the 15 bps bound of its IOC fallback, and ends EXPIRED with part filled; a resting
// entry fills in parts from the tape. The engine's position is the sum of the fills, its fees one per trade.

async function walEvents(h: Harness): Promise<WalEvent[]> {
  return (await h.log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent);
}

/** The engine's position and the exchange's agree, and every trade's commission is booked once. */
async function expectEngineMatchesExchange(h: Harness, userId: string, symbol: string): Promise<void> {
  const key = paperCredentials(userId).apiKey;
  const income = (await apiClient(h.sim.restBaseUrl, key).signed('GET', '/fapi/v1/income', { limit: '1000' })).body as { incomeType: string; income: string }[];
  const exchangeFees = income.filter((r) => r.incomeType === 'COMMISSION').map((r) => neg(toUsd(r.income)));
  const fees = await waitFor('every trade fee booked', async () => {
    const booked = (await walEvents(h)).filter((e): e is Extract<WalEvent, { type: 'fee' }> => e.type === 'fee' && e.userId === userId);
    return booked.length === exchangeFees.length ? booked : undefined;
  });
  expect(sum(fees.map((e) => e.feeUsd as Usd))).toBe(sum(exchangeFees));
  await waitFor('the engine position to match the exchange', () => {
    const qty = h.service.engine.current.durable.sessions.get(userId)?.positions[symbol]?.qty ?? '0';
    return Number(qty) === h.sim.position(key, symbol);
  });
}

describe('a book with depth', () => {
  it('the IOC fallback slips through several levels, stops at the 15 bps bound and expires the rest; the engine books each trade', async () => {
    // 500..1 000 USD a level, up to 200 ticks (20 USD, ~3 bps) apart: 15 bps of BTC reaches a handful of levels.
    const sim = await startSimulator({
      port: 0,
      seed: 31,
      priceStepMs: 50,
      book: { minLevelNotionalUsd: 500, maxLevelNotionalUsd: 1_000, maxLevelGapTicks: 200 },
    });
    const h = await startHarness({ label: 'book-slip', sim });
    try {
      const userId = 'slipper';
      const key = paperCredentials(userId).apiKey;
      await h.reply(await h.send({ id: 'bs-start', userId, type: 'session.start', mode: 'paper', capitalUsd: 50_000 }), 'done');
      sim.pausePriceProcess(true); // the book the fallback is priced from is the book it meets
      const ticker = (await apiClient(sim.restBaseUrl, key).publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'BTCUSDT' })).body as Record<string, string>;
      const mid = (Number(ticker.bidPrice) + Number(ticker.askPrice)) / 2;
      sim.faults.forcePostOnlyReject = true; // the entry must take: post-only refused, then the bounded IOC
      await h.send({ id: 'bs-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 1 }] });
      const ioc = await waitFor('the IOC fallback done', () => sim.orders().find((o) => o.accountKey === key && o.timeInForce === 'IOC' && o.status !== 'NEW'));
      sim.faults.forcePostOnlyReject = false;

      // ~0.83 BTC wanted, a few thousand USD within 15 bps: part filled, the rest expired, slipped past the touch.
      expect(ioc.status).toBe('EXPIRED');
      expect(Number(ioc.executedQty)).toBeGreaterThan(0);
      expect(Number(ioc.executedQty)).toBeLessThan(Number(ioc.origQty));
      expect(Number(ioc.avgPrice)).toBeGreaterThan(Number(ticker.askPrice));
      expect(Number(ioc.price)).toBeLessThanOrEqual(mid * (1 + 15 / 10_000));
      expect(Number(ioc.avgPrice)).toBeLessThanOrEqual(Number(ioc.price));

      // The engine learns the same: EXPIRED with that much filled, at that average.
      const mine = await waitFor('the engine to see the IOC end', () =>
        h.service.engine.current.durable.orders.values().find((o) => o.clientOrderId === ioc.clientOrderId && o.status === 'EXPIRED'),
      );
      expect(mine.filledQty).toBe(ioc.executedQty);
      const fills = (await walEvents(h)).filter((e): e is Extract<WalEvent, { type: 'fill' }> => e.type === 'fill' && e.clientOrderId === ioc.clientOrderId);
      expect(fills.length).toBeGreaterThanOrEqual(1);
      expect(sum(fills.map((f) => toQty(String(f.qty))))).toBe(toQty(ioc.executedQty));
      await expectEngineMatchesExchange(h, userId, 'BTCUSDT');
    } finally {
      await h.close();
      await sim.close();
    }
  });

  it('a resting entry fills in parts from the tape; the engine follows PARTIALLY_FILLED to the end', async () => {
    const sim = await startSimulator({ port: 0, seed: 32, priceStepMs: 50, book: { minLevelNotionalUsd: 1_000, maxLevelNotionalUsd: 2_000 } });
    const h = await startHarness({ label: 'book-queue', sim });
    try {
      const userId = 'queuer';
      const key = paperCredentials(userId).apiKey;
      await h.reply(await h.send({ id: 'bq-start', userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
      sim.pausePriceProcess(true);
      await h.send({ id: 'bq-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 1 }] });
      const entry = await waitFor('the post-only entry resting', () =>
        sim.orders().find((o) => o.accountKey === key && o.timeInForce === 'GTX' && o.status === 'NEW'),
      );
      // The same touch, a new book and tape each time: the entry queues, then fills piece by piece.
      for (let i = 0; i < 200 && sim.orders().find((o) => o.clientOrderId === entry.clientOrderId)?.status !== 'FILLED'; i++) {
        sim.setMid('ETHUSDT', Number(entry.price) + 0.005);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(sim.orders().find((o) => o.clientOrderId === entry.clientOrderId)?.status).toBe('FILLED');
      await waitFor('the engine to see it filled', () => h.service.engine.current.durable.orders.get(entry.clientOrderId)?.status === 'FILLED');
      const statuses = (await walEvents(h))
        .filter((e): e is Extract<WalEvent, { type: 'order.status' }> => e.type === 'order.status' && e.clientOrderId === entry.clientOrderId)
        .map((e) => e.status);
      expect(statuses).toContain('PARTIALLY_FILLED');
      expect(statuses.at(-1)).toBe('FILLED');
      const fills = (await walEvents(h)).filter((e): e is Extract<WalEvent, { type: 'fill' }> => e.type === 'fill' && e.clientOrderId === entry.clientOrderId);
      expect(fills.length).toBeGreaterThan(1);
      expect(fills.every((f) => Number(f.price) === Number(entry.price))).toBe(true); // a maker fills at its limit
      await expectEngineMatchesExchange(h, userId, 'ETHUSDT');
    } finally {
      await h.close();
      await sim.close();
    }
  });
});
