import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, errorCode, field, type ApiClient } from './helpers.js';

// Issue 16 item 2: every conditional type a standard client sends, and the algo queries.
type Rec = Record<string, unknown>;
let sim: SimulatorHandle;
let api: ApiClient;
beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 17 });
  sim.pausePriceProcess(true);
  sim.setMid('BTCUSDT', 60_000);
  api = apiClient(sim.restBaseUrl, 'algo-types');
});
afterAll(async () => {
  await sim.close();
});

const place = (params: Record<string, string>) => api.signed('POST', '/fapi/v1/algoOrder', { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', ...params });
const algo = async (clientAlgoId: string): Promise<Rec> => (await api.signed('GET', '/fapi/v1/algoOrder', { clientAlgoId })).body as Rec;

describe('conditional orders', () => {
  it('exchangeInfo lists the conditional order types', async () => {
    const info = (await api.publicGet('/fapi/v1/exchangeInfo')).body as { symbols: { orderTypes: string[] }[] };
    expect(info.symbols[0]?.orderTypes).toEqual(expect.arrayContaining(['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET']));
  });

  it('TAKE_PROFIT_MARKET fires when the price moves for the position, not against it; -2021 when already there', async () => {
    expect(errorCode(await place({ side: 'SELL', type: 'TAKE_PROFIT_MARKET', triggerPrice: '59000.0', closePosition: 'true' }))).toBe(-2021);
    await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010' });
    expect((await place({ side: 'SELL', type: 'TAKE_PROFIT_MARKET', triggerPrice: '61000.0', closePosition: 'true', clientAlgoId: 'tp-1' })).status).toBe(200);
    sim.setMid('BTCUSDT', 59_000); // against: a take-profit stays
    expect(await algo('tp-1')).toMatchObject({ algoStatus: 'NEW', orderType: 'TAKE_PROFIT_MARKET' });
    sim.setMid('BTCUSDT', 61_500);
    expect(await algo('tp-1')).toMatchObject({ algoStatus: 'FINISHED' });
    expect(sim.position('algo-types', 'BTCUSDT')).toBe(0);
  });

  it('STOP places a limit order at its price when triggered; FINISHED once that order is done', async () => {
    // The limit sits above the market when the stop fires (a sell limit below it would fill at once).
    sim.setMid('BTCUSDT', 60_000);
    await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010' });
    const res = await place({
      side: 'SELL',
      type: 'STOP',
      triggerPrice: '59000.0',
      price: '59500.0',
      quantity: '0.010',
      reduceOnly: 'true',
      clientAlgoId: 'stop-1',
    });
    expect(res.status).toBe(200);
    expect(field(res, 'price')).toBe('59500.00');
    sim.setMid('BTCUSDT', 58_900);
    const triggered = await algo('stop-1');
    expect(triggered).toMatchObject({ algoStatus: 'TRIGGERED' });
    const resting = (await api.signed('GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(triggered.actualOrderId) })).body as Rec;
    expect(resting).toMatchObject({ type: 'LIMIT', price: '59500.00', status: 'NEW', reduceOnly: true });
    sim.setMid('BTCUSDT', 59_600); // trades through the limit price
    expect(await algo('stop-1')).toMatchObject({ algoStatus: 'FINISHED' });
    expect(sim.position('algo-types', 'BTCUSDT')).toBe(0);
  });

  it('TAKE_PROFIT (limit) validates its price; TRAILING_STOP_MARKET is refused', async () => {
    expect(errorCode(await place({ side: 'SELL', type: 'TAKE_PROFIT', triggerPrice: '65000.0', quantity: '0.010' }))).toBe(-1102);
    expect(errorCode(await place({ side: 'SELL', type: 'TAKE_PROFIT', triggerPrice: '65000.0', price: '65000.0', closePosition: 'true' }))).toBe(-1130);
    expect(errorCode(await place({ side: 'SELL', type: 'TRAILING_STOP_MARKET', quantity: '0.010', callbackRate: '1' }))).toBe(-1130);
  });

  it('allAlgoOrders lists a symbol history; algoOpenOrders cancels every open one; algoOrder answers -2013 for none', async () => {
    sim.setMid('BTCUSDT', 57_900);
    for (const id of ['open-1', 'open-2']) await place({ side: 'BUY', type: 'STOP_MARKET', triggerPrice: '70000.0', quantity: '0.010', clientAlgoId: id });
    expect(((await api.signed('GET', '/fapi/v1/openAlgoOrders', { symbol: 'BTCUSDT' })).body as Rec[]).length).toBe(2);
    const cancel = await api.signed('DELETE', '/fapi/v1/algoOpenOrders', { symbol: 'BTCUSDT' });
    expect(cancel.body).toEqual({ code: 200, msg: 'The operation of cancel all open order is done.' });
    expect((await api.signed('GET', '/fapi/v1/openAlgoOrders', { symbol: 'BTCUSDT' })).body).toEqual([]);
    const all = (await api.signed('GET', '/fapi/v1/allAlgoOrders', { symbol: 'BTCUSDT' })).body as Rec[];
    expect(all.map((o) => [o.clientAlgoId, o.algoStatus])).toEqual([
      ['tp-1', 'FINISHED'],
      ['stop-1', 'FINISHED'],
      ['open-1', 'CANCELED'],
      ['open-2', 'CANCELED'],
    ]);
    expect(((await api.signed('GET', '/fapi/v1/allAlgoOrders', { symbol: 'BTCUSDT', limit: '1' })).body as Rec[]).map((o) => o.clientAlgoId)).toEqual([
      'open-2',
    ]);
    expect(errorCode(await api.signed('GET', '/fapi/v1/algoOrder', { algoId: '1' }))).toBe(-2013);
  });
});
