import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { add, neg, sum, toUsd } from '../../src/model/decimal.js';
import type { Usd } from '../../src/model/decimal.js';
import { defaultSimSymbols, startSimulator } from '../../src/paper-exchange/server.js';
import type { Harness } from '../support/harness.js';
import { startHarness } from '../support/harness.js';
import { apiClient } from '../paper-exchange/helpers.js';
import { waitFor } from '../support/wait.js';

// Fees and funding count: with the price held still, a long pays commission on entry and funding every
// interval, and that alone takes the session's equity through its stop-loss: kill switch and flatten. The WAL
// holds the exact amounts the exchange reported, and `status` shows realized, fees and funding apart.

async function walEvents(h: Harness): Promise<WalEvent[]> {
  return (await h.log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent);
}

describe('fees and funding', () => {
  it('a stop-loss fires from fees plus funding alone, at a flat price', async () => {
    // A flat price (no volatility; the book is still published every step, so the feed is live): no market move
    // can explain the loss.
    const symbols = defaultSimSymbols.map((s) => ({ ...s, volatilityBpsPerStep: 0 }));
    const sim = await startSimulator({ port: 0, seed: 17, priceStepMs: 50, symbols });
    const h = await startHarness({ label: 'fees-funding', sim });
    try {
      const userId = 'payer';
      const key = paperCredentials(userId).apiKey;
      await h.reply(await h.send({ id: 'ff-start', userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000, stopLossPct: 1 }), 'done');
      sim.faults.forcePostOnlyReject = true; // the entry takes (IOC fallback): a taker fee, filled at once
      await h.send({ id: 'ff-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
      await waitFor('a long', () => sim.position(key, 'BTCUSDT') > 0);
      sim.faults.forcePostOnlyReject = false;
      await waitFor('the entry fee booked', async () => (await walEvents(h)).some((e) => e.type === 'fee'));

      // 50 bps of ~500 USD notional every 200 ms: ~2.5 USD a time against a 10 USD (1 %) loss budget.
      sim.setFunding({ rateBps: 50, intervalMs: 200 });
      await waitFor('the stop-loss kill switch', async () =>
        (await walEvents(h)).some((e) => e.type === 'kill_switch.engaged' && e.userId === userId && e.reason === 'stop_loss'),
      );
      sim.setFunding({ rateBps: 0 });
      await waitFor('flat on the exchange', () => sim.position(key, 'BTCUSDT') === 0);

      // Exactly what the exchange booked (its income history: commission negative, funding signed), once the
      // flatten's own trade has come back on the user stream.
      const income = async (): Promise<{ incomeType: string; income: string }[]> =>
        (await apiClient(sim.restBaseUrl, key).signed('GET', '/fapi/v1/income', { limit: '1000' })).body as { incomeType: string; income: string }[];
      const exchangeFees = (await income()).filter((r) => r.incomeType === 'COMMISSION').map((r) => neg(toUsd(r.income)));
      const feeEvents = async () => (await walEvents(h)).filter((e): e is Extract<WalEvent, { type: 'fee' }> => e.type === 'fee' && e.userId === userId);
      const fees = await waitFor('every trade fee booked', async () => {
        const booked = await feeEvents();
        return booked.length === exchangeFees.length ? booked : undefined;
      });
      expect(fees.map((e) => e.feeUsd)).toEqual(exchangeFees);
      const events = await walEvents(h);
      const funding = events.filter((e): e is Extract<WalEvent, { type: 'funding' }> => e.type === 'funding' && e.userId === userId);
      expect(funding.length).toBeGreaterThanOrEqual(1);
      const exchangeFunding = (await income()).filter((r) => r.incomeType === 'FUNDING_FEE').map((r) => toUsd(r.income));
      expect(funding.map((e) => e.amountUsd)).toEqual(exchangeFunding.slice(0, funding.length));
      expect(funding.every((e) => e.amountUsd.startsWith('-'))).toBe(true); // a long pays at a positive rate

      const status = await h.reply(await h.send({ id: 'ff-status', userId, type: 'status' }), 'done');
      const session = (status.result as { session: Record<string, number> }).session;
      const feesUsd = sum(fees.map((e) => e.feeUsd as Usd));
      const fundingUsd = sum(funding.map((e) => e.amountUsd as Usd));
      expect(session.feesUsd).toBe(Number(feesUsd));
      expect(session.fundingUsd).toBe(Number(fundingUsd));
      // Flat at a still price: the realized loss is the spread and nothing like the 10 USD budget.
      expect(Math.abs(session.realizedPnlUsd ?? NaN)).toBeLessThan(1);
      expect(session.unrealizedPnlUsd).toBe(0);
      expect(session.equityUsd).toBeCloseTo(1_000 + (session.realizedPnlUsd ?? 0) - Number(feesUsd) + Number(fundingUsd), 6);
      // Fees plus funding alone went past the budget.
      expect(Number(add(neg(feesUsd), fundingUsd))).toBeLessThan(-9);
    } finally {
      await h.close();
      await sim.close();
    }
  });
});
