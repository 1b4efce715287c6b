import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Worker } from 'node:worker_threads';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeAccount, MarketData } from '../../src/exchange/port.js';
import type { VenueConnector } from '../../src/exchange/venue-connector.js';
import { createVenueConnector } from '../../src/exchange/venue-connector.js';
import type { BookTicker } from '../../src/model/market.js';
import type { OrderSnapshot } from '../../src/model/orders.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { waitFor } from '../support/wait.js';
import { createConsoleLogger } from '../../src/util/logger.js';
import type { ThreadedConnector } from '../../src/exchange/threaded/connector.js';
import { createThreadedConnector } from '../../src/exchange/threaded/connector.js';
import type { RateBudget } from '../../src/exchange/rate-budget.js';
import { memoryRateBudget } from '../../src/exchange/rate-budget.js';
import { RequestNotSentError } from '../../src/exchange/sign-guard.js';
import { BudgetRefusal } from '../../src/exchange/binance/own-requests.js';
import { notSentCode } from '../../src/model/orders.js';
import type { WireError } from '../../src/exchange/threaded/wire-error.js';
import { fromWireError, toWireError } from '../../src/exchange/threaded/wire-error.js';

// The exchange adapter as the services wire it with QE_ADAPTER_THREAD=worker (issue 12): in its own thread, against the simulator over
// HTTP and WebSocket. The engine thread must make no HTTP request of its own (Node's http.client.request.start
// channel is per thread: it sees only requests sent from the thread that subscribed, here the test's, which is the
// engine's), and every port method must answer as the in-thread adapter does.

let seq = 0;
const cid = (): string => `th${Date.now().toString(36)}-${++seq}`;

describe('the venue connector with its accounts in their own thread', () => {
  let sim: SimulatorHandle;
  let connector: VenueConnector;
  let market: MarketData;
  let account: ExchangeAccount;
  const fatal: Error[] = [];
  const mainThreadRequests: string[] = [];
  const onRequest = (message: unknown): void => {
    const request = (message as { request?: { method?: string; path?: string } }).request;
    mainThreadRequests.push(`${request?.method ?? '?'} ${request?.path ?? '?'}`);
  };

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 23, priceStepMs: 20 });
    subscribe('http.client.request.start', onRequest);
    connector = createVenueConnector({
      restBaseUrl: sim.restBaseUrl,
      wsBaseUrl: sim.wsBaseUrl,
      restTimeoutMs: 2_000,
      adapterThread: 'worker',
      onFatal: (error) => fatal.push(error),
    });
    market = connector.marketData();
    account = connector.account({ apiKey: 'threaded-test', apiSecret: 'secret' });
  });
  afterAll(async () => {
    unsubscribe('http.client.request.start', onRequest);
    await connector.close();
    await sim.close();
  });

  it('sends no account request from the engine thread (the book-ticker feed stays on it)', async () => {
    const filters = await market.getSymbolFilters(['BTCUSDT', 'ETHUSDT']);
    expect(filters.BTCUSDT?.stepSize).toBe('0.001');
    const ticks: BookTicker[] = [];
    const sub = await market.subscribeBookTicker(['BTCUSDT', 'ETHUSDT'], (t) => ticks.push(t));
    await waitFor('ticks for both symbols', () => ticks.some((t) => t.symbol === 'BTCUSDT') && ticks.some((t) => t.symbol === 'ETHUSDT'));
    await sub.close();
    const updates: OrderSnapshot[] = [];
    const stream = await account.subscribeOrderUpdates((o) => updates.push(o));
    const id = cid();
    const buy = await account.placeOrder({ clientOrderId: id, symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', reduceOnly: false });
    expect(buy.kind).toBe('accepted');
    expect(await account.getPositions()).not.toEqual([]);
    await waitFor('the fill on the user stream', () => updates.some((u) => u.clientOrderId === id && u.status === 'FILLED'));
    await stream.close();
    // Market data only: exchangeInfo and the public book-ticker stream. No signed request, no clock, no listen key.
    expect(mainThreadRequests.filter((r) => !/^GET \/(fapi\/v1\/exchangeInfo|public\/stream)/.test(r))).toEqual([]);
    expect(fatal).toEqual([]);
  });
});

describe('the threaded connector against the simulator', () => {
  let sim: SimulatorHandle;
  let connector: ThreadedConnector;
  let market: MarketData;
  let account: ExchangeAccount;
  let worker: Worker | null = null;
  const fatal: Error[] = [];
  const budget = memoryRateBudget();
  const admitted: string[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 24, priceStepMs: 20 });
    // The engine thread's budget, asked by the worker's proxy: every admit it makes is seen here.
    const counted: RateBudget = { ...budget, admit: (lane, nowMs, cost) => (admitted.push(lane), budget.admit(lane, nowMs, cost)) };
    connector = createThreadedConnector({
      restBaseUrl: sim.restBaseUrl,
      wsBaseUrl: sim.wsBaseUrl,
      restTimeoutMs: 5_000,
      rateBudget: counted,
      onFatal: (error) => fatal.push(error),
      onWorker: (started) => (worker = started),
    });
    market = connector.marketData();
    account = connector.account({ apiKey: 'threaded-test-2', apiSecret: 'secret' });
  });
  afterAll(async () => {
    await connector.close();
    await sim.close();
  });

  it('places, queries, lists and cancels orders; positions; protective stops', async () => {
    const ticks: BookTicker[] = [];
    const sub = await market.subscribeBookTicker(['BTCUSDT'], (t) => ticks.push(t));
    const t = await waitFor('a tick', () => ticks[ticks.length - 1]);
    await sub.close();
    const id = cid();
    const passive = await account.placeOrder({
      clientOrderId: id,
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.002',
      price: (Math.floor(t.bid * 0.98 * 10) / 10).toFixed(1),
      timeInForce: 'GTX',
      reduceOnly: false,
    });
    expect(passive.kind === 'accepted' && passive.order.status).toBe('NEW');
    expect(await account.queryOrder('BTCUSDT', id)).toMatchObject({ kind: 'found', order: { clientOrderId: id, status: 'NEW' } });
    expect(await account.queryOrder('BTCUSDT', 'never-sent')).toEqual({ kind: 'not_found' });
    expect((await account.getOpenOrders(['BTCUSDT'])).map((o) => o.clientOrderId)).toContain(id);
    expect(await account.cancelOrder('BTCUSDT', id)).toMatchObject({ kind: 'canceled', order: { status: 'CANCELED' } });
    expect(await account.cancelOrder('BTCUSDT', id)).toMatchObject({ kind: 'rejected', code: -2011 });

    const buy = await account.placeOrder({ clientOrderId: cid(), symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.050', reduceOnly: false });
    expect(buy.kind === 'accepted' && buy.order.status).toBe('FILLED');
    expect((await account.getPositions()).find((p) => p.symbol === 'ETHUSDT')?.positionAmt).toMatch(/^0\.05/);
    const stopId = cid();
    expect(await account.placeProtectiveStop({ clientAlgoId: stopId, symbol: 'ETHUSDT', side: 'SELL', triggerPrice: '1.00' })).toEqual({ kind: 'accepted' });
    expect((await account.listProtectiveStops(['ETHUSDT'])).map((s) => s.clientAlgoId)).toContain(stopId);
    expect(await account.cancelProtectiveStop('ETHUSDT', stopId)).toEqual({ kind: 'accepted' });
    expect((await account.listProtectiveStops()).map((s) => s.clientAlgoId)).not.toContain(stopId);
    const exit = await account.placeOrder({ clientOrderId: cid(), symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.050', reduceOnly: true });
    expect(exit.kind === 'accepted' && exit.order.status).toBe('FILLED');
    // The worker's own requests (the clock, listen keys) were admitted by the engine thread's budget.
    expect(admitted.length).toBeGreaterThan(0);
  });

  it('pushes user-stream order updates on the engine thread, in order', async () => {
    const updates: OrderSnapshot[] = [];
    const positions: string[] = [];
    const sub = await account.subscribeOrderUpdates((o) => updates.push(o), undefined, { onPositions: (p) => positions.push(...p.map((x) => x.symbol)) });
    const id = cid();
    await account.placeOrder({ clientOrderId: id, symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', reduceOnly: false });
    const filled = await waitFor('a FILLED update', () => updates.find((u) => u.clientOrderId === id && u.status === 'FILLED'));
    expect(filled.executedQty).toMatch(/^0\.01/);
    const mine = updates.filter((u) => u.clientOrderId === id).map((u) => u.status);
    expect(mine.indexOf('NEW')).toBeLessThan(mine.indexOf('FILLED'));
    await waitFor('an ACCOUNT_UPDATE position', () => positions.includes('ETHUSDT'));
    await sub.close();
    const seen = updates.length;
    await account.placeOrder({ clientOrderId: cid(), symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.010', reduceOnly: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(updates.length).toBe(seen); // closed: nothing more delivered
  });

  it('rejects on the engine thread with the worker’s error message', async () => {
    await expect(market.getSymbolFilters(['NOPEUSDT'])).rejects.toThrow(/NOPEUSDT/);
  });

  it('answers a call over its bound as not sent, outcome or RequestNotSentError as the port says', async () => {
    const tight = createThreadedConnector({
      restBaseUrl: sim.restBaseUrl,
      wsBaseUrl: sim.wsBaseUrl,
      onFatal: (e) => fatal.push(e),
      limits: { maxCallsInFlight: 1 },
    });
    const a = tight.account({ apiKey: 'threaded-bound', apiSecret: 'secret' });
    const first = a.getPositions();
    await expect(a.getPositions()).rejects.toBeInstanceOf(RequestNotSentError);
    expect(await a.placeOrder({ clientOrderId: cid(), symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', reduceOnly: false })).toMatchObject({
      kind: 'rejected',
      code: notSentCode,
    });
    expect(await first).toEqual([]);
    await tight.close();
    expect(fatal).toEqual([]);
  });

  it('answers every pending call and calls onFatal when the worker dies mid-call', async () => {
    sim.faults.latencyMs = 3_000; // the calls below are in flight when the worker goes
    const placing = account.placeOrder({ clientOrderId: cid(), symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', reduceOnly: false });
    const reading = account.getPositions();
    const canceling = account.cancelOrder('ETHUSDT', 'whatever');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await worker?.terminate();
    sim.faults.latencyMs = 0;
    expect(await placing).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/died/) as unknown });
    expect(await canceling).toMatchObject({ kind: 'unknown' });
    await expect(reading).rejects.toThrow(/died/);
    expect(fatal).toHaveLength(1);
    // Later calls are answered at once, never hang.
    expect((await account.queryOrder('ETHUSDT', 'x')).kind).toBe('unknown');
    await expect(market.getSymbolFilters(['BTCUSDT'])).rejects.toThrow(/died/);
  });
});

describe('the adapter thread logs', () => {
  it('through the engine thread’s logger, at its level, marked as the exchange thread’s', async () => {
    const lines: string[] = [];
    const logger = createConsoleLogger('threaded-log-test', 'warn', (line) => lines.push(line));
    // Nothing listens there: the clock sync before the signed read fails, and the adapter warns of it.
    const connector = createThreadedConnector({ restBaseUrl: 'http://127.0.0.1:9', wsBaseUrl: 'ws://127.0.0.1:9', logger, onFatal: () => undefined });
    const account = connector.account({ apiKey: 'threaded-log', apiSecret: 'secret' });
    await expect(account.getPositions()).rejects.toThrow(/positions unavailable/);
    await waitFor('the warning', () => lines.find((l) => l.includes('clock sync failed')));
    expect(lines.find((l) => l.includes('clock sync failed'))).toMatch(/WARN clock sync failed .*thread=exchange/);
    expect(lines.some((l) => l.includes('DEBUG'))).toBe(false);
    await connector.close();
  });
});

describe('errors across the thread boundary', () => {
  it('keeps the class of known errors and the message, name and fields of any', async () => {
    const channel = new MessageChannel();
    const received = new Promise<WireError[]>((resolve) => channel.port2.once('message', resolve));
    const refusal = new BudgetRefusal('a full minute', 1_500);
    channel.port1.postMessage([toWireError(new RequestNotSentError('slots full')), toWireError(refusal), toWireError(new Error('plain'))]);
    const [notSent, budgetRefusal, plain] = (await received).map(fromWireError);
    channel.port1.close();
    expect(notSent).toBeInstanceOf(RequestNotSentError);
    expect(notSent).toMatchObject({ name: 'RequestNotSentError', message: 'slots full' });
    expect(budgetRefusal).toBeInstanceOf(BudgetRefusal);
    expect(budgetRefusal).toMatchObject({ name: 'BudgetRefusal', message: refusal.message, retryAfterMs: 1_500 });
    expect(plain).toBeInstanceOf(Error);
    expect(plain?.message).toBe('plain');
  });

  it('refuses a sign guard loudly (the cluster path keeps the in-thread connector)', () => {
    expect(() => createThreadedConnector({ signGuard: { recvWindowMs: (ms) => ms }, onFatal: () => undefined })).toThrow(/signGuard/);
  });
});
