import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, errorCode, field, openWs, sleep } from './helpers.js';

// Every fault of the paper exchange can be switched at run time through its control API (POST /sim/v1/faults),
// so a test, or a user's own bot, can make paper as harsh as the venue: a skewed server clock (-1021), refused
// margin (-2019), a system-level throttle of new orders (503 -1008), lost and late WebSocket messages, and the on/off faults.

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 21 });
});
afterAll(async () => {
  await sim.close();
});

async function setFaults(params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${sim.restBaseUrl}/sim/v1/faults?${new URLSearchParams(params).toString()}`, { method: 'POST' });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const marketBuy = (clientOrderId: string) => ({ symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '1', newClientOrderId: clientOrderId });

describe('fault control API', () => {
  it('a server clock skewed past the recvWindow refuses signed requests with -1021; the adapter resyncs and succeeds', async () => {
    const api = apiClient(sim.restBaseUrl, 'skew-key');
    expect((await setFaults({ clockSkewMs: '20000' })).body).toMatchObject({ clockSkewMs: 20_000 });
    const refused = await api.signed('POST', '/fapi/v1/order', marketBuy('skew-1'));
    expect(errorCode(refused)).toBe(-1021);
    const serverTime = Number(((await api.publicGet('/fapi/v1/time')).body as { serverTime: number }).serverTime);
    expect(serverTime - Date.now()).toBeGreaterThan(15_000);

    // Our adapter reads the server's time, signs with it, and the order goes through.
    const account = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 2_000 }).account({
      apiKey: 'skew-adapter',
      apiSecret: 's',
    });
    const outcome = await account.placeOrder({ clientOrderId: 'skew-2', symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '1.00', reduceOnly: false });
    expect(outcome.kind).toBe('accepted');
    await setFaults({ clockSkewMs: '0' });
  });

  it('marginInsufficientCount refuses the next orders with -2019, then trades again', async () => {
    const api = apiClient(sim.restBaseUrl, 'margin-key');
    await setFaults({ marginInsufficientCount: '1' });
    expect(errorCode(await api.signed('POST', '/fapi/v1/order', marketBuy('m-1')))).toBe(-2019);
    expect(sim.orders().some((o) => o.clientOrderId === 'm-1')).toBe(false);
    expect((await api.signed('POST', '/fapi/v1/order', marketBuy('m-2'))).status).toBe(200);
  });

  it('systemThrottle refuses new orders 503 -1008 before matching; reduce-only and close-position orders, cancels and queries pass', async () => {
    const key = 'throttle-key';
    const api = apiClient(sim.restBaseUrl, key);
    expect((await api.signed('POST', '/fapi/v1/order', marketBuy('t-entry'))).status).toBe(200);
    const bid = Number(field(await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'SOLUSDT' }), 'bidPrice'));
    // A post-only buy well under the touch: it would rest, so only the throttle can refuse it.
    const restingBuy = (clientOrderId: string) => ({
      symbol: 'SOLUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTX',
      quantity: '1',
      price: (Math.floor(bid * 0.99 * 100) / 100).toFixed(2),
      newClientOrderId: clientOrderId,
    });

    expect((await setFaults({ systemThrottle: 'true' })).body).toMatchObject({ systemThrottle: true });
    try {
      const throttled = await api.signed('POST', '/fapi/v1/order', restingBuy('t-limit'));
      expect(throttled.status).toBe(503);
      expect(throttled.body).toEqual({
        code: -1008,
        msg: 'Request throttled by system-level protection. Reduce-only/close-position orders are exempt. Please try again.',
      });
      expect(errorCode(await api.signed('GET', '/fapi/v1/order', { symbol: 'SOLUSDT', origClientOrderId: 't-limit' }))).toBe(-2013);
      expect(sim.orders().some((o) => o.clientOrderId === 't-limit')).toBe(false);
      expect(errorCode(await api.signed('POST', '/fapi/v1/order', marketBuy('t-market')))).toBe(-1008);
      const stop = {
        algoType: 'CONDITIONAL',
        symbol: 'SOLUSDT',
        side: 'SELL',
        type: 'STOP_MARKET',
        triggerPrice: (Math.floor(bid * 0.9 * 100) / 100).toFixed(2),
      };
      expect(errorCode(await api.signed('POST', '/fapi/v1/algoOrder', { ...stop, quantity: '1', clientAlgoId: 't-stop-open' }))).toBe(-1008);

      // The holder still gets out: a close-position stop is placed and cancelled, a reduce-only market order closes.
      expect((await api.signed('POST', '/fapi/v1/algoOrder', { ...stop, closePosition: 'true', clientAlgoId: 't-stop-close' })).status).toBe(200);
      expect((await api.signed('DELETE', '/fapi/v1/algoOrder', { clientAlgoId: 't-stop-close' })).status).toBe(200);
      const close = await api.signed('POST', '/fapi/v1/order', { ...marketBuy('t-close'), side: 'SELL', reduceOnly: 'true' });
      expect(close.status).toBe(200);
      expect(sim.position(key, 'SOLUSDT')).toBe(0);
    } finally {
      await setFaults({ systemThrottle: 'false' });
    }
    const placed = await api.signed('POST', '/fapi/v1/order', restingBuy('t-limit'));
    expect(placed.status).toBe(200);
    expect((await api.signed('DELETE', '/fapi/v1/order', { symbol: 'SOLUSDT', origClientOrderId: 't-limit' })).status).toBe(200);
  });

  it('drops the next WebSocket messages and delays the rest', async () => {
    const probe = await openWs(`${sim.wsBaseUrl}/public/ws/solusdt@bookTicker`);
    try {
      await probe.waitFor(() => true);
      await setFaults({ wsDropNextMessages: '1000000' });
      await sleep(50);
      const whileDropping = probe.messages.length;
      await sleep(200); // ten price steps
      expect(probe.messages.length).toBe(whileDropping);
      await setFaults({ wsDropNextMessages: '0', wsDelayMs: '300' });
      const countAt = probe.messages.length;
      const sentAt = Date.now();
      while (probe.messages.length === countAt && Date.now() - sentAt < 2_000) await sleep(5);
      expect(probe.messages.length).toBeGreaterThan(countAt);
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(250);
      await setFaults({ wsDelayMs: '0' });
    } finally {
      probe.close();
    }
  });

  it('switches the on/off faults, and refuses a bad value with the parameter named', async () => {
    const on = await setFaults({ rejectMarketOrders: 'true', userStreamSilent: 'true', wsSilent: 'false' });
    expect(on.body).toMatchObject({ rejectMarketOrders: true, userStreamSilent: true, wsSilent: false });
    expect(errorCode(await apiClient(sim.restBaseUrl, 'onoff').signed('POST', '/fapi/v1/order', marketBuy('o-1')))).toBe(-4131);
    await setFaults({ rejectMarketOrders: 'false', userStreamSilent: 'false' });

    const bad = await setFaults({ rejectMarketOrders: 'yes' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('rejectMarketOrders');
    expect((await setFaults({ clockSkewMs: '1.5' })).status).toBe(400);
  });
});
