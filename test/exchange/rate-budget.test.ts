import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { RateBudget } from '../../src/exchange/rate-budget.js';
import { defaultRateBudgetLimits, memoryRateBudget, redisRateBudget } from '../../src/exchange/rate-budget.js';
import { localRateBudgetCode } from '../../src/engine/effect-executor.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { executorOn } from '../support/executor.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';

const t0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function budgetRules(name: string, make: () => Promise<RateBudget>): void {
  describe(`rate budget (${name})`, () => {
    it('pauses entries after a back-off, never risk-reducing orders', async () => {
      const budget = await make();
      await budget.recordBackoff(10_000, t0);
      expect((await budget.admit('normal', t0 + 9_999)).ok).toBe(false);
      expect((await budget.admit('priority', t0 + 9_999)).ok).toBe(true);
      expect((await budget.admit('normal', t0 + 10_000)).ok).toBe(true);
      await budget.close();
    });

    it('keeps the last part of the weight limit for risk-reducing orders, and resets each minute', async () => {
      const budget = await make();
      const limit = defaultRateBudgetLimits.weightPerMinute - defaultRateBudgetLimits.reservedForRiskReducingWeight;
      await budget.recordUsedWeight(limit, t0);
      const refused = await budget.admit('normal', t0 + 1);
      expect(refused.ok).toBe(false);
      expect(refused.ok === false && refused.reason).toMatch(/kept for risk-reducing/);
      expect((await budget.admit('priority', t0 + 1)).ok).toBe(true);
      expect((await budget.admit('normal', t0 + 60_000)).ok).toBe(true);
      await budget.close();
    });
  });
}

budgetRules('memory', () => Promise.resolve(memoryRateBudget()));

describe('rate budget shared through Redis', () => {
  const prefix = uniquePrefix('budget');
  afterAll(async () => {
    await deletePrefix(prefix);
  });
  budgetRules('redis', () => redisRateBudget({ url: redisUrl, prefix, scope: `s${Math.random()}` }));

  it('is one budget for every process using the same scope', async () => {
    const a = await redisRateBudget({ url: redisUrl, prefix, scope: 'shared-ip' });
    const b = await redisRateBudget({ url: redisUrl, prefix, scope: 'shared-ip' });
    await a.recordBackoff(5_000, t0);
    expect((await b.admit('normal', t0 + 1)).ok).toBe(false);
    await a.close();
    await b.close();
  });
});

describe('executor with the budget, against the simulator', () => {
  let sim: SimulatorHandle;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 4, priceStepMs: 50 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('after a 429, holds entries back locally but still sends a flatten', async () => {
    const connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 2_000 });
    const account = connector.account({ apiKey: 'budget-user', apiSecret: 's' });
    const { executor, results } = executorOn(account);
    const order = (id: string, reduceOnly: boolean) => ({
      clientOrderId: id,
      symbol: 'SOLUSDT',
      side: reduceOnly ? ('SELL' as const) : ('BUY' as const),
      type: 'MARKET' as const,
      quantity: '1.00',
      reduceOnly,
    });

    await account.queryOrder('SOLUSDT', 'warm-up'); // first call syncs the clock; the 429 is for the order
    sim.faults.rateLimit429Count = 1;
    executor.submit({ kind: 'place', userId: 'u', lane: 'normal', order: order('b-1', false), notAfterMs: Date.now() + 60_000 });
    await executor.idle();
    expect(results[0]).toMatchObject({ kind: 'place_result', outcome: { kind: 'rejected', code: -1003 } });

    const requestsBefore = sim.requests().filter((r) => r.path === '/fapi/v1/order').length;
    executor.submit({ kind: 'place', userId: 'u', lane: 'normal', order: order('b-2', false), notAfterMs: Date.now() + 60_000 });
    await executor.idle();
    expect(results[1]).toMatchObject({ kind: 'place_result', outcome: { kind: 'rejected', code: localRateBudgetCode } });
    expect(sim.requests().filter((r) => r.path === '/fapi/v1/order').length).toBe(requestsBefore);

    // A risk-reducing order goes out regardless (here it finds nothing to reduce, which is the exchange's say).
    executor.submit({ kind: 'place', userId: 'u', lane: 'priority', order: order('b-3', true), notAfterMs: Date.now() + 60_000 });
    await executor.idle();
    expect(sim.requests().filter((r) => r.path === '/fapi/v1/order').length).toBe(requestsBefore + 1);
    expect(results[2]).toMatchObject({ kind: 'place_result', outcome: { kind: 'rejected', code: -2022 } });
  });
});
