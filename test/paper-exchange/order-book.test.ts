import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatUnits } from '../../src/model/decimal.js';
import { MatchingEngine } from '../../src/paper-exchange/matching.js';
import { parseNewOrder } from '../../src/paper-exchange/order-validation.js';
import { createPrng, SymbolMarket } from '../../src/paper-exchange/price-process.js';
import { defaultSimSymbols, startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { deriveRules } from '../../src/paper-exchange/symbols.js';
import { apiClient, errorCode, field, openWs, type ApiClient } from './helpers.js';

// The paper exchange's depth (issue 11 item 5): finite levels that takers walk and slip through, resting orders
// that queue and fill partially, FOK / GTD, client ids unique among open orders only, PERCENT_PRICE.

type Level = [string, string];
interface OrderBody {
  status: string;
  executedQty: string;
  avgPrice: string;
  origQty: string;
  goodTillDate?: number;
}

let sim: SimulatorHandle;
let api: ApiClient;
let keySeq = 0;

// A thin book: 1 000..2 000 USD a level, 1..300 ticks apart, so a few thousand USD walk several levels and
// SOLUSDT's ten levels reach past the 5 % PERCENT_PRICE bound.
beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 23, book: { minLevelNotionalUsd: 1_000, maxLevelNotionalUsd: 2_000, maxLevelGapTicks: 300 } });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  api = apiClient(sim.restBaseUrl, `book-key-${++keySeq}`);
  sim.pausePriceProcess(true);
});

async function depth(symbol: string, limit = '10'): Promise<{ bids: Level[]; asks: Level[] }> {
  const res = await api.publicGet('/fapi/v1/depth', { symbol, limit });
  return { bids: field(res, 'bids') as Level[], asks: field(res, 'asks') as Level[] };
}

/** Quantity-weighted price of taking `qty` from `levels`, best first (floats are fine for a test's expectation). */
function vwap(levels: Level[], qty: number): number {
  let left = qty;
  let cost = 0;
  for (const [price, size] of levels) {
    const take = Math.min(left, Number(size));
    cost += take * Number(price);
    left -= take;
    if (left <= 1e-12) break;
  }
  return cost / qty;
}

function order(params: Record<string, string>): Promise<{ status: number; body: OrderBody; code: number | undefined }> {
  return api
    .signed('POST', '/fapi/v1/order', { newOrderRespType: 'RESULT', ...params })
    .then((r) => ({ status: r.status, body: r.body as OrderBody, code: errorCode(r) }));
}

/** A LIMIT order with its time in force, price and quantity (and any other parameter). */
function limit(symbol: string, side: string, timeInForce: string, price: string, quantity: string, extra: Record<string, string> = {}) {
  return order({ symbol, side, type: 'LIMIT', timeInForce, price, quantity, ...extra });
}

describe('depth', () => {
  it('GET /fapi/v1/depth answers the book: levels sorted away from the touch, finite sizes, weight by limit', async () => {
    const before = Number((await api.publicGet('/fapi/v1/time')).headers.get('x-mbx-used-weight-1m'));
    const res = await api.publicGet('/fapi/v1/depth', { symbol: 'BTCUSDT', limit: '5' });
    expect(Number(res.headers.get('x-mbx-used-weight-1m')) - before).toBe(2); // limit 5..50: weight 2
    const { bids, asks } = await depth('BTCUSDT', '100');
    expect(bids).toHaveLength(10); // the default bookLevels, even when more are asked for
    expect(asks).toHaveLength(10);
    for (let i = 1; i < 10; i++) {
      expect(Number(bids[i]?.[0])).toBeLessThan(Number(bids[i - 1]?.[0]));
      expect(Number(asks[i]?.[0])).toBeGreaterThan(Number(asks[i - 1]?.[0]));
    }
    expect(Number(asks[0]?.[0])).toBeGreaterThan(Number(bids[0]?.[0]));
    const ticker = (await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'BTCUSDT' })).body as Record<string, string>;
    expect([ticker.bidPrice, ticker.bidQty, ticker.askPrice, ticker.askQty]).toEqual([bids[0]?.[0], bids[0]?.[1], asks[0]?.[0], asks[0]?.[1]]);
    expect(errorCode(await api.publicGet('/fapi/v1/depth', { symbol: 'BTCUSDT', limit: '7' }))).toBe(-1130);
  });

  it('<symbol>@depth5 streams the top five levels of each side on /public', async () => {
    sim.pausePriceProcess(false);
    const p = await openWs(`${sim.wsBaseUrl}/public/ws/ethusdt@depth5`);
    try {
      const event = (await p.waitFor((m) => (m as { e?: string }).e === 'depthUpdate')) as { s: string; b: Level[]; a: Level[]; u: number; pu: number };
      expect(event.s).toBe('ETHUSDT');
      expect(event.b).toHaveLength(5);
      expect(event.a).toHaveLength(5);
      expect(event.u).toBeGreaterThan(event.pu);
    } finally {
      p.close();
    }
  });
});

describe('takers walk the book', () => {
  it('a large MARKET order takes several levels, one trade each, at an average worse than the touch', async () => {
    const listenKey = String(field(await api.apiKeyCall('POST', '/fapi/v1/listenKey'), 'listenKey'));
    const p = await openWs(`${sim.wsBaseUrl}/private/ws?listenKey=${listenKey}`);
    try {
      const { asks } = await depth('BTCUSDT');
      const firstThree = asks.slice(0, 3).reduce((total, [, size]) => total + Number(size), 0);
      const qty = (firstThree + 0.001).toFixed(3); // into the fourth level
      const res = await order({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: qty, newClientOrderId: 'walk-1' });
      expect(res.body).toMatchObject({ status: 'FILLED', executedQty: qty });
      const avg = Number(res.body.avgPrice);
      expect(avg).toBeGreaterThan(Number(asks[0]?.[0]));
      expect(avg).toBeCloseTo(vwap(asks, Number(qty)), 4);

      const done = (m: unknown): boolean => (m as { o?: { X?: string } }).o?.X === 'FILLED';
      await p.waitFor(done);
      const trades = p.messages.map((m) => (m as { o?: Record<string, string> }).o).filter((o) => o?.x === 'TRADE');
      expect(trades).toHaveLength(4);
      expect(trades.map((t) => t?.X)).toEqual(['PARTIALLY_FILLED', 'PARTIALLY_FILLED', 'PARTIALLY_FILLED', 'FILLED']);
      expect(trades.map((t) => t?.L)).toEqual(asks.slice(0, 4).map(([price]) => price));
      expect(trades.slice(0, 3).map((t) => t?.l)).toEqual(asks.slice(0, 3).map(([, size]) => size));
      expect(trades[3]?.z).toBe(qty);
      // What it took is gone from the book until the next price step.
      expect((await depth('BTCUSDT')).asks[0]?.[0]).toBe(asks[3]?.[0]);
    } finally {
      p.close();
    }
  });

  it('IOC takes what its limit reaches and expires the rest; FOK fills whole or is refused (-5021)', async () => {
    const { asks } = await depth('ETHUSDT');
    const twoLevels = Number(asks[0]?.[1]) + Number(asks[1]?.[1]);
    const ioc = await limit('ETHUSDT', 'BUY', 'IOC', String(asks[1]?.[0]), (twoLevels * 2).toFixed(3));
    expect(ioc.body).toMatchObject({ status: 'EXPIRED', executedQty: twoLevels.toFixed(3) });

    const after = await depth('ETHUSDT');
    const fokTooBig = await limit('ETHUSDT', 'BUY', 'FOK', String(after.asks[0]?.[0]), (Number(after.asks[0]?.[1]) + 0.001).toFixed(3));
    expect(fokTooBig.code).toBe(-5021);
    const fok = await limit('ETHUSDT', 'BUY', 'FOK', String(after.asks[0]?.[0]), String(after.asks[0]?.[1]));
    expect(fok.body).toMatchObject({ status: 'FILLED', executedQty: after.asks[0]?.[1] });
  });

  it('a MARKET order stops at the PERCENT_PRICE bound and expires the rest; the next one is refused -4131', async () => {
    const { asks } = await depth('SOLUSDT');
    const ticker = (await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'SOLUSDT' })).body as Record<string, string>;
    const mark = (Number(ticker.bidPrice) + Number(ticker.askPrice)) / 2;
    const reachable = asks.filter(([price]) => Number(price) <= mark * 1.05);
    expect(reachable.length).toBeLessThan(asks.length); // the thin book reaches past the bound
    const res = await order({ symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '10000' });
    const taken = reachable.reduce((total, [, size]) => total + Number(size), 0);
    expect(res.body).toMatchObject({ status: 'EXPIRED', executedQty: taken.toFixed(2) });
    expect((await order({ symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '1' })).code).toBe(-4131);
  });
});

describe('resting orders', () => {
  it('a resting order queues behind the size at its price and fills partially from the tape', async () => {
    const { bids } = await depth('BTCUSDT');
    const bid = String(bids[0]?.[0]);
    const placed = await limit('BTCUSDT', 'BUY', 'GTC', bid, '0.500', { newClientOrderId: 'queue-1' });
    expect(placed.body.status).toBe('NEW');
    const executed: number[] = [];
    for (let step = 0; step < 60 && executed.at(-1) !== 0.5; step++) {
      sim.setMid('BTCUSDT', Number(bid) + 0.05); // the same touch, a new book and a new tape
      const q = await api.signed('GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'queue-1' });
      executed.push(Number((q.body as OrderBody).executedQty));
    }
    expect(executed[0]).toBe(0); // the first tape goes to the size queued ahead
    expect(executed.some((e) => e > 0 && e < 0.5)).toBe(true); // partially filled on the way
    expect(new Set(executed).size).toBeGreaterThan(2); // in several trades
  });

  it('GTD is accepted with its goodTillDate (whole seconds, > now + 600 s), else -5040', async () => {
    const { bids } = await depth('ETHUSDT');
    const price = (Number(bids[0]?.[0]) - 5).toFixed(2);
    const goodTill = Date.now() + 3_600_000 + 123;
    const gtd = await limit('ETHUSDT', 'BUY', 'GTD', price, '0.010', { goodTillDate: String(goodTill) });
    expect(gtd.body).toMatchObject({ status: 'NEW', goodTillDate: Math.floor(goodTill / 1000) * 1000 });
    const tooSoon = await limit('ETHUSDT', 'BUY', 'GTD', price, '0.010', { goodTillDate: String(Date.now() + 60_000) });
    expect(tooSoon.code).toBe(-5040);
    const missing = await limit('ETHUSDT', 'BUY', 'GTD', price, '0.010');
    expect(missing.code).toBe(-1102);
  });

  it('a client order id is unique among open orders only: reusable once its order is cancelled', async () => {
    const { bids } = await depth('ETHUSDT');
    const place = () => limit('ETHUSDT', 'BUY', 'GTC', (Number(bids[0]?.[0]) - 5).toFixed(2), '0.010', { newClientOrderId: 'reuse-1' });
    expect((await place()).status).toBe(200);
    expect((await place()).code).toBe(-4116);
    expect((await api.signed('DELETE', '/fapi/v1/order', { symbol: 'ETHUSDT', origClientOrderId: 'reuse-1' })).status).toBe(200);
    const again = await place();
    expect(again.body.status).toBe('NEW');
  });

  it('self-trade prevention: a taker meeting its own resting order expires that order EXPIRED_IN_MATCH', async () => {
    const { asks } = await depth('ETHUSDT');
    const sell = await limit('ETHUSDT', 'SELL', 'GTC', String(asks[0]?.[0]), '0.010', { newClientOrderId: 'stp-maker' });
    expect(sell.body.status).toBe('NEW');
    await order({ symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010' });
    const maker = await api.signed('GET', '/fapi/v1/order', { symbol: 'ETHUSDT', origClientOrderId: 'stp-maker' });
    expect(maker.body).toMatchObject({ status: 'EXPIRED_IN_MATCH', executedQty: '0.000' });
  });
});

describe('PERCENT_PRICE', () => {
  it('is in exchangeInfo; a buy above mark × 1.05 is -4016, a sell below mark × 0.95 is -4024, a buy at half the bid passes', async () => {
    const info = (await api.publicGet('/fapi/v1/exchangeInfo')).body as {
      symbols: { symbol: string; filters: Record<string, unknown>[]; timeInForce: string[] }[];
    };
    const eth = info.symbols.find((s) => s.symbol === 'ETHUSDT');
    expect(eth?.filters.find((f) => f.filterType === 'PERCENT_PRICE')).toEqual({
      filterType: 'PERCENT_PRICE',
      multiplierUp: '1.0500',
      multiplierDown: '0.9500',
      multiplierDecimal: '4',
    });
    expect(eth?.timeInForce).toEqual(['GTC', 'IOC', 'FOK', 'GTX', 'GTD']);
    const ticker = (await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'ETHUSDT' })).body as Record<string, string>;
    const mark = (Number(ticker.bidPrice) + Number(ticker.askPrice)) / 2;
    const at = (side: string, price: number) => limit('ETHUSDT', side, 'GTC', price.toFixed(2), '0.100');
    expect((await at('BUY', mark * 1.06)).code).toBe(-4016);
    expect((await at('SELL', mark * 0.94)).code).toBe(-4024);
    // One bound per side on USDⓈ-M (common-definition): a buy far below the market rests.
    expect((await at('BUY', Number(ticker.bidPrice) * 0.5)).body.status).toBe('NEW');
    expect((await at('SELL', mark * 1.5)).body.status).toBe('NEW');
  });
});

describe('GTD expiry (in process, on a simulated clock: goodTillDate must lie more than 600 s ahead)', () => {
  it('a GTD order rests until its goodTillDate, then expires', () => {
    const rules = deriveRules(defaultSimSymbols[1] ?? fail('no ETHUSDT'));
    const market = new SymbolMarket(rules, createPrng(3), 0);
    const updates: string[] = [];
    const engine = new MatchingEngine(new Map([[rules.symbol, market]]), 100_000, {
      orderUpdate: (o, x) => updates.push(`${x}/${o.status}`),
      positionUpdate: () => undefined,
      fundingUpdate: () => undefined,
    });
    const bid = market.top.bidUnits;
    const params = new Map([
      ['symbol', rules.symbol],
      ['side', 'BUY'],
      ['type', 'LIMIT'],
      ['timeInForce', 'GTD'],
      ['price', formatUnits(bid - 500n * rules.tickUnits, rules.priceScale)],
      ['quantity', '0.100'],
      ['goodTillDate', '700000'],
    ]);
    const { input } = parseNewOrder(params, market, 0);
    const { order } = engine.place('gtd-key', input, { forcePostOnlyReject: false, receivedAt: 0, nowMs: 0 });
    engine.onBookChange(rules.symbol, 699_999);
    expect(order.status).toBe('NEW');
    engine.onBookChange(rules.symbol, 700_000);
    expect(order.status).toBe('EXPIRED');
    expect(updates).toEqual(['NEW/NEW', 'EXPIRED/EXPIRED']);
  });
});

function fail(message: string): never {
  throw new Error(message);
}
