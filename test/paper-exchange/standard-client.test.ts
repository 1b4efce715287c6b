import { USDMClient, WebsocketClient } from 'binance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';

// Issue 16: a standard client (the `binance` npm package, tiagosiebler, unmodified) does in paper what it does on
// Binance: signed REST with a configured key pair, conditional orders, history, market data, and market streams.
type Rec = Record<string, unknown>;
const apiKey = 'std-client-key';
const apiSecret = 'std-client-secret';
let sim: SimulatorHandle;
let client: USDMClient;

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 25, seed: 31, credentials: { [apiKey]: apiSecret }, fundingRateBps: 1, fundingIntervalMs: 300 });
  client = new USDMClient({ baseUrl: sim.restBaseUrl, api_key: apiKey, api_secret: apiSecret, beautifyResponses: false, disableTimeSync: true });
});
afterAll(async () => {
  await sim.close();
});

const codeOf = async (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => 'ok',
    (e: unknown) => (e as { code?: unknown }).code,
  );

describe('a standard Binance client against the paper exchange', () => {
  it('is refused with a wrong secret (-1022) or an unknown key (-2015)', async () => {
    const wrongSecret = new USDMClient({ baseUrl: sim.restBaseUrl, api_key: apiKey, api_secret: 'nope', disableTimeSync: true });
    expect(await codeOf(wrongSecret.getBalanceV3())).toBe(-1022);
    const unknownKey = new USDMClient({ baseUrl: sim.restBaseUrl, api_key: 'other', api_secret: apiSecret, disableTimeSync: true });
    expect(await codeOf(unknownKey.getBalanceV3())).toBe(-2015);
  });

  it('trades, then reads its orders back: allOrders, openOrder', async () => {
    await client.submitNewOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: 0.01 });
    const mark = Number(((await client.getMarkPrice({ symbol: 'BTCUSDT' })) as unknown as Rec).markPrice);
    const price = (Math.floor((mark * 0.97) / 0.1) * 0.1).toFixed(1);
    const resting = (await client.submitNewOrder({
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: 0.01,
      price: Number(price),
    })) as unknown as Rec;
    const open = (await client.getCurrentOpenOrder({ symbol: 'BTCUSDT', orderId: Number(resting.orderId) })) as unknown as Rec;
    expect(open).toMatchObject({ status: 'NEW', type: 'LIMIT' });
    const all = (await client.getAllOrders({ symbol: 'BTCUSDT' })) as unknown as Rec[];
    expect(all.map((o) => o.status)).toEqual(['FILLED', 'NEW']);
    await client.cancelOrder({ symbol: 'BTCUSDT', orderId: Number(resting.orderId) });
    expect(await codeOf(client.getCurrentOpenOrder({ symbol: 'BTCUSDT', orderId: Number(resting.orderId) }))).toBe(-2013);
  });

  it('places a TAKE_PROFIT_MARKET and a STOP_MARKET through the algo API, queries and cancels them', async () => {
    const mark = Number(((await client.getMarkPrice({ symbol: 'BTCUSDT' })) as unknown as Rec).markPrice);
    const at = (f: number): number => Number((Math.floor((mark * f) / 0.1) * 0.1).toFixed(1));
    const tp = (await client.submitNewAlgoOrder({
      algoType: 'CONDITIONAL',
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'TAKE_PROFIT_MARKET',
      triggerPrice: at(1.1),
      closePosition: 'true',
    })) as unknown as Rec;
    await client.submitNewAlgoOrder({
      algoType: 'CONDITIONAL',
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'STOP_MARKET',
      triggerPrice: at(0.9),
      closePosition: 'true',
    });
    expect(((await client.getAlgoOrder({ algoId: Number(tp.algoId) })) as unknown as Rec).orderType).toBe('TAKE_PROFIT_MARKET');
    await client.cancelAllAlgoOpenOrders({ symbol: 'BTCUSDT' });
    const all = (await client.getAllAlgoOrders({ symbol: 'BTCUSDT' })) as unknown as Rec[];
    expect(all.map((o) => o.algoStatus)).toEqual(['CANCELED', 'CANCELED']);
  });

  it('reads market data: klines, aggTrades, recent trades, 24 h ticker, price ticker, funding history', async () => {
    await new Promise((resolve) => setTimeout(resolve, 700)); // a few price steps and funding times
    const klines = (await client.getKlines({ symbol: 'BTCUSDT', interval: '1m', limit: 5 })) as unknown as unknown[][];
    expect(klines.length).toBeGreaterThan(0);
    expect(klines[0]?.length).toBe(12);
    const agg = (await client.getAggregateTrades({ symbol: 'BTCUSDT', limit: 3 })) as unknown as Rec[];
    expect(agg).toHaveLength(3);
    expect(Object.keys(agg[0] ?? {}).sort()).toEqual(['T', 'a', 'f', 'l', 'm', 'nq', 'p', 'q']); // nq: the page's normal quantity (no RPI)
    expect(((await client.getRecentTrades({ symbol: 'BTCUSDT', limit: 2 })) as unknown as Rec[]).length).toBe(2);
    const day = (await client.get24hrChangeStatistics({ symbol: 'BTCUSDT' })) as unknown as Rec;
    expect(Number(day.count)).toBeGreaterThan(0);
    expect(((await client.getSymbolPriceTicker({ symbol: 'BTCUSDT' })) as unknown as Rec).symbol).toBe('BTCUSDT');
    const funding = (await client.getFundingRateHistory({ symbol: 'BTCUSDT' })) as unknown as Rec[];
    expect(funding.length).toBeGreaterThan(0);
    expect(funding[0]).toMatchObject({ symbol: 'BTCUSDT', fundingRate: '0.00010000' });
  });

  it('receives aggTrade, markPrice@1s, miniTicker and the diff depth through its WebsocketClient', async () => {
    const ws = new WebsocketClient({ wsUrl: sim.wsBaseUrl, beautify: false });
    const seen = new Set<string>();
    const all = ['btcusdt@aggTrade', 'btcusdt@markPrice@1s', 'btcusdt@miniTicker'];
    const done = new Promise<void>((resolve) => {
      ws.on('message', (message: unknown) => {
        const m = message as { stream?: string; data?: Rec } & Rec;
        const event = (m.data ?? m) as Rec;
        if (typeof event.e === 'string') seen.add(event.e);
        if (['aggTrade', 'markPriceUpdate', '24hrMiniTicker', 'depthUpdate'].every((e) => seen.has(e))) resolve();
      });
    });
    try {
      await ws.subscribe(all, 'usdmMarket');
      await ws.subscribe(['btcusdt@depth'], 'usdmPublic');
      await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`only saw ${[...seen].join(', ')}`)), 5_000))]);
    } finally {
      ws.closeAll(true);
    }
    expect([...seen]).toEqual(expect.arrayContaining(['aggTrade', 'markPriceUpdate', '24hrMiniTicker', 'depthUpdate']));
  });
});
