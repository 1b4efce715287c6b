import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { abs, add, eq, neg, toUsd, zero } from '../../src/model/decimal.js';
import type { Usd } from '../../src/model/decimal.js';
import type { SimTrade } from '../../src/paper-exchange/trade-history.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startHarness } from '../support/harness.js';
import type { Harness } from '../support/harness.js';
import { apiClient } from '../paper-exchange/helpers.js';
import { waitFor } from '../support/wait.js';

// A trade of an order the engine did not place (here a manual order on the account) whose push is lost (the stream
// deaf): once the gap is noticed, reconcile adopts the position and the trade list (GET /fapi/v1/userTrades) books
// the trade's realized PnL and commission, exactly as the exchange's income history has them.

type ExchangeTrade = Extract<WalEvent, { type: 'exchange_trade' }>;
const hour = 60 * 60_000;

async function walEvents(h: Harness): Promise<WalEvent[]> {
  return (await h.log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent);
}

async function setFaults(sim: SimulatorHandle, params: Record<string, string>): Promise<void> {
  const res = await fetch(`${sim.restBaseUrl}/sim/v1/faults?${new URLSearchParams(params).toString()}`, { method: 'POST' });
  expect(res.status).toBe(200);
}

describe('trade list backstop for trades not ours', () => {
  it('books the realized PnL and commission of a manual trade whose push was lost', async () => {
    const sim = await startSimulator({ port: 0, seed: 29, priceStepMs: 50 });
    const h = await startHarness({
      label: 'foreign-trade-backstop',
      sim,
      connector: { listenKeyKeepaliveIntervalMs: hour, userStreamSilenceProbeMs: hour, userStreamEchoTimeoutMs: 1_000 },
    });
    try {
      const userId = 'stranger';
      const key = paperCredentials(userId).apiKey;
      const api = apiClient(sim.restBaseUrl, key);
      await h.reply(await h.send({ id: 'ft-start', userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
      await setFaults(sim, { forcePostOnlyReject: 'true' }); // a taker entry: filled at once
      await h.send({ id: 'ft-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.2 }] });
      const held = await waitFor('a long', () => (sim.position(key, 'BTCUSDT') > 0 ? sim.position(key, 'BTCUSDT') : undefined));
      await setFaults(sim, { forcePostOnlyReject: 'false' });
      await waitFor('the long booked', () => Number(h.service.engine.current.durable.sessions.get(userId)?.positions.BTCUSDT?.qty ?? 0) === held);

      // Deaf stream; the account's owner sells part of the position by hand.
      await setFaults(sim, { userStreamSilent: 'true' });
      const manual = await api.signed('POST', '/fapi/v1/order', {
        symbol: 'BTCUSDT',
        side: 'SELL',
        type: 'MARKET',
        quantity: (Math.floor((held / 2) * 1000) / 1000).toFixed(3),
        reduceOnly: 'true',
        newClientOrderId: 'web_manual_1',
      });
      expect(manual.status).toBe(200);
      const manualOrderId = String((manual.body as { orderId: number }).orderId);
      const trades = ((await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT' })).body as SimTrade[]).filter(
        (t) => String(t.orderId) === manualOrderId,
      );
      expect(trades.length).toBeGreaterThan(0);

      // An order of ours the stream does not echo proves it deaf: the gap is reported, the trade list read.
      await h.send({ id: 'ft-route-2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.3 }] });
      const booked = await waitFor(
        'the manual trade booked from the trade list',
        async () => {
          const found = (await walEvents(h)).filter((e): e is ExchangeTrade => e.type === 'exchange_trade' && e.userId === userId);
          return found.length === trades.length ? found : undefined;
        },
        15_000,
      );
      await setFaults(sim, { userStreamSilent: 'false' });
      expect(booked.map((e) => [e.tradeId, e.exchangeOrderId, e.realizedPnlUsd, e.feeUsd])).toEqual(
        trades.map((t) => [String(t.id), manualOrderId, toUsd(t.realizedPnl), abs(toUsd(t.commission))]),
      );

      // Every commission the exchange charged is booked once, ours and the stranger's alike.
      const income = (await api.signed('GET', '/fapi/v1/income', { incomeType: 'COMMISSION', limit: '1000' })).body as { income: string }[];
      const charged = neg(income.reduce<Usd>((sum, r) => add(sum, toUsd(r.income)), zero));
      await waitFor('every fee booked', () => eq(h.service.engine.current.durable.sessions.get(userId)?.feesUsd ?? zero, charged), 15_000);
    } finally {
      await h.close();
      await sim.close();
    }
  });
});
