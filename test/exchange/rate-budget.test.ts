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

    // X-MBX-USED-WEIGHT-1M is the count of the minute in which the exchange counted the request. An answer that
    // left in a full minute and is read after the minute turned must not make the new minute look full.
    it('books a used-weight header only into the minute its request was sent in, never into the next one', async () => {
      const budget = await make();
      const lateSentAt = t0 + 59_800; // a request sent at the end of a full minute ...
      const readAt = t0 + 60_200; // ... whose answer (2 390 weight) is read just after the minute turned
      await budget.recordHeaders('acct', { usedWeight1m: 2_390 }, readAt, lateSentAt);
      expect((await budget.admit('normal', t0 + 60_300, { weight: 5, orders: 0 })).ok).toBe(true);
      await budget.close();
    });

    it('still takes a header of a request sent and answered in the current minute, and never lowers our own count', async () => {
      const budget = await make();
      const normalCap = defaultRateBudgetLimits.weightPerMinute - defaultRateBudgetLimits.reservedForRiskReducingWeight;
      // The exchange knows of more than we do (another process on the IP): its count holds.
      await budget.recordHeaders('acct', { usedWeight1m: normalCap - 3 }, t0 + 1_200, t0 + 1_000);
      expect((await budget.admit('normal', t0 + 1_300, { weight: 5, orders: 0 })).ok).toBe(false);
      // An answer to an older request of this minute says less than we admitted since: ours holds.
      const other = await make();
      expect((await other.admit('normal', t0 + 2_000, { weight: normalCap - 3, orders: 0 })).ok).toBe(true);
      await other.recordHeaders('acct', { usedWeight1m: 10 }, t0 + 2_100, t0 + 2_000);
      expect((await other.admit('normal', t0 + 2_200, { weight: 5, orders: 0 })).ok).toBe(false);
      await budget.close();
      await other.close();
    });

    it('books order-count headers only into the 10 s and the minute their request was sent in', async () => {
      const budget = await make();
      const order = { weight: 1, orders: 1, account: 'acct' };
      // An order answered at the end of a full 10 s window (count 290), read in the next window of the same minute.
      await budget.recordHeaders('acct', { orderCount10s: 290, orderCount1m: 290 }, t0 + 20_100, t0 + 19_900);
      expect((await budget.admit('normal', t0 + 20_200, order)).ok).toBe(true);
      // The minute's count is placed: the request was sent in this minute, so its 290 hold for the minute.
      await budget.recordHeaders('acct', { orderCount1m: 1_000 }, t0 + 20_300, t0 + 20_250);
      expect((await budget.admit('normal', t0 + 20_400, order)).ok).toBe(false);
      // After the minute turns, a late answer of the old minute carries nothing over.
      await budget.recordHeaders('acct', { orderCount10s: 299, orderCount1m: 1_199 }, t0 + 60_100, t0 + 59_950);
      expect((await budget.admit('normal', t0 + 60_200, order)).ok).toBe(true);
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

  it('a header written by one process never lowers the count another process admitted meanwhile', async () => {
    const scope = `race-${Math.random()}`;
    const limits = { ...defaultRateBudgetLimits, weightPerMinute: 10_000, reservedForRiskReducingWeight: 0 };
    const a = await redisRateBudget({ url: redisUrl, prefix, scope, limits });
    const b = await redisRateBudget({ url: redisUrl, prefix, scope, limits });
    const at = t0 + 1_000;
    // The minute's first admission starts the count (and is not what this test races).
    expect((await b.admit('normal', at, { weight: 1, orders: 0 })).ok).toBe(true);
    const admits = 200;
    // Old answers of this minute (count 1) arrive while the other process admits 200 more.
    const results = await Promise.all([
      ...Array.from({ length: admits }, () => b.admit('normal', at, { weight: 1, orders: 0 })),
      ...Array.from({ length: admits }, () => a.recordHeaders('acct', { usedWeight1m: 1 }, at, at)),
    ]);
    expect(results.filter((r) => r !== undefined && r.ok).length).toBe(admits);
    const admitted = 1 + admits;
    // Had a header overwritten the count, more than the limit minus what we admitted would now go through.
    expect((await a.admit('normal', at, { weight: limits.weightPerMinute - admitted + 1, orders: 0 })).ok).toBe(false);
    await a.close();
    await b.close();
  });

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

describe('the adapter tells the budget when each answered request was sent', () => {
  it('passes the send time with every response, so an answer held up past a minute is not booked into the next', async () => {
    const sim = await startSimulator({ port: 0, seed: 5, priceStepMs: 50 });
    try {
      const inner = memoryRateBudget();
      const seen: { usedWeight1m?: number; nowMs: number; sentAtMs?: number }[] = [];
      const budget: RateBudget = {
        ...inner,
        recordHeaders: async (account, headers, nowMs, sentAtMs) => {
          seen.push({ ...headers, nowMs, ...(sentAtMs !== undefined && { sentAtMs }) });
          await inner.recordHeaders(account, headers, nowMs, sentAtMs);
        },
      };
      const connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 2_000, rateBudget: budget });
      const account = connector.account({ apiKey: 'sent-at-user', apiSecret: 's' });
      await account.queryOrder('SOLUSDT', 'warm-up'); // syncs the clock first
      const answerDelayMs = 300;
      sim.faults.latencyByPathMs = { '/fapi/v1/order': answerDelayMs };
      seen.length = 0;
      const before = Date.now();
      expect((await account.queryOrder('SOLUSDT', 'no-such-order')).kind).toBe('not_found'); // an error answer, headers too
      const answer = seen.find((s) => s.usedWeight1m !== undefined);
      expect(answer?.sentAtMs).toBeGreaterThanOrEqual(before);
      expect(answer?.sentAtMs).toBeLessThan(before + answerDelayMs);
      expect(answer!.nowMs - answer!.sentAtMs!).toBeGreaterThanOrEqual(answerDelayMs - 5);
    } finally {
      await sim.close();
    }
  });
});
