import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { AlgoOrder } from '../../src/paper-exchange/algo-orders.js';
import { AlgoBook } from '../../src/paper-exchange/algo-orders.js';
import { MatchingEngine } from '../../src/paper-exchange/matching.js';
import { isOpen } from '../../src/paper-exchange/order-open.js';
import type { SimOrder } from '../../src/paper-exchange/matching.js';
import { parseNewOrder } from '../../src/paper-exchange/order-validation.js';
import { algoFoundByQuery, algoIsOpen, foundByQuery } from '../../src/paper-exchange/order-retention.js';
import { createPrng, SymbolMarket } from '../../src/paper-exchange/price-process.js';
import { defaultSimSymbols, startSimulator } from '../../src/paper-exchange/server.js';
import { deriveRules } from '../../src/paper-exchange/symbols.js';
import { apiClient, errorCode, field, storeKinds } from './helpers.js';

// The simulator server forgets the orders Binance no longer finds (order-forgetting.ts): before, it kept every order an
// account ever placed, in memory and in its store. Two exchanges get the same orders, cancels and prices over 200
// simulated days: one keeps every order (as a backtest's does), the other forgets. After each placement the one that
// forgets holds exactly the other's orders that a query still finds, or that are still open.

const hourMs = 3_600_000;
const noListener = { orderUpdate: () => undefined, positionUpdate: () => undefined, fundingUpdate: () => undefined };

function exchangeOf(forgetsOrders: boolean): { engine: MatchingEngine; markets: Map<string, SymbolMarket>; forgotten: SimOrder[] } {
  const symbols = [defaultSimSymbols[0], defaultSimSymbols[1]].map((spec) => deriveRules(spec ?? fail('no symbol')));
  const markets = new Map(symbols.map((rules, i) => [rules.symbol, new SymbolMarket(rules, createPrng(31 + i), 0)]));
  const forgotten: SimOrder[] = [];
  const listener = { ...noListener, ordersForgotten: (orders: readonly SimOrder[]) => forgotten.push(...orders) };
  return { engine: new MatchingEngine(markets, 10_000_000, listener, { forgetsOrders }), markets, forgotten };
}

const held = (engine: MatchingEngine, key: string): number[] => (engine.hasAccount(key) ? [...engine.account(key).orders.keys()] : []);

describe('orders Binance no longer finds', () => {
  it('are forgotten by the server exchange, and only they, over 200 simulated days', () => {
    const keeps = exchangeOf(false);
    const forgets = exchangeOf(true);
    const random = createPrng(90);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const keys = ['a', 'b'];
    const symbols = [...keeps.markets.keys()];
    let nowMs = 0;
    let placements = 0;
    let compared = 0;
    while (nowMs < 200 * 24 * hourMs) {
      // Mostly minutes apart, now and then a day or two (an engine away): the 3-day and 90-day edges are crossed often.
      nowMs += random() < 0.02 ? Math.floor(random() * 48 * hourMs) : Math.floor(random() * 40 * 60_000);
      const key = pick(keys);
      const symbol = pick(symbols);
      const roll = random();
      if (roll < 0.5) {
        const market = keeps.markets.get(symbol) as SymbolMarket;
        const { tickUnits, priceScale, spec } = market.rules;
        const step = Number(spec.stepSize);
        const minSteps = Math.ceil(Number(spec.minNotional) / (spec.startPrice * 0.5) / step);
        const { bidUnits, askUnits } = market.top;
        const price = (((bidUnits + askUnits) / 2n + BigInt(Math.floor(random() * 41) - 20) * tickUnits) / tickUnits) * tickUnits;
        const type = random() < 0.2 ? 'MARKET' : 'LIMIT';
        const params = new Map<string, string>([
          ['symbol', symbol],
          ['side', random() < 0.5 ? 'BUY' : 'SELL'],
          ['type', type],
          ['quantity', (step * (minSteps + Math.floor(random() * 3))).toFixed(8)],
          ...(type === 'LIMIT'
            ? ([
                ['price', (Number(price) / 10 ** priceScale).toFixed(priceScale)],
                ['timeInForce', pick(['GTC', 'GTC', 'GTX', 'IOC'])],
              ] as [string, string][])
            : []),
        ]);
        const results = [keeps, forgets].map(({ engine, markets }) => {
          try {
            const { input } = parseNewOrder(params, markets.get(symbol) as SymbolMarket, nowMs);
            return engine.place(key, input, { forcePostOnlyReject: false, receivedAt: nowMs, nowMs }).order.orderId;
          } catch (error) {
            return error instanceof Error ? error.message : String(error);
          }
        });
        expect(results[1]).toEqual(results[0]);
        placements += 1;
        for (const k of keys) {
          const findable = held(keeps.engine, k).filter((id) => {
            const order = keeps.engine.account(k).orders.get(id) as SimOrder;
            return isOpen(order) || foundByQuery(order, nowMs);
          });
          expect(held(forgets.engine, k), `day ${(nowMs / 24 / hourMs).toFixed(2)} ${k}`).toEqual(findable);
          compared += findable.length;
        }
      } else if (roll < 0.75) {
        const open = keeps.engine.openOrders(key);
        if (open.length > 0 && random() < 0.8) {
          const order = pick(open);
          for (const { engine } of [keeps, forgets]) engine.cancel(key, order.symbol, { orderId: order.orderId }, nowMs);
        }
      } else {
        for (const { engine, markets } of [keeps, forgets]) {
          (markets.get(symbol) as SymbolMarket).step(nowMs);
          engine.onBookChange(symbol, nowMs);
        }
      }
    }
    expect(placements).toBeGreaterThan(2_000);
    expect(compared).toBeGreaterThan(10_000);
    // Both rules came into play: unfilled cancels past 3 days, and filled orders past 90.
    expect(forgets.forgotten.some((o) => o.executedQtyUnits === 0n)).toBe(true);
    expect(forgets.forgotten.some((o) => o.executedQtyUnits > 0n)).toBe(true);
    expect(forgets.forgotten.every((o) => !isOpen(o))).toBe(true);
    // The server's list of all orders is the other's without the forgotten ones, in arrival order.
    const forgottenIds = new Set(forgets.forgotten.map((o) => o.orderId));
    expect(forgottenIds.size).toBe(forgets.forgotten.length);
    expect(forgets.engine.allOrders().map((o) => o.orderId)).toEqual(
      keeps.engine
        .allOrders()
        .map((o) => o.orderId)
        .filter((id) => !forgottenIds.has(id)),
    );
  });

  it('are forgotten by the server exchange, conditional ones too, over 200 simulated days', () => {
    const twin = (forgetsOrders: boolean): { book: AlgoBook; engine: MatchingEngine; markets: Map<string, SymbolMarket> } => {
      const { engine, markets } = exchangeOf(false);
      return { book: new AlgoBook(engine, () => undefined, { forgetsOrders }), engine, markets };
    };
    const keeps = twin(false);
    const forgets = twin(true);
    const random = createPrng(91);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    let nowMs = 0;
    let placements = 0;
    const ids = (orders: readonly AlgoOrder[]): number[] => orders.map((o) => o.algoId);
    while (nowMs < 200 * 24 * hourMs) {
      nowMs += random() < 0.02 ? Math.floor(random() * 48 * hourMs) : Math.floor(random() * 40 * 60_000);
      const key = pick(['a', 'b']);
      const roll = random();
      if (roll < 0.5) {
        const market = keeps.markets.get('ETHUSDT') as SymbolMarket;
        const { bidUnits } = market.top;
        const trigger = (Number(bidUnits) / 100 - 1 - Math.floor(random() * 30)).toFixed(2);
        const params = new Map([
          ['algoType', 'CONDITIONAL'],
          ['symbol', 'ETHUSDT'],
          ['side', 'SELL'],
          ['type', 'STOP_MARKET'],
          ['triggerPrice', trigger],
          ['quantity', '0.050'],
        ]);
        const results = [keeps, forgets].map(({ book, markets }) => {
          try {
            return book.place(key, params, markets.get('ETHUSDT') as SymbolMarket, nowMs).algoId;
          } catch (error) {
            return error instanceof Error ? error.message : String(error);
          }
        });
        expect(results[1]).toEqual(results[0]);
        placements += 1;
        const findable = keeps.book.all().filter((o) => algoIsOpen(o) || algoFoundByQuery(o, nowMs));
        expect(ids(forgets.book.all()), `day ${(nowMs / 24 / hourMs).toFixed(2)}`).toEqual(ids(findable));
      } else if (roll < 0.8) {
        const open = keeps.book.open(key);
        if (open.length > 0) {
          const { algoId } = pick(open);
          for (const { book } of [keeps, forgets]) book.cancel(key, { algoId }, nowMs);
        }
      } else {
        // A long now and then: the next drop fires its stops (FINISHED, kept 90 days), or expires them with nothing held.
        if (random() < 0.3) {
          for (const { engine, markets } of [keeps, forgets]) {
            const market = markets.get('ETHUSDT') as SymbolMarket;
            const params = new Map([
              ['symbol', 'ETHUSDT'],
              ['side', 'BUY'],
              ['type', 'MARKET'],
              ['quantity', '0.050'],
            ]);
            engine.place(key, parseNewOrder(params, market, nowMs).input, { forcePostOnlyReject: false, receivedAt: nowMs, nowMs });
          }
        }
        for (const { engine, book, markets } of [keeps, forgets]) {
          const market = markets.get('ETHUSDT') as SymbolMarket;
          market.step(nowMs);
          engine.onBookChange('ETHUSDT', nowMs);
          book.onBookChange(market, nowMs);
        }
      }
    }
    expect(placements).toBeGreaterThan(2_000);
    // Both rules came into play: cancels past 3 days, fired ones past 90 (and stops resting 90 days were kept).
    const unfound = new Set(
      keeps.book
        .all()
        .filter((o) => !algoFoundByQuery(o, nowMs))
        .map((o) => o.status),
    );
    expect([...unfound].sort()).toEqual(['CANCELED', 'FINISHED', 'NEW']);
  });

  it('keeps an order open past 90 days until it ends, then forgets it', () => {
    const { engine, markets, forgotten } = exchangeOf(true);
    const symbol = 'ETHUSDT';
    const market = markets.get(symbol) as SymbolMarket;
    const place = (nowMs: number, extra: [string, string][]): SimOrder => {
      const params = new Map<string, string>([['symbol', symbol], ['side', 'BUY'], ['quantity', '0.050'], ...extra]);
      return engine.place('a', parseNewOrder(params, market, nowMs).input, { forcePostOnlyReject: false, receivedAt: nowMs, nowMs }).order;
    };
    // Far below the book: it rests (the price does not move here).
    const resting = place(0, [
      ['type', 'LIMIT'],
      ['timeInForce', 'GTC'],
      ['price', '1500.00'],
    ]);
    const dayMs = 24 * hourMs;
    place(91 * dayMs, [['type', 'MARKET']]);
    expect(isOpen(resting)).toBe(true);
    expect(held(engine, 'a')).toContain(resting.orderId);
    engine.cancel('a', symbol, { orderId: resting.orderId }, 92 * dayMs);
    place(92 * dayMs + 1, [['type', 'MARKET']]);
    expect(held(engine, 'a')).not.toContain(resting.orderId);
    expect(forgotten.map((o) => o.orderId)).toEqual([resting.orderId]);
  });
});

describe('the simulator server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qe-sim-forget-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const stores = storeKinds(dir, 'forgetting.db');

  it.each(stores)('forgets the orders Binance no longer finds, and its store (%s) drops their rows', async (_kind, storeOf) => {
    // The server's clock is the wall's: here a fake Date, moved days on (its timers stay real, and do not fire).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-03-01T00:00:00Z') });
    const dayMs = 24 * hourMs;
    const open = storeOf();
    let state = open();
    const first = await startSimulator({ state, priceStepMs: hourMs });
    const api = apiClient(first.restBaseUrl, 'forget-key');
    const order = async (params: Record<string, string>): Promise<number> => {
      const res = await api.signed('POST', '/fapi/v1/order', { symbol: 'ETHUSDT', quantity: '0.050', ...params });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return field(res, 'orderId') as number;
    };
    const storedIds = (): number[] => (state.load()?.orders ?? []).map((row) => (JSON.parse(row) as { orderId: number }).orderId);
    const query = async (orderId: number): Promise<number | undefined> =>
      errorCode(await api.signed('GET', '/fapi/v1/order', { symbol: 'ETHUSDT', orderId: String(orderId) }));
    try {
      // A conditional order far from the price, cancelled (never triggered), and its place in the store.
      const algo = async (clientAlgoId: string): Promise<number> => {
        const res = await api.signed('POST', '/fapi/v1/algoOrder', {
          algoType: 'CONDITIONAL',
          symbol: 'ETHUSDT',
          side: 'SELL',
          type: 'STOP_MARKET',
          triggerPrice: '1000.00',
          quantity: '0.050',
          clientAlgoId,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return field(res, 'algoId') as number;
      };
      const storedAlgoIds = (): number[] => (state.load()?.algoOrders ?? []).map((row) => (JSON.parse(row) as { algoId: number }).algoId);
      const stop = await algo('stop-1');
      expect((await api.signed('DELETE', '/fapi/v1/algoOrder', { symbol: 'ETHUSDT', algoId: String(stop) })).status).toBe(200);
      expect(storedAlgoIds()).toEqual([stop]);
      // Far below the book: it rests, and is cancelled with no fill. A market order fills.
      const cancelled = await order({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '1500.00' });
      expect((await api.signed('DELETE', '/fapi/v1/order', { symbol: 'ETHUSDT', orderId: String(cancelled) })).status).toBe(200);
      const filled = await order({ side: 'BUY', type: 'MARKET' });
      expect(storedIds()).toEqual([cancelled, filled]);

      // Past 3 days the cancelled one is not found, and the next order takes it out of the exchange and its store.
      vi.setSystemTime(Date.now() + 3 * dayMs + 1_000);
      expect(await query(cancelled)).toBe(-2013);
      const closing = await order({ side: 'SELL', type: 'MARKET' });
      expect(storedIds()).toEqual([filled, closing]);
      expect(first.ordersOf('forget-key').map((o) => o.orderId)).toEqual([filled, closing]);
      expect(await query(filled)).toBeUndefined();
      // The cancelled conditional order likewise: not found, and gone once the next one is placed.
      expect(errorCode(await api.signed('GET', '/fapi/v1/algoOrder', { algoId: String(stop) }))).toBe(-2013);
      expect(storedAlgoIds()).toEqual([stop]);
      const stop2 = await algo('stop-2');
      expect(storedAlgoIds()).toEqual([stop2]);

      // Past 90 days the first filled one goes too (the closing one is 3 days younger).
      vi.setSystemTime(Date.now() + 87 * dayMs);
      const last = await order({ side: 'BUY', type: 'MARKET' });
      expect(storedIds()).toEqual([closing, last]);
      expect(await query(filled)).toBe(-2013);
    } finally {
      await first.close();
    }
    // A restart holds what the store kept, and goes on forgetting.
    state = open();
    const second = await startSimulator({ state, priceStepMs: hourMs });
    try {
      expect(second.ordersOf('forget-key')).toHaveLength(2);
      vi.setSystemTime(Date.now() + 91 * dayMs);
      const res = await apiClient(second.restBaseUrl, 'forget-key').signed('POST', '/fapi/v1/order', {
        symbol: 'ETHUSDT',
        side: 'SELL',
        type: 'MARKET',
        quantity: '0.050',
      });
      expect(res.status).toBe(200);
      expect(storedIds()).toEqual([field(res, 'orderId')]);
    } finally {
      await second.close();
      vi.useRealTimers();
    }
  });
});

function fail(message: string): never {
  throw new Error(message);
}
