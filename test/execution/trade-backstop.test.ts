import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import type { SimTrade } from '../../src/paper-exchange/trade-history.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { add, eq, neg, toUsd, zero } from '../../src/model/decimal.js';
import type { Usd } from '../../src/model/decimal.js';
import { startHarness } from '../support/harness.js';
import type { Harness } from '../support/harness.js';
import { apiClient, sleep } from '../paper-exchange/helpers.js';
import { waitFor } from '../support/wait.js';

// A fill whose user-stream push is lost (the stream is deaf while the order fills) has its commission booked from
// the exchange's trade list (GET /fapi/v1/userTrades) after the stream's gap is noticed, and exactly once: a push
// of the same trade arriving afterwards books nothing more.

type Fee = Extract<WalEvent, { type: 'fee' }>;
const hour = 60 * 60_000;

async function fees(h: Harness, userId: string): Promise<Fee[]> {
  return (await h.log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent).filter((e): e is Fee => e.type === 'fee' && e.userId === userId);
}

/** One entry of GET /fapi/v1/userTrades, as the paper exchange answers it. */
type ListedTrade = SimTrade;

describe('trade list backstop', () => {
  it('books the commission of a fill whose push was lost from userTrades, once, even when the push comes later', async () => {
    const sim = await startSimulator({ port: 0, seed: 11, priceStepMs: 50 });
    const h = await startHarness({
      label: 'trade-backstop',
      sim,
      connector: { listenKeyKeepaliveIntervalMs: hour, userStreamSilenceProbeMs: hour, userStreamEchoTimeoutMs: 1_000 },
    });
    try {
      const userId = 'backstop';
      const key = paperCredentials(userId).apiKey;
      const api = apiClient(sim.restBaseUrl, key);
      await h.reply(await h.send({ id: 'bs-start', userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
      await waitFor('a listen key', () => sim.requests().some((r) => r.method === 'POST' && r.path === '/fapi/v1/listenKey'));

      sim.faults.userStreamSilent = true; // every push from here on is lost
      sim.faults.forcePostOnlyReject = true; // enter at once through the bounded fallback: a taker fill with a commission
      await h.send({ id: 'bs-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.2 }] });
      await waitFor('a long', () => sim.position(key, 'BTCUSDT') > 0);
      sim.faults.forcePostOnlyReject = false;

      const trades = (await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT' })).body as ListedTrade[];
      expect(trades.length).toBeGreaterThan(0);
      const charged = trades.reduce<Usd>((sum, t) => add(sum, toUsd(t.commission)), zero);
      // Booked from the trade list after the deaf stream is noticed (the pushes never came).
      await waitFor(
        'the commission booked from the trade list',
        async () => (await fees(h, userId)).filter((f) => f.tradeId !== undefined).length === trades.length,
        15_000,
      );
      const booked = await fees(h, userId);
      expect(new Set(booked.map((f) => f.tradeId))).toEqual(new Set(trades.map((t) => String(t.id))));
      expect(
        eq(
          booked.reduce<Usd>((sum, f) => add(sum, f.feeUsd), zero),
          charged,
        ),
      ).toBe(true);
      expect(eq(h.service.engine.current.durable.sessions.get(userId)?.feesUsd ?? zero, charged)).toBe(true);
      // The exchange's own ledger agrees: the COMMISSION entries of the income history.
      const income = (await api.signed('GET', '/fapi/v1/income', { incomeType: 'COMMISSION' })).body as { income: string }[];
      expect(eq(neg(income.reduce<Usd>((sum, r) => add(sum, toUsd(r.income)), zero)), charged)).toBe(true);

      // The lost push turns up after all (a late delivery): the trade is booked already, so nothing more is.
      sim.faults.userStreamSilent = false;
      const trade = trades[0] as ListedTrade;
      const ours = h.service.engine.current.durable.orders.values().find((o) => o.exchangeOrderId === String(trade.orderId));
      expect(ours).toBeDefined();
      await h.service.engine.submit({
        kind: 'order_update',
        userId,
        mode: 'paper',
        order: {
          clientOrderId: ours?.clientOrderId ?? '',
          exchangeOrderId: String(trade.orderId),
          symbol: 'BTCUSDT',
          side: trade.side,
          status: 'FILLED',
          origQty: ours?.quantity ?? trade.qty,
          executedQty: ours?.filledQty ?? trade.qty,
          avgPrice: trade.price,
          updateTime: Date.now(),
          trade: {
            cumQty: trade.qty,
            commission: trade.commission,
            commissionAsset: 'USDT',
            realizedProfit: trade.realizedPnl,
            lastQty: trade.qty,
            lastPrice: trade.price,
            tradeId: String(trade.id),
          },
        },
      });
      await sleep(500);
      expect((await fees(h, userId)).length).toBe(booked.length);
      expect(eq(h.service.engine.current.durable.sessions.get(userId)?.feesUsd ?? zero, charged)).toBe(true);
    } finally {
      await h.close();
      await sim.close();
    }
  });
});
