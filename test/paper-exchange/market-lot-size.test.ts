import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { defaultSimSymbols } from '../../src/paper-exchange/symbols.js';
import { apiClient, errorCode, field, type ApiClient } from './helpers.js';

// A paper MARKET order meets LOT_SIZE (precision, step, min, max) and MARKET_LOT_SIZE on top, with Binance's codes:
// -1111 precision, -4003 not positive, -4004 under the minimum, -4005 over the maximum, -4023 off the step
// (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code). A symbol whose MARKET_LOT_SIZE is
// narrower than its LOT_SIZE shows which filter a MARKET order is held to, and that a LIMIT order is not.

const btc = defaultSimSymbols.find((s) => s.symbol === 'BTCUSDT');
if (!btc) throw new Error('BTCUSDT missing from the default symbols');
// LOT_SIZE: step 0.001, 0.001 … 1000. MARKET_LOT_SIZE: step 0.002, 0.004 … 0.1.
const symbols = [{ ...btc, marketStepSize: '0.002', marketMinQty: '0.004', marketMaxQty: '0.1' }];

let sim: SimulatorHandle;
let api: ApiClient;
beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 50, seed: 21, symbols, startingBalanceUsd: 1_000_000 });
  api = apiClient(sim.restBaseUrl, 'market-lot-size');
});
afterAll(async () => {
  await sim.close();
});

const market = (quantity: string) => api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity });

describe('MARKET orders and the lot filters', () => {
  it('exchangeInfo publishes MARKET_LOT_SIZE apart from LOT_SIZE', async () => {
    const info = (await api.publicGet('/fapi/v1/exchangeInfo')).body as { symbols: { filters: Record<string, unknown>[] }[] };
    const filters = info.symbols[0]?.filters ?? [];
    expect(filters.find((f) => f.filterType === 'LOT_SIZE')).toEqual({ filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '1000', stepSize: '0.001' });
    expect(filters.find((f) => f.filterType === 'MARKET_LOT_SIZE')).toEqual({
      filterType: 'MARKET_LOT_SIZE',
      minQty: '0.004',
      maxQty: '0.1',
      stepSize: '0.002',
    });
  });

  it('rejects each breach with its code and places nothing', async () => {
    const cases: [string, number][] = [
      ['0.0041', -1111], // finer than LOT_SIZE's step (precision)
      ['0', -4003],
      ['0.002', -4004], // meets LOT_SIZE, under MARKET_LOT_SIZE's minimum
      ['0.102', -4005], // meets LOT_SIZE, over MARKET_LOT_SIZE's maximum
      ['2000', -4005], // over both maxima
      ['0.005', -4023], // on LOT_SIZE's step, off MARKET_LOT_SIZE's
    ];
    for (const [quantity, code] of cases) {
      const res = await market(quantity);
      expect({ quantity, status: res.status, code: errorCode(res) }).toEqual({ quantity, status: 400, code });
    }
    expect(sim.orders().filter((o) => o.accountKey === 'market-lot-size')).toEqual([]);
  });

  it('accepts a MARKET order within both filters, and a LIMIT order held to LOT_SIZE only', async () => {
    const filled = await market('0.006');
    expect({ status: filled.status, qty: field(filled, 'origQty') }).toEqual({ status: 200, qty: '0.006' });
    const book = await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'BTCUSDT' });
    const price = (Math.floor(Number(field(book, 'bidPrice')) * 9) / 10).toFixed(1); // rests 10 % under the bid
    const limit = await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price, quantity: '0.205' });
    expect({ status: limit.status, body: limit.status === 200 ? 'placed' : limit.body }).toEqual({ status: 200, body: 'placed' });
  });
});
