import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, field, openWs, placeTestStop, type ApiClient, type WsProbe } from './helpers.js';

// A price step's market data goes out before the accounts' side of it (stop triggers, liquidation checks), as on
// Binance, where neither sits on the market-data path. Checked first, the book waited for every holder's margin:
// 5–16 ms at 1 000 accounts (bench:sweep), a delay no exchange adds, which the engine's tick → flatten then carried.
// One combined connection carries both the book and the user's stream, so what arrives first was sent first.

type Rec = Record<string, unknown>;
let sim: SimulatorHandle;
let api: ApiClient;
let probe: WsProbe;

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 23, legacyStreamRoutes: true });
  sim.pausePriceProcess(true);
  sim.setMid('BTCUSDT', 60_000);
  api = apiClient(sim.restBaseUrl, 'book-first');
  const listenKey = String(field(await api.apiKeyCall('POST', '/fapi/v1/listenKey'), 'listenKey'));
  probe = await openWs(`${sim.wsBaseUrl}/stream?streams=btcusdt@bookTicker/${listenKey}`);
});
afterAll(async () => {
  probe.close();
  await sim.close();
});

describe('a price step', () => {
  it('publishes the book before it pushes the fill of the stop the step triggered', async () => {
    await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010' });
    const { res, trigger } = await placeTestStop(api, 'book-first-stop');
    expect(res.status).toBe(200);
    const before = probe.messages.length;
    sim.setMid('BTCUSDT', Number(trigger) - 1_000);
    const isStopFill = (m: unknown): boolean => {
      const o = (m as { data?: { e?: string; o?: Rec } }).data;
      return o?.e === 'ORDER_TRADE_UPDATE' && o.o?.x === 'TRADE' && o.o.S === 'SELL';
    };
    const isLowBook = (m: unknown): boolean => {
      const d = (m as { data?: Rec }).data;
      return d?.e === 'bookTicker' && Number(d.b) < Number(trigger);
    };
    await probe.waitFor(isStopFill);
    await probe.waitFor(isLowBook);
    const after = probe.messages.slice(before);
    expect(after.findIndex(isLowBook)).toBeLessThan(after.findIndex(isStopFill));
    expect(sim.position('book-first', 'BTCUSDT')).toBe(0);
  });
});
