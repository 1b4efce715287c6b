// The paper exchange's margin model: account configuration endpoints, -2019 on an order the account cannot
// margin, consistent margin figures, and liquidation with an `autoclose-` market order on the user stream.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, errorCode, field, openWs, type ApiClient } from './helpers.js';

let sim: SimulatorHandle;
let keySeq = 0;
let api: ApiClient;

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 11, startingBalanceUsd: 10_000 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  api = apiClient(sim.restBaseUrl, `margin-key-${++keySeq}`);
  sim.pausePriceProcess(true);
  sim.setMid('BTCUSDT', 60_000);
});

const marketOrder = (side: 'BUY' | 'SELL', quantity: string, extra: Record<string, string> = {}) =>
  api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side, type: 'MARKET', quantity, newOrderRespType: 'RESULT', ...extra });

describe('account configuration', () => {
  it('defaults: one-way, single-asset, 20x cross; leverage and margin type change with Binance refusals', async () => {
    expect((await api.signed('GET', '/fapi/v1/positionSide/dual')).body).toEqual({ dualSidePosition: false });
    expect((await api.signed('GET', '/fapi/v1/multiAssetsMargin')).body).toEqual({ multiAssetsMargin: false });
    expect((await api.signed('GET', '/fapi/v1/symbolConfig', { symbol: 'BTCUSDT' })).body).toMatchObject([
      { symbol: 'BTCUSDT', leverage: 20, marginType: 'CROSSED' },
    ]);

    const set = await api.signed('POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: '5' });
    expect(set.body).toMatchObject({ symbol: 'BTCUSDT', leverage: 5 });
    for (const bad of ['0', '-3', '126', '2.5', 'abc']) {
      const res = await api.signed('POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: bad });
      expect(errorCode(res)).toBe(-4028);
    }
    expect(errorCode(await api.signed('POST', '/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'CROSSED' }))).toBe(-4046);
    expect((await api.signed('POST', '/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'ISOLATED' })).status).toBe(200);
    expect((await api.signed('POST', '/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'CROSSED' })).status).toBe(200);

    await marketOrder('BUY', '0.010');
    expect(errorCode(await api.signed('POST', '/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'ISOLATED' }))).toBe(-4048);
    expect(errorCode(await api.signed('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'true' }))).toBe(-4068);
    await marketOrder('SELL', '0.010', { reduceOnly: 'true' });
    expect((await api.signed('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'true' })).status).toBe(200);
    expect((await api.signed('GET', '/fapi/v1/positionSide/dual')).body).toEqual({ dualSidePosition: true });
    // Hedge mode wants a LONG/SHORT position side on every order.
    expect(errorCode(await marketOrder('BUY', '0.010'))).toBe(-4061);

    const brackets = await api.signed('GET', '/fapi/v1/leverageBracket', { symbol: 'BTCUSDT' });
    expect((field(brackets, 'brackets') as unknown[])[0]).toMatchObject({ bracket: 1, initialLeverage: 125, notionalCap: 50_000, maintMarginRatio: 0.004 });
    expect((await api.signed('GET', '/fapi/v1/commissionRate', { symbol: 'BTCUSDT' })).body).toMatchObject({ takerCommissionRate: '0.0005' });
  });
});

describe('margin', () => {
  it('refuses an order beyond the available balance with -2019 and changes nothing (issue 16)', async () => {
    // 10 000 USDT at 20x margins at most ~200 000 of notional: 100 BTC (~6 M) is far beyond it.
    const res = await marketOrder('BUY', '100');
    expect(errorCode(res)).toBe(-2019);
    expect(sim.position(`margin-key-${keySeq}`, 'BTCUSDT')).toBe(0);
    // Within it: 2 BTC = 120 000 notional, 6 000 initial margin.
    expect((await marketOrder('BUY', '2')).status).toBe(200);
    // Adding another 2 BTC needs 6 000 more than the ~4 000 left.
    expect(errorCode(await marketOrder('BUY', '2'))).toBe(-2019);
    // Reducing and reduce-only orders never need margin.
    expect((await marketOrder('SELL', '1')).status).toBe(200);
  });

  it('reports initial and maintenance margin, available balance and liquidation price consistently', async () => {
    await marketOrder('BUY', '1');
    const [risk] = (await api.signed('GET', '/fapi/v3/positionRisk', { symbol: 'BTCUSDT' })).body as Record<string, string>[];
    const account = (await api.signed('GET', '/fapi/v3/account')).body as Record<string, string>;
    const [balance] = (await api.signed('GET', '/fapi/v3/balance')).body as Record<string, string>[];
    const notional = Number(risk?.notional);
    expect(Number(risk?.initialMargin)).toBeCloseTo(notional / 20, 4);
    // 60 000 notional falls in the second bracket: 0.5 % − 50.
    expect(Number(risk?.maintMargin)).toBeCloseTo(notional * 0.005 - 50, 4);
    expect(Number(account.totalMaintMargin)).toBeCloseTo(Number(risk?.maintMargin), 6);
    expect(Number(account.availableBalance)).toBeCloseTo(Number(account.totalMarginBalance) - Number(account.totalInitialMargin), 6);
    expect(balance?.availableBalance).toBe(account.availableBalance);
    // Long 1 BTC on ~10 000 wallet: liquidated near entry − wallet, i.e. about 50 000.
    const lp = Number(risk?.liquidationPrice);
    expect(lp).toBeGreaterThan(49_000);
    expect(lp).toBeLessThan(51_000);
  });

  it('liquidates at the liquidation price with an autoclose- market order on the user stream', async () => {
    const lk = await api.apiKeyCall('POST', '/fapi/v1/listenKey');
    const ws = await openWs(`${sim.wsBaseUrl}/private/ws?listenKey=${String(field(lk, 'listenKey'))}`);
    try {
      await marketOrder('BUY', '1');
      const [risk] = (await api.signed('GET', '/fapi/v3/positionRisk', { symbol: 'BTCUSDT' })).body as Record<string, string>[];
      const lp = Number(risk?.liquidationPrice);
      sim.setMid('BTCUSDT', lp + 50); // just above: nothing happens
      expect(sim.position(`margin-key-${keySeq}`, 'BTCUSDT')).toBe(1);
      sim.setMid('BTCUSDT', lp - 50);
      expect(sim.position(`margin-key-${keySeq}`, 'BTCUSDT')).toBe(0);
      const isAutoclose = (m: unknown): boolean => {
        const o = (m as { e?: string; o?: { c?: string; x?: string } }).o;
        return (m as { e?: string }).e === 'ORDER_TRADE_UPDATE' && o?.x === 'TRADE' && (o.c ?? '').startsWith('autoclose-');
      };
      const update = (await ws.waitFor(isAutoclose)) as { o: Record<string, unknown> };
      expect(update.o).toMatchObject({ S: 'SELL', o: 'MARKET', X: 'FILLED', z: '1.000', R: true });
      expect(Number(update.o.rp)).toBeLessThan(0);
      await ws.waitFor(
        (m) => (m as { e?: string; a?: { P?: { pa?: string }[] } }).e === 'ACCOUNT_UPDATE' && (m as { a: { P: { pa: string }[] } }).a.P[0]?.pa === '0.000',
      );
    } finally {
      ws.close();
    }
  });
});
