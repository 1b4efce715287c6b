import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, errorCode, field, type ApiClient } from './helpers.js';

let sim: SimulatorHandle;
let keySeq = 0;
/** Fresh account per test: accounts are keyed by API key and auto-created without a credentials table. */
let api: ApiClient;

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 7 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  api = apiClient(sim.restBaseUrl, `rest-key-${++keySeq}`);
  sim.pausePriceProcess(false);
});

async function touch(symbol: string): Promise<{ bid: number; ask: number; bidText: string; askText: string }> {
  const res = await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol });
  const bidText = String(field(res, 'bidPrice'));
  const askText = String(field(res, 'askPrice'));
  return { bid: Number(bidText), ask: Number(askText), bidText, askText };
}

describe('market data REST', () => {
  it('exchangeInfo exposes the Binance filters with string decimals', async () => {
    const res = await api.publicGet('/fapi/v1/exchangeInfo');
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('x-mbx-used-weight-1m'))).toBeGreaterThan(0);
    const symbols = field(res, 'symbols') as { symbol: string; filters: Record<string, unknown>[] }[];
    expect(symbols.map((s) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
    const btc = symbols.find((s) => s.symbol === 'BTCUSDT');
    const filter = (type: string) => btc?.filters.find((f) => f.filterType === type);
    expect(filter('PRICE_FILTER')).toMatchObject({ tickSize: '0.10', minPrice: '0.10' });
    expect(filter('LOT_SIZE')).toMatchObject({ stepSize: '0.001', minQty: '0.001', maxQty: '1000' });
    expect(filter('MARKET_LOT_SIZE')).toMatchObject({ stepSize: '0.001' });
    expect(filter('MIN_NOTIONAL')).toEqual({ filterType: 'MIN_NOTIONAL', notional: '100' });
  });

  it('bookTicker and depth are on the tick grid with bid < ask', async () => {
    const { bid, ask, bidText } = await touch('BTCUSDT');
    expect(ask).toBeGreaterThan(bid);
    expect(bidText).toMatch(/^\d+\.\d0$/); // tick 0.10 shown with 2 decimals
    const depth = await api.publicGet('/fapi/v1/depth', { symbol: 'ETHUSDT', limit: '5' });
    expect((field(depth, 'bids') as unknown[]).length).toBe(5);
    expect((field(depth, 'asks') as unknown[]).length).toBe(5);
    const all = await api.publicGet('/fapi/v1/ticker/bookTicker');
    expect((all.body as unknown[]).length).toBe(3);
  });

  it('an unknown path answers a bare 404 (as Binance: no error JSON); an unknown symbol -1121', async () => {
    const missing = await api.publicGet('/fapi/v1/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toBeUndefined();
    const badSymbol = await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'DOGEUSDT' });
    expect(badSymbol.status).toBe(400);
    expect(errorCode(badSymbol)).toBe(-1121);
  });
});

describe('order validation', () => {
  const base = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC' };

  it('rejects precision beyond tick/step, off-grid prices, small notional and missing params', async () => {
    const cases: [Record<string, string>, number][] = [
      [{ ...base, price: '50000.123', quantity: '0.01' }, -1111],
      [{ ...base, price: '50000.1', quantity: '0.0101' }, -1111],
      [{ ...base, symbol: 'SOLUSDT', price: '100.005', quantity: '1' }, -4014],
      [{ ...base, price: '50000.1', quantity: '0.001' }, -4164], // 50 USDT < 100
      [{ ...base, price: '50000.1' }, -1102],
      [{ ...base, quantity: '0.01' }, -1102],
      [{ ...base, symbol: 'XYZUSDT', price: '1', quantity: '1' }, -1121],
      [{ ...base, price: '50000.1', quantity: '0.01', newClientOrderId: 'bad id!' }, -1100],
    ];
    for (const [params, code] of cases) {
      const res = await api.signed('POST', '/fapi/v1/order', params);
      expect({ params, status: res.status, code: errorCode(res) }).toEqual({ params, status: 400, code });
    }
    expect(sim.orders().filter((o) => o.accountKey === `rest-key-${keySeq}`)).toEqual([]);
  });

  it('accepts trailing zeros beyond the tick precision', async () => {
    const { bid } = await touch('BTCUSDT');
    const price = (Math.floor(bid * 0.9 * 10) / 10).toFixed(1) + '000';
    const res = await api.signed('POST', '/fapi/v1/order', { ...base, price, quantity: '0.0100' });
    expect(res.status).toBe(200);
    expect(field(res, 'origQty')).toBe('0.010');
  });
});

describe('matching', () => {
  it('GTX that would cross is rejected -5022; forcePostOnlyReject rejects passive GTX too', async () => {
    sim.pausePriceProcess(true);
    const { askText, bidText, bid } = await touch('ETHUSDT');
    const buy = await api.signed('POST', '/fapi/v1/order', {
      symbol: 'ETHUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTX',
      price: askText,
      quantity: '0.1',
    });
    expect(buy.status).toBe(400);
    expect(errorCode(buy)).toBe(-5022);
    const sell = await api.signed('POST', '/fapi/v1/order', {
      symbol: 'ETHUSDT',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTX',
      price: bidText,
      quantity: '0.1',
    });
    expect(errorCode(sell)).toBe(-5022);

    sim.faults.forcePostOnlyReject = true;
    try {
      const passive = await api.signed('POST', '/fapi/v1/order', {
        symbol: 'ETHUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTX',
        price: (bid - 10).toFixed(2),
        quantity: '0.1',
      });
      expect(errorCode(passive)).toBe(-5022);
    } finally {
      sim.faults.forcePostOnlyReject = false;
    }
  });

  it('passive GTX rests, then fills at its limit when setMid moves the touch through it', async () => {
    sim.pausePriceProcess(true);
    const { bid } = await touch('ETHUSDT');
    const price = (bid - 5).toFixed(2);
    const placed = await api.signed('POST', '/fapi/v1/order', {
      symbol: 'ETHUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTX',
      price,
      quantity: '0.100',
      newClientOrderId: 'gtx-rest-1',
      newOrderRespType: 'RESULT',
    });
    expect(placed.status).toBe(200);
    expect(field(placed, 'status')).toBe('NEW');
    const open = await api.signed('GET', '/fapi/v1/openOrders', { symbol: 'ETHUSDT' });
    expect((open.body as { clientOrderId: string }[]).map((o) => o.clientOrderId)).toEqual(['gtx-rest-1']);

    sim.setMid('ETHUSDT', bid - 10);
    const after = await api.signed('GET', '/fapi/v1/order', { symbol: 'ETHUSDT', origClientOrderId: 'gtx-rest-1' });
    expect(after.body).toMatchObject({ status: 'FILLED', executedQty: '0.100', price });
    expect(Number(field(after, 'avgPrice'))).toBe(Number(price));
    expect(sim.position(`rest-key-${keySeq}`, 'ETHUSDT')).toBe(0.1);
  });

  it('MARKET fills fully at the touch and positionRisk v2/v3 show the position', async () => {
    sim.pausePriceProcess(true);
    const { ask } = await touch('BTCUSDT');
    const res = await api.signed('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.010',
      newOrderRespType: 'RESULT',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-mbx-order-count-1m')).toBe('1');
    expect(res.body).toMatchObject({ status: 'FILLED', executedQty: '0.010', origQty: '0.010', type: 'MARKET', side: 'BUY' });
    expect(Number(field(res, 'avgPrice'))).toBe(ask);
    expect(Number(field(res, 'cumQuote'))).toBeCloseTo(ask * 0.01, 6);

    const v3 = await api.signed('GET', '/fapi/v3/positionRisk', { symbol: 'BTCUSDT' });
    expect(v3.body).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', positionAmt: '0.010', positionSide: 'BOTH' })]);
    expect(Number((v3.body as { entryPrice: string }[])[0]?.entryPrice)).toBeCloseTo(ask, 6);
    const v2 = await api.signed('GET', '/fapi/v2/positionRisk');
    expect((v2.body as { symbol: string; positionAmt: string }[]).find((p) => p.symbol === 'BTCUSDT')?.positionAmt).toBe('0.010');
    expect(sim.position(`rest-key-${keySeq}`, 'BTCUSDT')).toBe(0.01);

    const balance = await api.signed('GET', '/fapi/v3/balance');
    expect((balance.body as { asset: string }[])[0]).toMatchObject({ asset: 'USDT' });
    const account = await api.signed('GET', '/fapi/v3/account');
    expect(account.body).toMatchObject({ positions: [expect.objectContaining({ symbol: 'BTCUSDT', positionAmt: '0.010' })] });
  });

  it('ACK responses report the order as accepted, before execution', async () => {
    const res = await api.signed('POST', '/fapi/v1/order', { symbol: 'SOLUSDT', side: 'SELL', type: 'MARKET', quantity: '1' });
    expect(res.body).toMatchObject({ status: 'NEW', executedQty: '0.00' });
    const q = await api.signed('GET', '/fapi/v1/order', { symbol: 'SOLUSDT', orderId: String(field(res, 'orderId')) });
    expect(field(q, 'status')).toBe('FILLED');
    expect(sim.position(`rest-key-${keySeq}`, 'SOLUSDT')).toBe(-1);
  });

  it('crossing GTC fills at the touch (price improvement); non-crossing IOC expires', async () => {
    sim.pausePriceProcess(true);
    const { ask, bid } = await touch('ETHUSDT');
    const gtc = await api.signed('POST', '/fapi/v1/order', {
      symbol: 'ETHUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: (ask + 20).toFixed(2),
      quantity: '0.05',
      newOrderRespType: 'RESULT',
    });
    expect(field(gtc, 'status')).toBe('FILLED');
    expect(Number(field(gtc, 'avgPrice'))).toBe(ask);
    const ioc = await api.signed('POST', '/fapi/v1/order', {
      symbol: 'ETHUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'IOC',
      price: (bid - 20).toFixed(2),
      quantity: '0.05',
      newOrderRespType: 'RESULT',
    });
    expect(field(ioc, 'status')).toBe('EXPIRED');
    expect(field(ioc, 'executedQty')).toBe('0.000');
  });

  it('reduceOnly is capped at the position and rejected -2022 when it would increase it', async () => {
    const none = await api.signed('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'MARKET',
      quantity: '0.010',
      reduceOnly: 'true',
    });
    expect(errorCode(none)).toBe(-2022);

    await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.004' });
    const adding = await api.signed('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.001',
      reduceOnly: 'true',
    });
    expect(errorCode(adding)).toBe(-2022);

    // 0.002 BTC is below min notional, but reduce-only orders are exempt.
    const capped = await api.signed('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'MARKET',
      quantity: '0.010',
      reduceOnly: 'true',
      newOrderRespType: 'RESULT',
    });
    expect(capped.body).toMatchObject({ status: 'FILLED', origQty: '0.004', executedQty: '0.004', reduceOnly: true });
    expect(sim.position(`rest-key-${keySeq}`, 'BTCUSDT')).toBe(0);
  });

  it('duplicate newClientOrderId is rejected -4116 while its order is open, and free again once it filled', async () => {
    sim.pausePriceProcess(true);
    const { bid } = await touch('SOLUSDT');
    const params = {
      symbol: 'SOLUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: (bid - 1).toFixed(2),
      quantity: '1',
      newClientOrderId: 'dup-1',
    };
    expect((await api.signed('POST', '/fapi/v1/order', params)).status).toBe(200);
    const dupOpen = await api.signed('POST', '/fapi/v1/order', params);
    expect(errorCode(dupOpen)).toBe(-4116);
    await api.signed('POST', '/fapi/v1/order', { symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '1', newClientOrderId: 'dup-2' });
    // Unique among open orders only (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api):
    // the id of a filled order may be used again, and a query by it finds the newest order.
    const reused = await api.signed('POST', '/fapi/v1/order', { symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '1', newClientOrderId: 'dup-2' });
    expect(reused.status).toBe(200);
    expect(sim.position(`rest-key-${keySeq}`, 'SOLUSDT')).toBe(2);
    // Another account may use the same id.
    const other = apiClient(sim.restBaseUrl, 'rest-other-account');
    expect((await other.signed('POST', '/fapi/v1/order', params)).status).toBe(200);
  });

  it('query unknown -> -2013; cancel unknown or final -> -2011; cancel open -> CANCELED', async () => {
    const unknown = await api.signed('GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'never-sent' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ code: -2013, msg: 'Order does not exist.' });
    const cancelUnknown = await api.signed('DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'never-sent' });
    expect(cancelUnknown.body).toEqual({ code: -2011, msg: 'Unknown order sent.' });

    sim.pausePriceProcess(true);
    const { bid } = await touch('BTCUSDT');
    await api.signed('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: (bid - 100).toFixed(1),
      quantity: '0.01',
      newClientOrderId: 'to-cancel',
    });
    const canceled = await api.signed('DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'to-cancel' });
    expect(canceled.body).toMatchObject({ status: 'CANCELED', clientOrderId: 'to-cancel' });
    const again = await api.signed('DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'to-cancel' });
    expect(errorCode(again)).toBe(-2011);
    const missingRef = await api.signed('GET', '/fapi/v1/order', { symbol: 'BTCUSDT' });
    expect(errorCode(missingRef)).toBe(-1102);
  });

  it('allOpenOrders cancels every open order of the symbol', async () => {
    sim.pausePriceProcess(true);
    const { bid } = await touch('ETHUSDT');
    for (const id of ['all-1', 'all-2']) {
      await api.signed('POST', '/fapi/v1/order', {
        symbol: 'ETHUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: (bid - 50).toFixed(2),
        quantity: '0.01',
        newClientOrderId: id,
      });
    }
    const res = await api.signed('DELETE', '/fapi/v1/allOpenOrders', { symbol: 'ETHUSDT' });
    expect(field(res, 'code')).toBe(200);
    const open = await api.signed('GET', '/fapi/v1/openOrders', { symbol: 'ETHUSDT' });
    expect(open.body).toEqual([]);
  });
});

describe('authentication', () => {
  it('verifies HMAC signatures and timestamps when credentials are configured', async () => {
    const authSim = await startSimulator({ credentials: { goodKey: 'goodSecret' }, priceStepMs: 50 });
    try {
      const good = apiClient(authSim.restBaseUrl, 'goodKey', 'goodSecret');
      expect((await good.signed('GET', '/fapi/v3/balance')).status).toBe(200);
      const wrongSecret = apiClient(authSim.restBaseUrl, 'goodKey', 'nope');
      expect(errorCode(await wrongSecret.signed('GET', '/fapi/v3/balance'))).toBe(-1022);
      const unknownKey = apiClient(authSim.restBaseUrl, 'otherKey', 'goodSecret');
      const rejected = await unknownKey.signed('GET', '/fapi/v3/balance');
      expect(rejected.status).toBe(401);
      expect(errorCode(rejected)).toBe(-2015);
      // A key named like an Object.prototype member is just an unknown key, not a 500.
      for (const name of ['constructor', 'toString', '__proto__']) {
        const hostile = await apiClient(authSim.restBaseUrl, name, 'goodSecret').signed('GET', '/fapi/v3/balance');
        expect(errorCode(hostile)).toBe(-2015);
      }
      const stale = await fetch(`${authSim.restBaseUrl}/fapi/v3/balance?timestamp=${Date.now() - 10_000}&signature=00`, {
        headers: { 'X-MBX-APIKEY': 'goodKey' },
      });
      expect(((await stale.json()) as { code: number }).code).toBe(-1021);
      const noKey = await fetch(`${authSim.restBaseUrl}/fapi/v1/listenKey`, { method: 'POST' });
      expect(noKey.status).toBe(401);
    } finally {
      await authSim.close();
    }
  });
});
