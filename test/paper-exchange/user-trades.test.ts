import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { add, eq, neg, toUsd, zero } from '../../src/model/decimal.js';
import type { Usd } from '../../src/model/decimal.js';
import { toAccountTrades } from '../../src/exchange/binance/mapping.js';
import { apiClient, errorCode } from './helpers.js';
import type { ApiClient } from './helpers.js';

// GET /fapi/v1/userTrades as Binance documents it
// (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Account-Trade-List):
// symbol required, weight 5, fromId or a time range (not both), limit ≤ 1000; each trade's commission equals the
// income history's COMMISSION for it.

let sim: SimulatorHandle;
let api: ApiClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 5, priceStepMs: 1_000_000 });
  api = apiClient(sim.restBaseUrl, 'trades-key');
  for (const side of ['BUY', 'SELL', 'BUY']) {
    const res = await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side, type: 'MARKET', quantity: '0.010' });
    expect(res.status).toBe(200);
  }
});
afterAll(async () => {
  await sim.close();
});

describe('GET /fapi/v1/userTrades', () => {
  it('lists the account trades of a symbol, oldest first, weight 5, readable by the adapter', async () => {
    const before = Number((await api.publicGet('/fapi/v1/time')).headers.get('x-mbx-used-weight-1m'));
    const res = await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT' });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('x-mbx-used-weight-1m')) - before).toBe(5);
    const trades = toAccountTrades(res.body);
    expect(trades.length).toBeGreaterThanOrEqual(3);
    expect(trades.map((t) => Number(t.tradeId))).toEqual([...trades.map((t) => Number(t.tradeId))].sort((a, b) => a - b));
    const income = (await api.signed('GET', '/fapi/v1/income', { incomeType: 'COMMISSION', limit: '1000' })).body as { income: string }[];
    const charged = trades.reduce<Usd>((sum, t) => add(sum, toUsd(t.commission)), zero);
    expect(eq(neg(income.reduce<Usd>((sum, r) => add(sum, toUsd(r.income)), zero)), charged)).toBe(true);
    expect((await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'ETHUSDT' })).body).toEqual([]);
  });

  it('reads from a trade id, by order, and limits the page', async () => {
    const all = toAccountTrades((await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT' })).body);
    const second = all[1];
    if (!second) throw new Error('expected two trades');
    const from = toAccountTrades((await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT', fromId: second.tradeId })).body);
    expect(from.map((t) => t.tradeId)).toEqual(all.slice(1).map((t) => t.tradeId));
    const ofOrder = toAccountTrades((await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT', orderId: second.exchangeOrderId })).body);
    expect(ofOrder.every((t) => t.exchangeOrderId === second.exchangeOrderId)).toBe(true);
    expect(toAccountTrades((await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT', limit: '1' })).body)).toHaveLength(1);
  });

  it('refuses what Binance refuses: no symbol, fromId with a time range, a range over 7 days, limit over 1000', async () => {
    expect(errorCode(await api.signed('GET', '/fapi/v1/userTrades', {}))).toBe(-1102);
    const now = Date.now();
    expect(errorCode(await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT', fromId: '1', startTime: String(now) }))).toBe(-1130);
    const eightDays = 8 * 24 * 60 * 60 * 1000;
    expect(errorCode(await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT', startTime: String(now - eightDays), endTime: String(now) }))).toBe(
      -1130,
    );
    expect(errorCode(await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT', limit: '1001' }))).toBe(-1130);
  });
});
