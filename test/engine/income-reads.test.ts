import { describe, expect, it } from 'vitest';
import { executorOn } from '../support/executor.js';
import { usePaperExchange } from '../support/paper-exchange.js';

// Funding pushes of several symbols arrive together and each asks for the income history: a read still queued
// stands in for the next ones (it is sent later and sees as much), but one already sent does not (it may have been
// answered before the newest payment).

describe('income history reads', () => {
  const paperExchange = usePaperExchange(9);

  it('a read already queued absorbs the same read; one in flight does not', async () => {
    const { sim, connector } = paperExchange();
    const account = connector.account({ apiKey: 'income-reader', apiSecret: 's' });
    const { executor, results } = executorOn(account, { limits: { normalConcurrencyPerAccount: 1 } });
    await account.queryOrder('SOLUSDT', 'warm-up'); // the first call syncs the clock
    const fromMs = Date.now();
    const read = { kind: 'read_income' as const, userId: 'u', lane: 'normal' as const, incomeType: 'FUNDING_FEE', startTimeMs: 0, askedAtMs: 0 };
    sim.faults.latencyMs = 300;
    executor.submit(read); // sent at once
    while (!sim.requests().some((r) => r.path === '/fapi/v1/income' && r.receivedAt >= fromMs)) await new Promise((r) => setTimeout(r, 10));
    executor.submit(read); // queued behind it
    executor.submit(read); // absorbed by the queued one
    await executor.idle();
    sim.faults.latencyMs = 0;
    expect(sim.requests().filter((r) => r.path === '/fapi/v1/income' && r.receivedAt >= fromMs)).toHaveLength(2);
    expect(results.map((r) => r.kind)).toEqual(['income_listed', 'income_listed']);
    await account.close();
  });
});
