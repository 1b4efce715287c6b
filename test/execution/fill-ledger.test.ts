import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LedgerView } from '../../src/contract/ledger.js';
import { ledgerCsvColumns } from '../../src/contract/ledger.js';
import type { WalEvent } from '../../src/core/events.js';
import { sessionIdOf } from '../../src/core/ledger.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { add, neg, sub, sum, toUsd } from '../../src/model/decimal.js';
import { defaultSimSymbols, startSimulator } from '../../src/paper-exchange/server.js';
import { runCliAction } from '../../src/services/cli/run-cli.js';
import type { TradesResponse } from '../../src/services/dashboard/api-types.js';
import { startOutboundFollower } from '../../src/services/dashboard/follower.js';
import { createDashboardMetrics } from '../../src/services/dashboard/metrics.js';
import { createDashboardApp } from '../../src/services/dashboard/server.js';
import { silentLogger } from '../../src/util/logger.js';
import { apiClient } from '../paper-exchange/helpers.js';
import { startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// Issue 10: the fill ledger. A session trades on the paper exchange (a taker entry, funding, a flatten) while the
// engine snapshots every few WAL events, so the WAL loses the early fills; the ledger still lists every fill, fee
// and funding payment with the exchange's exact decimals, sums to the session's realized − fees + funding, and
// reads back through `cli trades --csv` and GET /api/trades. Both log adapters.

/** Small: the engine snapshots (and trims the WAL) many times during the session. */
const snapshotEveryWalEvents = 5;

describe.each(['redis', 'sqlite'] as const)('the fill ledger (%s log)', (kind) => {
  it('keeps every fill, fee and funding payment after snapshots trim the WAL; CLI and API export them exactly', async () => {
    const symbols = defaultSimSymbols.map((s) => ({ ...s, volatilityBpsPerStep: 0 }));
    const sim = await startSimulator({ port: 0, seed: 23, priceStepMs: 50, symbols });
    const dir = mkdtempSync(join(tmpdir(), 'qe-ledger-'));
    const h = await startHarness({
      label: `ledger-${kind}`,
      sim,
      engineLimits: { snapshotEveryWalEvents, replayBatchEntries: 1_000 },
      ...(kind === 'sqlite' ? { sqlitePath: join(dir, 'log.db') } : {}),
    });
    // Every WAL event the engine commits, as it commits it (the WAL itself is trimmed by the snapshots).
    const committed: WalEvent[] = [];
    h.service.engine.observe((_input, decision) => committed.push(...decision.wal));
    try {
      const userId = 'ledger-user';
      const key = paperCredentials(userId).apiKey;
      await h.reply(await h.send({ id: `lg-start-${kind}`, userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000 }), 'done');
      sim.faults.forcePostOnlyReject = true; // the entry takes at once (IOC fallback), with a taker fee
      await h.send({ id: `lg-route-${kind}`, userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
      await waitFor('a long', () => sim.position(key, 'BTCUSDT') > 0);
      sim.faults.forcePostOnlyReject = false;
      sim.setFunding({ rateBps: 5, intervalMs: 150 });
      await waitFor('two funding payments booked', () => committed.filter((e) => e.type === 'funding').length >= 2);
      sim.setFunding({ rateBps: 0 });
      await h.reply(await h.send({ id: `lg-stop-${kind}`, userId, type: 'session.stop' }), 'done');
      await waitFor('flat on the exchange', () => sim.position(key, 'BTCUSDT') === 0);

      const income = async (type: string): Promise<string[]> =>
        ((await apiClient(sim.restBaseUrl, key).signed('GET', '/fapi/v1/income', { incomeType: type, limit: '1000' })).body as { income: string }[]).map(
          (r) => r.income,
        ); // oldest first
      const exchangeFees = (await income('COMMISSION')).map((i) => neg(toUsd(i)));
      expect(exchangeFees.length).toBeGreaterThanOrEqual(2); // the entry's and the flatten's
      await waitFor('every trade fee booked', () => committed.filter((e) => e.type === 'fee').length === exchangeFees.length);
      await h.service.engine.drain();

      // The snapshots trimmed the WAL: the entry's fill is no longer there.
      expect(await h.log.loadSnapshot()).not.toBeNull();
      const walLeft = (await h.log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent);
      const fills = committed.filter((e): e is Extract<WalEvent, { type: 'fill' }> => e.type === 'fill');
      expect(fills.length).toBeGreaterThanOrEqual(2); // the entry and the flatten
      expect(walLeft.filter((e) => e.type === 'fill').length).toBeLessThan(fills.length);

      // The ledger, read through the CLI as CSV.
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCliAction({ kind: 'trades', userId, csv: true, last: null }, h.log, { out: (l) => out.push(l), err: (l) => err.push(l) }, 1_000);
      expect({ code, err }).toEqual({ code: 0, err: [] });
      expect(out[0]).toBe(ledgerCsvColumns.join(','));
      const rows = out.slice(1).map((line) => Object.fromEntries(line.split(',').map((v, i) => [ledgerCsvColumns[i], v])));
      const byKind = (k: string): Record<string, string>[] => rows.filter((r) => r.kind === k);
      // Every fill of our orders, with its exact quantity and price.
      expect(byKind('fill').map((r) => [r.clientOrderId, r.side, r.qty, r.price])).toEqual(fills.map((f) => [f.clientOrderId, f.side, f.qty, f.price]));
      // Every commission and funding payment, to the digit the exchange reported.
      expect(byKind('fee').map((r) => r.feeUsd)).toEqual(exchangeFees);
      const exchangeFunding = await income('FUNDING_FEE');
      const funding = committed.filter((e): e is Extract<WalEvent, { type: 'funding' }> => e.type === 'funding');
      expect(byKind('funding').map((r) => r.fundingUsd)).toEqual(funding.map((f) => f.amountUsd));
      expect(byKind('funding').map((r) => r.fundingUsd)).toEqual(exchangeFunding.map((i) => toUsd(i)).slice(0, funding.length));

      // Every dollar explained: the ledger sums to what the session booked.
      const session = h.service.engine.current.durable.sessions.get(userId);
      if (!session) throw new Error('no session');
      expect(new Set(rows.map((r) => r.sessionId))).toEqual(new Set([sessionIdOf(session)]));
      const booked = add(sub(session.realizedPnlUsd, session.feesUsd), session.fundingUsd);
      expect(sum(rows.map((r) => toUsd(r.netUsd ?? '')))).toBe(booked);
      expect(sum(rows.map((r) => toUsd(r.feeUsd ?? '')))).toBe(session.feesUsd);

      // GET /api/trades, walked one entry per page: the same entries.
      const follower = startOutboundFollower([h.log], silentLogger(), { batchEntries: 100, blockMs: 50, idleMs: 5, retryMs: 50 });
      const metrics = createDashboardMetrics([h.log]);
      try {
        const app = createDashboardApp({ log: h.log, follower, metrics, token: 'secret', adminUserId: 'root', logger: silentLogger() });
        expect((await app.request(`http://127.0.0.1/api/trades?user=${userId}`)).status).toBe(401);
        const get = async (query: string): Promise<TradesResponse> => {
          const res = await app.request(`http://127.0.0.1/api/trades?${query}`, { headers: { authorization: 'Bearer secret' } });
          expect(res.status).toBe(200);
          return (await res.json()) as TradesResponse;
        };
        const viaApi: LedgerView[] = [];
        for (let after: string | null = null, pages = 0; pages < 100; pages += 1) {
          const page: TradesResponse = await get(`user=${userId}&limit=1${after === null ? '' : `&after=${after}`}`);
          expect(page.unreadable).toEqual([]);
          viaApi.push(...page.trades);
          if (page.nextAfter === null) break;
          after = page.nextAfter;
        }
        expect(viaApi.map((t) => [t.seq, t.kind, t.qty ?? '', t.price ?? '', t.feeUsd, t.realizedPnlUsd, t.fundingUsd])).toEqual(
          rows.map((r) => [r.seq, r.kind, r.qty, r.price, r.feeUsd, r.realizedPnlUsd, r.fundingUsd]),
        );
        expect((await get(`session=${encodeURIComponent(sessionIdOf(session))}`)).trades.length).toBe(rows.length);
        expect((await get('user=nobody')).trades).toEqual([]);
      } finally {
        metrics.close();
        await follower.stop();
      }
    } finally {
      await h.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
