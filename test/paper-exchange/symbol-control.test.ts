import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, errorCode, field } from './helpers.js';

// A listing that changes at run time (POST /sim/v1/symbol): exchangeInfo shows it at once and orders meet it.
// Status as on USDⓈ-M: only TRADING opens positions (-4140 otherwise), CLOSE takes no order (-4141).

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 17 });
});
afterAll(async () => {
  await sim.close();
});

async function control(params: Record<string, string>): Promise<Response> {
  return fetch(`${sim.restBaseUrl}/sim/v1/symbol?${new URLSearchParams(params).toString()}`, { method: 'POST' });
}

describe('symbol control', () => {
  it('a SETTLING symbol refuses opening orders with -4140 and takes reduce-only ones; a CLOSE one refuses all with -4141', async () => {
    const api = apiClient(sim.restBaseUrl, 'status-key');
    const market = (side: string, extra: Record<string, string> = {}) =>
      api.signed('POST', '/fapi/v1/order', { symbol: 'SOLUSDT', side, type: 'MARKET', quantity: '1', ...extra });
    expect((await market('BUY')).status).toBe(200);
    expect((await control({ symbol: 'SOLUSDT', status: 'SETTLING' })).status).toBe(200);
    const info = await api.publicGet('/fapi/v1/exchangeInfo');
    expect((field(info, 'symbols') as { symbol: string; status: string }[]).find((s) => s.symbol === 'SOLUSDT')?.status).toBe('SETTLING');
    expect(errorCode(await market('BUY'))).toBe(-4140);
    expect(errorCode(await market('SELL'))).toBe(-4140); // opening a short is opening too
    const exit = await market('SELL', { quantity: '0.5', reduceOnly: 'true' });
    expect(exit.status).toBe(200);
    await control({ symbol: 'SOLUSDT', status: 'CLOSE' });
    expect(errorCode(await market('SELL', { quantity: '0.5', reduceOnly: 'true' }))).toBe(-4141);
    await control({ symbol: 'SOLUSDT', status: 'TRADING' });
    expect((await market('SELL', { quantity: '0.5', reduceOnly: 'true' })).status).toBe(200);
  });

  it('MIN_NOTIONAL and PERCENT_PRICE changes reach exchangeInfo and the adapter; bad values are refused', async () => {
    expect((await control({ symbol: 'ETHUSDT', minNotional: '1000', multiplierUp: '1.0200', multiplierDown: '0.9800' })).status).toBe(200);
    const filters = await createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl }).marketData().getSymbolFilters(['ETHUSDT']);
    expect(filters.ETHUSDT).toMatchObject({ status: 'TRADING', multiplierUp: '1.0200', multiplierDown: '0.9800', marketMinQty: '0.001' });
    expect(Number(filters.ETHUSDT?.minNotional)).toBe(1000);
    expect((await control({ symbol: 'ETHUSDT', status: 'HALTED' })).status).toBe(400);
    expect((await control({ symbol: 'ETHUSDT', minNotional: '-1' })).status).toBe(400);
    expect((await control({ symbol: 'NOPEUSDT', status: 'TRADING' })).status).toBe(400);
  });
});
