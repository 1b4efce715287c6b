import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, field, openWs, placeTestStop, type ApiClient, type WsProbe } from '../paper-exchange/helpers.js';
import { expectShapeOf } from './expect-shape.js';
import type { KnownDifference } from './same-shape.js';

// The paper exchange, driven over HTTP/WS, must put on the wire what Binance documents: for each payload kind,
// the field set and the JSON type of every field of the documented example (fixtures/SOURCES.md). Values differ
// (other orders, other prices) and are not compared here. A difference we accept is listed with its reason.

/** Fields the docs print for some orders only, or that the paper exchange does not model yet. */
const known: Record<string, readonly KnownDifference[]> = {
  'order-trade-update': [
    // The documented example is a TRAILING_STOP_MARKET order; the page marks both "only pushed with TRAILING_STOP_MARKET order".
    { path: 'o.AP', kind: 'missing', reason: 'activation price: trailing stops only; the paper exchange has none' },
    { path: 'o.cr', kind: 'missing', reason: 'callback rate: trailing stops only; the paper exchange has none' },
  ],
  'query-order': [
    // The documented example is a TRAILING_STOP_MARKET order; the page marks both "only return with TRAILING_STOP_MARKET order".
    { path: 'activatePrice', kind: 'missing', reason: 'activation price: trailing stops only; the paper exchange has none' },
    { path: 'priceRate', kind: 'missing', reason: 'callback rate: trailing stops only; the paper exchange has none' },
    // The paper exchange answers New Order and Query Order with one order JSON; the New Order page prints cumQty.
    { path: 'cumQty', kind: 'extra', reason: 'part of the New Order response; Query Order omits it, readers ignore it' },
  ],
  'open-algo-orders': [
    // Not modelled by the paper exchange's algo book (src/paper-exchange/algo-orders.ts, AlgoBook.json); the engine does not read them.
    { path: '[].actualOrderId', kind: 'missing', reason: 'id of the order a triggered algo order placed: not reported yet' },
    { path: '[].actualPrice', kind: 'missing', reason: 'average price of that order: not reported yet' },
    { path: '[].tpTriggerPrice', kind: 'missing', reason: 'attached take-profit: not modelled' },
    { path: '[].tpPrice', kind: 'missing', reason: 'attached take-profit: not modelled' },
    { path: '[].slTriggerPrice', kind: 'missing', reason: 'attached stop-loss: not modelled' },
    { path: '[].slPrice', kind: 'missing', reason: 'attached stop-loss: not modelled' },
    { path: '[].tpOrderType', kind: 'missing', reason: 'attached take-profit: not modelled' },
  ],
};

type Rec = Record<string, unknown>;
let sim: SimulatorHandle;
let api: ApiClient;
let user: WsProbe;
const data = (m: unknown): Rec => (m as { data: Rec }).data;
const userEvent = (predicate: (event: Rec) => boolean, timeoutMs?: number): Promise<Rec> => user.waitFor((m) => predicate(data(m)), timeoutMs).then(data);

const expectShape = expectShapeOf(known);

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 11 });
  api = apiClient(sim.restBaseUrl, 'conformance-1');
  const listenKey = String(field(await api.apiKeyCall('POST', '/fapi/v1/listenKey'), 'listenKey'));
  user = await openWs(`${sim.wsBaseUrl}/private/stream?listenKey=${listenKey}`);
  const placed = await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', newClientOrderId: 'conf-1' });
  expect(placed.status).toBe(200);
});
afterAll(async () => {
  user.close();
  await sim.close();
});

async function placeStop(clientAlgoId: string): Promise<void> {
  expect((await placeTestStop(api, clientAlgoId)).res.status).toBe(200);
}

describe('user data stream, as documented', () => {
  it('ORDER_TRADE_UPDATE: the NEW and the TRADE event of a filled MARKET order', async () => {
    expectShape('order-trade-update', await userEvent((e) => (e.o as Rec | undefined)?.x === 'NEW'));
    expectShape('order-trade-update', await userEvent((e) => (e.o as Rec | undefined)?.x === 'TRADE'));
  });

  it('ORDER_TRADE_UPDATE: an IOC that does not cross expires with expiry reason "2"', async () => {
    const book = await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'BTCUSDT' });
    const price = (Math.floor(Number(field(book, 'bidPrice')) * 9) / 10).toFixed(1); // 10 % under the bid: never crosses
    await api.signed('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'IOC',
      price,
      quantity: '0.002',
      newClientOrderId: 'conf-ioc',
    });
    const expired = await userEvent((e) => (e.o as Rec | undefined)?.c === 'conf-ioc' && (e.o as Rec).x === 'EXPIRED');
    expectShape('order-trade-update', expired);
    expect((expired.o as Rec).er).toBe('2');
  });

  it('ACCOUNT_UPDATE: the ORDER update of that fill, and a FUNDING_FEE update', async () => {
    expectShape('account-update', await userEvent((e) => e.e === 'ACCOUNT_UPDATE' && (e.a as Rec).m === 'ORDER'));
    sim.setFunding({ rateBps: 1, intervalMs: 50 });
    try {
      const funding = await userEvent((e) => e.e === 'ACCOUNT_UPDATE' && (e.a as Rec).m === 'FUNDING_FEE');
      expectShape('account-update', funding);
      expect((funding.a as Rec).P).toEqual([]); // cross margin: balance only (Event Balance and Position Update)
    } finally {
      sim.setFunding({ rateBps: 0 });
    }
  });

  it('ALGO_UPDATE: placing a protective stop pushes NEW', async () => {
    await placeStop('conf-stop-algo');
    expectShape('algo-update', await userEvent((e) => e.e === 'ALGO_UPDATE', 1_000));
  });

  it('listenKeyExpired: a key not kept alive pushes the documented event when it expires', async () => {
    // A simulator of its own whose keys live one second (Binance's live 60 minutes; user-stream-life.test.ts tests the
    // key's life): the event as the SDK's combined stream delivers it, E a string as the page and live users show it.
    const short = await startSimulator({ priceStepMs: 20, seed: 12, listenKeyValidityMs: 1_000 });
    const expiring = apiClient(short.restBaseUrl, 'conformance-expiring');
    const listenKey = String(field(await expiring.apiKeyCall('POST', '/fapi/v1/listenKey'), 'listenKey'));
    const stream = await openWs(`${short.wsBaseUrl}/private/stream?listenKey=${listenKey}`);
    try {
      const expired = await stream.waitFor((m) => data(m).e === 'listenKeyExpired', 5_000).then(data);
      expectShape('listen-key-expired', expired);
      expect(expired.listenKey).toBe(listenKey);
    } finally {
      stream.close();
      await short.close();
    }
  });
});

describe('market streams, as documented', () => {
  it('<symbol>@bookTicker', async () => {
    const market = await openWs(`${sim.wsBaseUrl}/public/stream`);
    try {
      market.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@bookTicker'], id: 1 }));
      expectShape('book-ticker', data(await market.waitFor((m) => (m as Rec).stream === 'btcusdt@bookTicker')));
    } finally {
      market.close();
    }
  });
});

describe('REST answers, as documented', () => {
  it('GET /fapi/v1/order (Query Order) of the filled MARKET order', async () => {
    const res = await api.signed('GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'conf-1' });
    expect(res.status).toBe(200);
    expectShape('query-order', res.body);
  });

  it('GET /fapi/v3/positionRisk', async () => {
    const res = await api.signed('GET', '/fapi/v3/positionRisk', {});
    expect(res.body).toHaveLength(1);
    expectShape('position-risk-v3', res.body);
  });

  it('GET /fapi/v1/openAlgoOrders after placing a protective stop', async () => {
    await placeStop('conf-stop-rest');
    const res = await api.signed('GET', '/fapi/v1/openAlgoOrders', {});
    expect((res.body as Rec[]).some((o) => o.clientAlgoId === 'conf-stop-rest')).toBe(true);
    expectShape('open-algo-orders', res.body);
  });

  it('GET /fapi/v1/income: commission and funding records', async () => {
    const res = await api.signed('GET', '/fapi/v1/income', {});
    const types = new Set((res.body as Rec[]).map((r) => r.incomeType));
    expect(types.has('COMMISSION')).toBe(true);
    expect(types.has('FUNDING_FEE')).toBe(true); // paid in the ACCOUNT_UPDATE test above
    expectShape('income-history', res.body);
  });

  it('error bodies: unknown symbol, unknown order, missing parameter', async () => {
    const answers = [
      await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'NOPEUSDT' }),
      await api.signed('GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'never-placed' }),
      await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT' }),
    ];
    for (const res of answers) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expectShape('error-body', res.body);
    }
  });
});
