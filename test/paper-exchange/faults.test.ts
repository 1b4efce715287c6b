import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, errorCode, field, type ApiClient } from './helpers.js';

let sim: SimulatorHandle;
let api: ApiClient;
let accountKey: string;
let seq = 0;

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 11 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  accountKey = `fault-key-${++seq}`;
  api = apiClient(sim.restBaseUrl, accountKey);
  Object.assign(sim.faults, { latencyMs: 0, timeoutAfterAcceptCount: 0, http5xxCount: 0, rateLimit429Count: 0, rejectMarketOrders: false });
});

const marketBuy = (clientOrderId: string) => ({
  symbol: 'SOLUSDT',
  side: 'BUY',
  type: 'MARKET',
  quantity: '1',
  newClientOrderId: clientOrderId,
});

describe('fault injection', () => {
  it('latencyMs delays every response by at least that long (server-side timestamps)', async () => {
    sim.faults.latencyMs = 120;
    const res = await api.signed('POST', '/fapi/v1/order', marketBuy('lat-1'));
    expect(res.status).toBe(200);
    const record = sim.orders().find((o) => o.accountKey === accountKey && o.clientOrderId === 'lat-1');
    expect(record?.respondedAt).toBeDefined();
    expect((record?.respondedAt ?? 0) - (record?.receivedAt ?? 0)).toBeGreaterThanOrEqual(120);

    sim.faults.latencyMs = 0;
    await api.signed('POST', '/fapi/v1/order', marketBuy('lat-2'));
    const fast = sim.orders().find((o) => o.accountKey === accountKey && o.clientOrderId === 'lat-2');
    expect((fast?.respondedAt ?? Infinity) - (fast?.receivedAt ?? 0)).toBeLessThan(120);
  });

  it('rejectMarketOrders refuses every MARKET order with -4131 and leaves limit orders alone', async () => {
    sim.faults.rejectMarketOrders = true;
    const refused = await api.signed('POST', '/fapi/v1/order', marketBuy('mkt-refused'));
    expect(refused.status).toBe(400);
    expect(errorCode(refused)).toBe(-4131);
    expect(sim.orders().some((o) => o.clientOrderId === 'mkt-refused')).toBe(false);
    sim.faults.rejectMarketOrders = false;
    expect((await api.signed('POST', '/fapi/v1/order', marketBuy('mkt-ok'))).status).toBe(200);
  });

  it('timeoutAfterAccept executes the order but kills the socket; the order is then queryable', async () => {
    sim.faults.timeoutAfterAcceptCount = 1;
    await expect(api.signed('POST', '/fapi/v1/order', marketBuy('lost-1'))).rejects.toThrow();
    expect(sim.faults.timeoutAfterAcceptCount).toBe(0);
    const record = sim.orders().find((o) => o.accountKey === accountKey && o.clientOrderId === 'lost-1');
    expect(record).toMatchObject({ status: 'FILLED', executedQty: '1.00' });
    expect(record?.respondedAt).toBeUndefined();

    const q = await api.signed('GET', '/fapi/v1/order', { symbol: 'SOLUSDT', origClientOrderId: 'lost-1' });
    expect(q.status).toBe(200);
    expect(q.body).toMatchObject({ clientOrderId: 'lost-1', status: 'FILLED' });
    expect(sim.position(accountKey, 'SOLUSDT')).toBe(1);
    // Client ids are unique among open orders only: a blind retry of a filled order executes again, which is
    // why a client must query an ambiguous order by id instead of re-sending it.
    expect((await api.signed('POST', '/fapi/v1/order', marketBuy('lost-1'))).status).toBe(200);
    expect(sim.position(accountKey, 'SOLUSDT')).toBe(2);
    // One account's orders, as the bench polls them for flattens: what the list of every order has of it.
    expect(sim.ordersOf(accountKey).map((o) => o.clientOrderId)).toEqual(['lost-1', 'lost-1']);
    expect(sim.ordersOf(accountKey)).toEqual(sim.orders().filter((o) => o.accountKey === accountKey));
    expect(sim.ordersOf('fault-key-never-seen')).toEqual([]);
  });

  it('http5xxCount answers 503 without doing anything, then recovers', async () => {
    sim.faults.http5xxCount = 2;
    const first = await api.signed('POST', '/fapi/v1/order', marketBuy('five-1'));
    expect(first.status).toBe(503);
    const second = await api.signed('GET', '/fapi/v1/order', { symbol: 'SOLUSDT', origClientOrderId: 'five-1' });
    expect(second.status).toBe(503);
    const third = await api.signed('GET', '/fapi/v1/order', { symbol: 'SOLUSDT', origClientOrderId: 'five-1' });
    expect(errorCode(third)).toBe(-2013);
    expect(sim.orders().filter((o) => o.accountKey === accountKey)).toEqual([]);
    expect(sim.position(accountKey, 'SOLUSDT')).toBe(0);
  });

  it('rateLimit429Count answers 429 -1003 with Retry-After and executes nothing', async () => {
    sim.faults.rateLimit429Count = 1;
    const limited = await api.signed('POST', '/fapi/v1/order', marketBuy('rl-1'));
    expect(limited.status).toBe(429);
    expect(errorCode(limited)).toBe(-1003);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(sim.orders().filter((o) => o.accountKey === accountKey)).toEqual([]);
    const ok = await api.signed('POST', '/fapi/v1/order', marketBuy('rl-1'));
    expect(ok.status).toBe(200);
    expect(field(ok, 'clientOrderId')).toBe('rl-1');
  });

  it('requests() logs every REST call with method, path, arrival time, weight and status', async () => {
    const before = sim.requests().length;
    const t0 = Date.now();
    await api.publicGet('/fapi/v1/ping');
    const log = sim.requests().slice(before);
    expect(log).toEqual([{ method: 'GET', path: '/fapi/v1/ping', receivedAt: expect.any(Number) as number, weight: 1, status: 200 }]);
    expect(log[0]?.receivedAt).toBeGreaterThanOrEqual(t0);
  });
});
