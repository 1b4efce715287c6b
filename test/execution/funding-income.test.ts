import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { add, eq, toUsd, zero } from '../../src/model/decimal.js';
import type { Usd } from '../../src/model/decimal.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startHarness } from '../support/harness.js';
import type { Harness } from '../support/harness.js';
import { apiClient } from '../paper-exchange/helpers.js';
import { waitFor } from '../support/wait.js';

// Funding is booked from the exchange's income history (GET /fapi/v1/income, incomeType FUNDING_FEE), once per
// tranId: a payment whose user-stream push was lost (the stream deaf while funding is paid) is booked when the
// gap is noticed, and one whose push arrives is booked by the read the push asks for, never twice.

type Funding = Extract<WalEvent, { type: 'funding' }>;
interface IncomeEntry {
  incomeType: string;
  income: string;
  tranId: number;
}
const hour = 60 * 60_000;

async function fundingBooked(h: Harness, userId: string): Promise<Funding[]> {
  return (await h.log.readWal(null, 100_000))
    .map((r) => JSON.parse(r.data) as WalEvent)
    .filter((e): e is Funding => e.type === 'funding' && e.userId === userId);
}

/** The simulator's control API (not a Binance endpoint). */
async function control(sim: SimulatorHandle, path: string, params: Record<string, string>): Promise<void> {
  const res = await fetch(`${sim.restBaseUrl}${path}?${new URLSearchParams(params).toString()}`, { method: 'POST' });
  expect(res.status).toBe(200);
}

const total = (entries: readonly IncomeEntry[]): Usd => entries.reduce<Usd>((sum, r) => add(sum, toUsd(r.income)), zero);

describe('funding from the income history', () => {
  it('books a payment whose push was lost once the gap is noticed, and every later one once, by tranId', async () => {
    const sim = await startSimulator({ port: 0, seed: 23, priceStepMs: 50 });
    const h = await startHarness({
      label: 'funding-income',
      sim,
      connector: { listenKeyKeepaliveIntervalMs: hour, userStreamSilenceProbeMs: hour, userStreamEchoTimeoutMs: 1_000 },
    });
    try {
      const userId = 'funded';
      const key = paperCredentials(userId).apiKey;
      const api = apiClient(sim.restBaseUrl, key);
      const fundingHistory = async (): Promise<IncomeEntry[]> =>
        (await api.signed('GET', '/fapi/v1/income', { incomeType: 'FUNDING_FEE', limit: '1000' })).body as IncomeEntry[];
      await h.reply(await h.send({ id: 'fi-start', userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
      await control(sim, '/sim/v1/faults', { forcePostOnlyReject: 'true' }); // a taker entry: filled at once
      await h.send({ id: 'fi-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.2 }] });
      await waitFor('a long', () => sim.position(key, 'BTCUSDT') > 0);
      await control(sim, '/sim/v1/faults', { forcePostOnlyReject: 'false' });

      // Deaf stream: funding is paid, and its pushes are lost.
      await control(sim, '/sim/v1/faults', { userStreamSilent: 'true' });
      await control(sim, '/sim/v1/funding', { rateBps: '5', intervalMs: '300' });
      await waitFor('funding paid on the exchange', async () => (await fundingHistory()).length >= 2);
      await control(sim, '/sim/v1/funding', { rateBps: '0' });
      const paidWhileDeaf = (await fundingHistory()).filter((r) => !eq(toUsd(r.income), zero));
      expect(await fundingBooked(h, userId)).toEqual([]); // nothing told the engine yet

      // An order of ours the stream does not echo proves it deaf: the gap is reported and the history read.
      await h.send({ id: 'fi-route-2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.3 }] });
      const afterGap = await waitFor(
        'the lost payments booked from the income history',
        async () => {
          const booked = await fundingBooked(h, userId);
          return booked.length >= paidWhileDeaf.length ? booked : undefined;
        },
        15_000,
      );
      expect(afterGap.map((e) => e.exchangeId)).toEqual(paidWhileDeaf.map((r) => `income:${r.tranId}`));
      expect(afterGap.map((e) => e.amountUsd)).toEqual(paidWhileDeaf.map((r) => toUsd(r.income)));

      await control(sim, '/sim/v1/faults', { userStreamSilent: 'false' });

      // The stream delivers again: the next payment's push asks for the history, which books that one only.
      await control(sim, '/sim/v1/funding', { rateBps: '5', intervalMs: '300' });
      await waitFor('another payment', async () => (await fundingHistory()).length > paidWhileDeaf.length);
      await control(sim, '/sim/v1/funding', { rateBps: '0' });
      const paid = (await fundingHistory()).filter((r) => !eq(toUsd(r.income), zero));
      const booked = await waitFor('every payment booked', async () => {
        const all = await fundingBooked(h, userId);
        return all.length === paid.length ? all : undefined;
      });
      expect(new Set(booked.map((e) => e.exchangeId)).size).toBe(booked.length);
      expect(booked.map((e) => e.exchangeId)).toEqual(paid.map((r) => `income:${r.tranId}`));
      expect(eq(h.service.engine.current.durable.sessions[userId]?.fundingUsd ?? zero, total(paid))).toBe(true);
    } finally {
      await h.close();
      await sim.close();
    }
  });
});
