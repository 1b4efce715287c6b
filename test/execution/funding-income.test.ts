import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { add, eq, toUsd, zero } from '../../src/model/decimal.js';
import type { Usd } from '../../src/model/decimal.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startHarness } from '../support/harness.js';
import type { CoreConfig } from '../../src/core/config.js';
import type { Harness } from '../support/harness.js';
import { apiClient } from '../paper-exchange/helpers.js';
import { waitFor } from '../support/wait.js';
import type { LedgerView } from '../../src/contract/ledger.js';
import { parseLedgerRecord } from '../../src/contract/ledger.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

/**
 * A simulator and an engine whose user holds a BTC long, taken at market; the stream's silence is noticed only
 * through an order it does not echo (no keepalive or silence probe within the test).
 */
async function longOnSimulator(label: string, seed: number, userId: string, config: Partial<CoreConfig> = {}) {
  const sim = await startSimulator({ port: 0, seed, priceStepMs: 50 });
  const h = await startHarness({
    label,
    sim,
    connector: { listenKeyKeepaliveIntervalMs: hour, userStreamSilenceProbeMs: hour, userStreamEchoTimeoutMs: 1_000 },
    config,
  });
  const key = paperCredentials(userId).apiKey;
  await h.reply(await h.send({ id: `${label}-start`, userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
  await control(sim, '/sim/v1/faults', { forcePostOnlyReject: 'true' }); // a taker entry: filled at once
  await h.send({ id: `${label}-route`, userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.2 }] });
  await waitFor('a long', () => sim.position(key, 'BTCUSDT') > 0);
  await control(sim, '/sim/v1/faults', { forcePostOnlyReject: 'false' });
  return { sim, h, api: apiClient(sim.restBaseUrl, key) };
}

describe('funding from the income history', () => {
  it('books a payment whose push was lost once the gap is noticed, and every later one once, by tranId', async () => {
    const userId = 'funded';
    const { sim, h, api } = await longOnSimulator('funding-income', 23, userId);
    try {
      const fundingHistory = async (): Promise<IncomeEntry[]> =>
        (await api.signed('GET', '/fapi/v1/income', { incomeType: 'FUNDING_FEE', limit: '1000' })).body as IncomeEntry[];

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
      // The engine's state follows its commit: the WAL can be read a moment before the state is swapped in.
      await waitFor("the session's funding total", () => eq(h.service.engine.current.durable.sessions.get(userId)?.fundingUsd ?? zero, total(paid)));
    } finally {
      await h.close();
      await sim.close();
    }
  });

  it('books more than a page of payments (1 000 a read) by paging the history forward, each once', async () => {
    const userId = 'paged';
    // The simulator funds every millisecond here; the margin a read re-reads must hold fewer payments than the 256
    // ids a session remembers (an hour at Binance's shortest interval holds one a symbol).
    const { sim, h, api } = await longOnSimulator('funding-pages', 29, userId, { fundingLateRecordMarginMs: 20 });
    try {
      // The whole history, paged as the exchange answers it: startTime + limit, forward.
      const fundingHistory = async (): Promise<IncomeEntry[]> => {
        const all = new Map<number, IncomeEntry>();
        for (let from = 0; ;) {
          const page = (await api.signed('GET', '/fapi/v1/income', { incomeType: 'FUNDING_FEE', startTime: String(from), limit: '1000' }))
            .body as (IncomeEntry & { time: number })[];
          if (!Array.isArray(page)) throw new Error(`income history: ${JSON.stringify(page)}`);
          for (const r of page) all.set(r.tranId, r);
          const last = page[page.length - 1];
          if (page.length < 1_000 || !last || last.time === from) return [...all.values()].sort((a, b) => a.tranId - b.tranId);
          from = last.time;
        }
      };
      await control(sim, '/sim/v1/faults', { userStreamSilent: 'true' });
      await control(sim, '/sim/v1/funding', { rateBps: '1', intervalMs: '1' });
      // Looked at once a second, one page a look: a look weighs 30 of the 2 400 a minute this IP (the engine's too) may use.
      const firstPageFull = async (): Promise<boolean> =>
        ((await api.signed('GET', '/fapi/v1/income', { incomeType: 'FUNDING_FEE', startTime: '0', limit: '1000' })).body as unknown[]).length >= 1_000;
      for (let look = 0; look < 30 && !(await firstPageFull()); look += 1) await sleep(1_000);
      await sleep(300); // a few hundred more
      await control(sim, '/sim/v1/funding', { rateBps: '0' });
      const paid = (await fundingHistory()).filter((r) => !eq(toUsd(r.income), zero));
      expect(paid.length).toBeGreaterThan(1_000);

      // The gap is noticed (an order of ours not echoed) and the history read: every page of it.
      await h.send({ id: 'fp-route-2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.3 }] });
      const booked = await waitFor(
        'every payment booked',
        async () => {
          const all = await fundingLedger(h, userId);
          return all.length >= paid.length ? all : undefined;
        },
        20_000,
      );
      await control(sim, '/sim/v1/faults', { userStreamSilent: 'false' });
      expect(booked.map((e) => e.tradeId)).toEqual(paid.map((r) => `income:${r.tranId}`));
      // The engine's state follows its commit: the WAL can be read a moment before the state is swapped in.
      await waitFor("the session's funding total", () => eq(h.service.engine.current.durable.sessions.get(userId)?.fundingUsd ?? zero, total(paid)));
    } finally {
      await h.close();
      await sim.close();
    }
  });
});

/** The funding entries of the fill ledger (a snapshot trims the WAL, never the ledger), oldest first. */
async function fundingLedger(h: Harness, userId: string): Promise<LedgerView[]> {
  const entries: LedgerView[] = [];
  for (let afterId: string | null = null; ;) {
    const page = await h.log.readLedger({ afterId, maxEntries: 1_000, userId });
    for (const record of page.records) {
      const parsed = parseLedgerRecord(record.id, record.walId, record.data);
      if (!parsed.ok) throw new Error(parsed.reason);
      if (parsed.entry.kind === 'funding') entries.push(parsed.entry);
    }
    if (page.nextAfterId === null) return entries;
    afterId = page.nextAfterId;
  }
}
