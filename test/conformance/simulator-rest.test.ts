import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, field, type ApiClient, type ApiResponse } from '../paper-exchange/helpers.js';
import { expectShapeOf } from './expect-shape.js';
import { loadFixture, sameShape, type KnownDifference } from './same-shape.js';

// Every REST answer the paper exchange serves beyond simulator.test.ts's, against the example Binance documents for
// it (fixtures/SOURCES.md): the same field set and JSON types, values not compared. A started simulator over HTTP.

/** The order fields the paper exchange prints on every order answer (one order JSON for all; readers ignore extras). */
const orderAnswerExtras = (...paths: string[]): KnownDifference[] =>
  paths.map((path) => ({ path, kind: 'extra', reason: 'one order JSON for every order answer; this page omits the field' }));
/** The documented examples are TRAILING_STOP_MARKET orders; the pages mark both "only return with TRAILING_STOP_MARKET order". */
const trailingOnly = (prefix: string): KnownDifference[] => [
  { path: `${prefix}activatePrice`, kind: 'missing', reason: 'trailing stops only; the paper exchange has none' },
  { path: `${prefix}priceRate`, kind: 'missing', reason: 'trailing stops only; the paper exchange has none' },
];
const notTriggeredYet = (prefix: string): KnownDifference[] => [
  // Query Algo Order prints what a triggered order placed; the paper exchange prints actualOrderId once there is one.
  { path: `${prefix}actualOrderId`, kind: 'missing', reason: 'printed once the algo order has triggered' },
  { path: `${prefix}actualPrice`, kind: 'missing', reason: 'average price of the triggered order: not reported yet' },
];

const known: Record<string, readonly KnownDifference[]> = {
  'new-order': [...trailingOnly(''), ...orderAnswerExtras('time')],
  'all-orders': [...trailingOnly('[].'), ...orderAnswerExtras('[].cumQty')],
  'open-order': [...trailingOnly(''), ...orderAnswerExtras('cumQty')],
  'open-orders': [...trailingOnly('[].'), ...orderAnswerExtras('[].cumQty')],
  'cancel-order': [...trailingOnly(''), ...orderAnswerExtras('avgPrice', 'cumQuote', 'time')],
  'account-v2': ['isolatedMargin', 'notional', 'isolatedWallet'].map((f): KnownDifference => ({
    path: `positions[].${f}`,
    kind: 'extra',
    reason: 'the V3 position fields, printed in V2 too; readers ignore them',
  })),
  'new-algo-order': [
    // The New Algo Order example prints both as "" (not a trailing stop); the paper exchange models no trailing stops.
    { path: 'activatePrice', kind: 'missing', reason: 'trailing stops only; not modelled' },
    { path: 'callbackRate', kind: 'missing', reason: 'trailing stops only; not modelled' },
  ],
  'query-algo-order': [
    ...notTriggeredYet(''),
    { path: 'actualType', kind: 'missing', reason: 'type of the triggered order: not reported yet' },
    { path: 'actualQty', kind: 'missing', reason: 'quantity of the triggered order: not reported yet' },
    { path: 'tpOrderType', kind: 'missing', reason: 'attached take-profit: not modelled' },
  ],
  'all-algo-orders': [
    ...notTriggeredYet('[].'),
    ...['tpTriggerPrice', 'tpPrice', 'slTriggerPrice', 'slPrice', 'tpOrderType'].map((f): KnownDifference => ({
      path: `[].${f}`,
      kind: 'missing',
      reason: 'attached take-profit / stop-loss: not modelled',
    })),
  ],
  'leverage-bracket': [
    // "user symbol bracket multiplier, only appears when user's symbol bracket is adjusted" (the page's comment).
    { path: 'notionalCoef', kind: 'missing', reason: 'printed only for an adjusted bracket; paper brackets are the defaults' },
  ],
  'book-ticker-rest': [{ path: 'lastUpdateId', kind: 'extra', reason: 'the book update id, not in the example; clients ignore it' }],
  'exchange-info': [
    { path: 'futuresType', kind: 'extra', reason: 'not in the example; clients ignore it' },
    { path: 'symbols[].maxMoveOrderLimit', kind: 'extra', reason: 'not in the example; clients ignore it' },
  ],
};
const expectShape = expectShapeOf(known);

type Rec = Record<string, unknown>;
let sim: SimulatorHandle;
let api: ApiClient;
let placed: ApiResponse;
let restingOrderId: number;
const symbol = 'BTCUSDT';
const fundingPollAttempts = 60;
const fundingPollIntervalMs = 50;
const ok = (res: ApiResponse): unknown => {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};

/** A BUY LIMIT 10 % under the bid: rests on the book. */
const placeResting = async (): Promise<ApiResponse> =>
  api.signed('POST', '/fapi/v1/order', { symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: await tenPercentUnderBid(), quantity: '0.002' });

async function tenPercentUnderBid(): Promise<string> {
  const book = await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol });
  return (Math.floor(Number(field(book, 'bidPrice')) * 9) / 10).toFixed(1); // on the 0.1 tick
}

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 12 });
  api = apiClient(sim.restBaseUrl, 'conformance-rest');
  placed = await api.signed('POST', '/fapi/v1/order', { symbol, side: 'BUY', type: 'MARKET', quantity: '0.002', newClientOrderId: 'rest-1' });
  const resting = await placeResting();
  restingOrderId = Number(field(resting, 'orderId'));
});
afterAll(async () => {
  await sim.close();
});

describe('orders, as documented', () => {
  it('POST /fapi/v1/order (New Order), RESULT and ACK', async () => {
    expectShape('new-order', ok(placed));
    const ack = await api.signed('POST', '/fapi/v1/order', {
      symbol,
      side: 'SELL',
      type: 'MARKET',
      quantity: '0.001',
      reduceOnly: 'true', // under the minimum notional otherwise
      newOrderRespType: 'ACK',
    });
    expectShape('new-order', ok(ack));
  });

  it('GET /fapi/v1/allOrders', async () => {
    const body = ok(await api.signed('GET', '/fapi/v1/allOrders', { symbol }));
    expect((body as Rec[]).length).toBeGreaterThanOrEqual(2);
    expectShape('all-orders', body);
  });

  it('GET /fapi/v1/openOrder of the resting LIMIT order', async () => {
    expectShape('open-order', ok(await api.signed('GET', '/fapi/v1/openOrder', { symbol, orderId: String(restingOrderId) })));
  });

  it('GET /fapi/v1/userTrades of the filled MARKET order', async () => {
    const body = ok(await api.signed('GET', '/fapi/v1/userTrades', { symbol }));
    expect(body).not.toEqual([]);
    expectShape('user-trades', body);
  });
});

describe('algo orders, as documented', () => {
  const stop = async (clientAlgoId: string): Promise<Rec> =>
    ok(
      await api.signed('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol,
        side: 'BUY',
        type: 'STOP_MARKET',
        triggerPrice: String(Number(await tenPercentUnderBid()) * 2), // far above the market: never triggers here
        quantity: '0.001',
        clientAlgoId,
      }),
    ) as Rec;

  it('POST /fapi/v1/algoOrder (New Algo Order)', async () => {
    expectShape('new-algo-order', await stop('rest-algo-new'));
  });

  it('GET /fapi/v1/algoOrder and GET /fapi/v1/allAlgoOrders', async () => {
    const placedAlgo = await stop('rest-algo-query');
    expectShape('query-algo-order', ok(await api.signed('GET', '/fapi/v1/algoOrder', { algoId: String(placedAlgo.algoId) })));
    const all = ok(await api.signed('GET', '/fapi/v1/allAlgoOrders', { symbol }));
    expect((all as Rec[]).length).toBeGreaterThanOrEqual(2);
    expectShape('all-algo-orders', all);
  });

  it('DELETE /fapi/v1/algoOpenOrders', async () => {
    await stop('rest-algo-cancel-all');
    expectShape('cancel-all-algo-open-orders', ok(await api.signed('DELETE', '/fapi/v1/algoOpenOrders', { symbol })));
    expect(ok(await api.signed('GET', '/fapi/v1/openAlgoOrders', { symbol }))).toEqual([]);
  });
});

describe('market data, as documented', () => {
  it('GET /fapi/v1/premiumIndex and /fapi/v1/fundingRate', async () => {
    expectShape('premium-index', ok(await api.publicGet('/fapi/v1/premiumIndex', { symbol })));
    sim.setFunding({ rateBps: 1, intervalMs: 50 });
    let funding: unknown = [];
    try {
      // Funding times come on the simulator's own clock: poll until one is recorded (bounded, so a stall fails).
      for (let attempt = 0; attempt < fundingPollAttempts && (funding as unknown[]).length === 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, fundingPollIntervalMs));
        funding = ok(await api.publicGet('/fapi/v1/fundingRate', { symbol }));
      }
    } finally {
      sim.setFunding({ rateBps: 0 });
    }
    expect(funding).not.toEqual([]);
    expectShape('funding-rate', funding);
  });

  it('GET /fapi/v1/trades, /fapi/v1/aggTrades and /fapi/v1/klines', async () => {
    const trades = ok(await api.publicGet('/fapi/v1/trades', { symbol }));
    expect(trades).not.toEqual([]);
    expectShape('trades', trades);
    expectShape('agg-trades', ok(await api.publicGet('/fapi/v1/aggTrades', { symbol })));
    const klines = ok(await api.publicGet('/fapi/v1/klines', { symbol, interval: '1m' }));
    expect(klines).not.toEqual([]);
    // A kline is a tuple (open time, open, high, …): compared position by position, not against the first entry.
    const [docRow] = loadFixture('klines') as unknown[][];
    for (const row of klines as unknown[][]) {
      expect(row).toHaveLength((docRow as unknown[]).length);
      row.forEach((value, i) => expect(sameShape((docRow as unknown[])[i], value), `kline field ${i}`).toEqual([]));
    }
  });

  it('GET /fapi/v1/ticker/24hr, /fapi/v1/ticker/price and /fapi/v2/ticker/price', async () => {
    expectShape('ticker-24hr', ok(await api.publicGet('/fapi/v1/ticker/24hr', { symbol })));
    expectShape('ticker-price', ok(await api.publicGet('/fapi/v1/ticker/price', { symbol })));
    expectShape('ticker-price', ok(await api.publicGet('/fapi/v2/ticker/price', { symbol })));
  });

  it('GET /fapi/v1/depth', async () => {
    expectShape('depth', ok(await api.publicGet('/fapi/v1/depth', { symbol, limit: '5' })));
  });

  it('GET /fapi/v1/exchangeInfo: the top level, each symbol, and each filter against its documented filter', async () => {
    const body = ok(await api.publicGet('/fapi/v1/exchangeInfo')) as Rec;
    const fixture = loadFixture('exchange-info') as Rec;
    const docFilters = ((fixture.symbols as Rec[])[0] as Rec).filters as Rec[];
    // sameShape compares array elements with the fixture's first one; filters differ by filterType, so they are compared one by one below.
    const withoutFilters = (info: Rec): Rec => ({ ...info, symbols: (info.symbols as Rec[]).map((s) => ({ ...s, filters: [] })) });
    expectShape('exchange-info', withoutFilters(body));
    for (const s of body.symbols as Rec[]) {
      const filters = s.filters as Rec[];
      expect(filters.map((f) => f.filterType)).toEqual(docFilters.map((f) => f.filterType));
      filters.forEach((f, i) => expect(sameShape(docFilters[i], f), `${String(s.symbol)} ${String(f.filterType)}`).toEqual([]));
    }
  });
});

describe('account, as documented', () => {
  it('GET /fapi/v3/account and /fapi/v3/balance (with the open position)', async () => {
    const account = ok(await api.signed('GET', '/fapi/v3/account', {})) as Rec;
    expect(account.positions).not.toEqual([]);
    expectShape('account-v3', account);
    expectShape('balance-v3', ok(await api.signed('GET', '/fapi/v3/balance', {})));
  });

  it('position mode, leverage, margin type, brackets, commission and symbol configuration', async () => {
    expectShape('position-side-dual', ok(await api.signed('GET', '/fapi/v1/positionSide/dual', {})));
    expectShape('leverage', ok(await api.signed('POST', '/fapi/v1/leverage', { symbol, leverage: '10' })));
    expectShape('margin-type', ok(await api.signed('POST', '/fapi/v1/marginType', { symbol: 'ETHUSDT', marginType: 'ISOLATED' })));
    expectShape('leverage-bracket', ok(await api.signed('GET', '/fapi/v1/leverageBracket', { symbol })));
    expectShape('commission-rate', ok(await api.signed('GET', '/fapi/v1/commissionRate', { symbol })));
    expectShape('symbol-config', ok(await api.signed('GET', '/fapi/v1/symbolConfig', { symbol })));
  });
});

describe('more answers, as documented', () => {
  it('DELETE /fapi/v1/order, GET /fapi/v1/openOrders and DELETE /fapi/v1/allOpenOrders', async () => {
    const resting = await placeResting();
    expectShape('open-orders', ok(await api.signed('GET', '/fapi/v1/openOrders', { symbol })));
    expectShape('cancel-order', ok(await api.signed('DELETE', '/fapi/v1/order', { symbol, orderId: String(field(resting, 'orderId')) })));
    expectShape('cancel-all-open-orders', ok(await api.signed('DELETE', '/fapi/v1/allOpenOrders', { symbol })));
  });

  it('DELETE /fapi/v1/algoOrder', async () => {
    const placedAlgo = ok(
      await api.signed('POST', '/fapi/v1/algoOrder', {
        algoType: 'CONDITIONAL',
        symbol,
        side: 'SELL',
        type: 'STOP_MARKET',
        triggerPrice: await tenPercentUnderBid(),
        closePosition: 'true',
        clientAlgoId: 'rest-algo-cancel',
      }),
    ) as Rec;
    expectShape('cancel-algo-order', ok(await api.signed('DELETE', '/fapi/v1/algoOrder', { algoId: String(placedAlgo.algoId) })));
  });

  it('GET /fapi/v2/positionRisk, /fapi/v2/balance and /fapi/v2/account', async () => {
    expectShape('position-risk-v2', ok(await api.signed('GET', '/fapi/v2/positionRisk', { symbol })));
    expectShape('balance-v2', ok(await api.signed('GET', '/fapi/v2/balance', {})));
    expectShape('account-v2', ok(await api.signed('GET', '/fapi/v2/account', {})));
  });

  it('GET /fapi/v1/multiAssetsMargin, POST /fapi/v1/positionSide/dual, GET /fapi/v1/ticker/bookTicker and /fapi/v1/time', async () => {
    expectShape('multi-assets-margin', ok(await api.signed('GET', '/fapi/v1/multiAssetsMargin', {})));
    // A fresh account (no position, no order): a change of mode is refused while either exists, and to the same mode.
    const fresh = apiClient(sim.restBaseUrl, 'conformance-rest-mode');
    expectShape('change-position-mode', ok(await fresh.signed('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'true' })));
    expectShape('book-ticker-rest', ok(await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol })));
    expectShape('server-time', ok(await api.publicGet('/fapi/v1/time')));
  });
});

describe('listen key, ping, multi-assets mode and BNB fee discount, as documented', () => {
  it('POST, PUT and DELETE /fapi/v1/listenKey; GET /fapi/v1/ping; POST /fapi/v1/multiAssetsMargin; GET and POST /fapi/v1/feeBurn', async () => {
    const keys = apiClient(sim.restBaseUrl, 'conformance-rest-keys');
    expectShape('listen-key', ok(await keys.apiKeyCall('POST', '/fapi/v1/listenKey')));
    expectShape('listen-key', ok(await keys.apiKeyCall('PUT', '/fapi/v1/listenKey')));
    expectShape('empty-object', ok(await keys.apiKeyCall('DELETE', '/fapi/v1/listenKey')));
    expectShape('empty-object', ok(await api.publicGet('/fapi/v1/ping')));
    expectShape('success', ok(await keys.signed('POST', '/fapi/v1/multiAssetsMargin', { multiAssetsMargin: 'true' })));
    expectShape('success', ok(await keys.signed('POST', '/fapi/v1/feeBurn', { feeBurn: 'true' })));
    expectShape('fee-burn', ok(await keys.signed('GET', '/fapi/v1/feeBurn', {})));
  });
});
