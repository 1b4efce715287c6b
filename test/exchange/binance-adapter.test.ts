import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { ExchangeAccount, ExchangeConnector, MarketData } from '../../src/exchange/port.js';
import type { BookTicker } from '../../src/model/market.js';
import type { OrderSnapshot } from '../../src/model/orders.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { waitFor } from '../support/wait.js';

// The Binance adapter, through the real `binance` SDK, against the simulator over HTTP and WebSocket.
// The point is outcome classification: rejected only when the exchange said no; unknown whenever it may
// have said yes; adoption when a retried id turns out to exist already.

let seq = 0;
const cid = (): string => `t${Date.now().toString(36)}-${++seq}`;

describe('Binance adapter against the simulator', () => {
  let sim: SimulatorHandle;
  let connector: ExchangeConnector;
  let market: MarketData;
  let account: ExchangeAccount;
  const key = 'adapter-test';

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 21, priceStepMs: 20 });
    connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 500 });
    market = connector.marketData();
    account = connector.account({ apiKey: key, apiSecret: 'secret' });
  });
  afterAll(async () => {
    await account.close();
    await market.close();
    await sim.close();
  });

  const touch = async (symbol: string): Promise<BookTicker> => {
    const ticks: BookTicker[] = [];
    const sub = await market.subscribeBookTicker([symbol], (t) => ticks.push(t));
    const t = await waitFor('a tick', () => ticks[ticks.length - 1]);
    await sub.close();
    return t;
  };

  it('loads symbol filters', async () => {
    const filters = await market.getSymbolFilters(['BTCUSDT', 'ETHUSDT']);
    expect(filters.BTCUSDT?.stepSize).toBe('0.001');
    expect(Number(filters.BTCUSDT?.tickSize)).toBeCloseTo(0.1, 12);
    expect(Number(filters.ETHUSDT?.minNotional)).toBeGreaterThan(0);
    await expect(market.getSymbolFilters(['NOPEUSDT'])).rejects.toThrow(/NOPEUSDT/);
  });

  it('rests a passive post-only order and rejects a crossing one with -5022', async () => {
    const t = await touch('BTCUSDT');
    const passive = await account.placeOrder({
      clientOrderId: cid(),
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.002',
      price: (Math.floor(t.bid * 0.99 * 10) / 10).toFixed(1),
      timeInForce: 'GTX',
      reduceOnly: false,
    });
    expect(passive.kind).toBe('accepted');
    expect(passive.kind === 'accepted' && passive.order.status).toBe('NEW');
    const crossing = await account.placeOrder({
      clientOrderId: cid(),
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.002',
      price: (Math.ceil(t.ask * 1.01 * 10) / 10).toFixed(1),
      timeInForce: 'GTX',
      reduceOnly: false,
    });
    expect(crossing).toMatchObject({ kind: 'rejected', code: -5022 });
  });

  it('fills a market order, shows the position, and exits reduce-only', async () => {
    const buy = await account.placeOrder({ clientOrderId: cid(), symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.050', reduceOnly: false });
    expect(buy.kind === 'accepted' && buy.order.status).toBe('FILLED');
    const positions = await account.getPositions();
    expect(positions.find((p) => p.symbol === 'ETHUSDT')?.positionAmt).toMatch(/^0\.05/);
    const exit = await account.placeOrder({ clientOrderId: cid(), symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.050', reduceOnly: true });
    expect(exit.kind === 'accepted' && exit.order.status).toBe('FILLED');
    expect((await account.getPositions()).find((p) => p.symbol === 'ETHUSDT')).toBeUndefined();
    const more = await account.placeOrder({ clientOrderId: cid(), symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.050', reduceOnly: true });
    expect(more).toMatchObject({ kind: 'rejected', code: -2022 });
  });

  it('reports a timeout after accept as unknown, and the query by id finds the order', async () => {
    sim.faults.timeoutAfterAcceptCount = 1;
    sim.faults.latencyMs = 700; // beyond the 500 ms client timeout
    const id = cid();
    const outcome = await account.placeOrder({ clientOrderId: id, symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '1.00', reduceOnly: false });
    sim.faults.latencyMs = 0;
    expect(outcome.kind).toBe('unknown');
    const found = await account.queryOrder('SOLUSDT', id);
    expect(found.kind === 'found' && found.order.status).toBe('FILLED');
  });

  it('treats 5xx as unknown and 429 as rejected', async () => {
    sim.faults.http5xxCount = 1;
    expect((await account.placeOrder({ clientOrderId: cid(), symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '1.00', reduceOnly: false })).kind).toBe(
      'unknown',
    );
    sim.faults.rateLimit429Count = 1;
    expect(
      await account.placeOrder({ clientOrderId: cid(), symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '1.00', reduceOnly: false }),
    ).toMatchObject({ kind: 'rejected', code: -1003 });
  });

  it('adopts an order whose id already exists (-4116) instead of failing', async () => {
    const id = cid();
    const req = { clientOrderId: id, symbol: 'SOLUSDT', side: 'SELL' as const, type: 'MARKET' as const, quantity: '1.00', reduceOnly: false };
    const first = await account.placeOrder(req);
    const again = await account.placeOrder(req);
    expect(first.kind).toBe('accepted');
    expect(again.kind === 'accepted' && again.order.clientOrderId).toBe(id);
  });

  it('says not_found for an id the exchange never saw, and cancels by client id', async () => {
    expect(await account.queryOrder('BTCUSDT', 'never-sent')).toEqual({ kind: 'not_found' });
    const t = await touch('BTCUSDT');
    const id = cid();
    await account.placeOrder({
      clientOrderId: id,
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.002',
      price: (Math.floor(t.bid * 0.98 * 10) / 10).toFixed(1),
      timeInForce: 'GTX',
      reduceOnly: false,
    });
    expect((await account.getOpenOrders()).some((o) => o.clientOrderId === id)).toBe(true);
    const cancel = await account.cancelOrder('BTCUSDT', id);
    expect(cancel.kind === 'canceled' && cancel.order.status).toBe('CANCELED');
    expect(await account.cancelOrder('BTCUSDT', id)).toMatchObject({ kind: 'rejected', code: -2011 });
  });

  it('streams bookTicker and resumes after the connection drops', async () => {
    const ticks: BookTicker[] = [];
    const sub = await market.subscribeBookTicker(['BTCUSDT', 'ETHUSDT'], (t) => ticks.push(t));
    await waitFor('ticks for both symbols', () => ticks.some((t) => t.symbol === 'BTCUSDT') && ticks.some((t) => t.symbol === 'ETHUSDT'));
    expect(ticks.every((t) => t.ask >= t.bid)).toBe(true);
    sim.faults.dropWsConnections();
    const seen = ticks.length;
    await waitFor('ticks after the drop', () => ticks.length > seen + 5);
    await sub.close();
  });

  it('pushes order updates from the user-data stream on a fill', async () => {
    const updates: OrderSnapshot[] = [];
    const sub = await account.subscribeOrderUpdates((o) => updates.push(o));
    const id = cid();
    await account.placeOrder({ clientOrderId: id, symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', reduceOnly: false });
    const filled = await waitFor('a FILLED update', () => updates.find((u) => u.clientOrderId === id && u.status === 'FILLED'));
    expect(filled.executedQty).toMatch(/^0\.01/);
    await sub.close();
  });
});
