import { describe, expect, it } from 'vitest';
import { MatchingEngine } from '../../src/paper-exchange/matching.js';
import { isOpen } from '../../src/paper-exchange/order-open.js';
import type { SimOrder } from '../../src/paper-exchange/matching.js';
import { parseNewOrder } from '../../src/paper-exchange/order-validation.js';
import { createPrng, SymbolMarket } from '../../src/paper-exchange/price-process.js';
import { defaultSimSymbols } from '../../src/paper-exchange/server.js';
import { deriveRules } from '../../src/paper-exchange/symbols.js';

// The simulator's open orders of an account (GET /fapi/v1/openOrders, the margin resting orders hold, a margin-type
// change's check) come from an index of the orders still open, not a pass over every order the account ever placed:
// that pass made each order's margin check cost more the longer the account traded. The index must list what the pass
// listed, in the same (placement) order, through fills, partial fills, cancels, expiries, restores and account resets.

/** What openOrders answered before the index: every order of the account, in placement order, still open. */
function byFullPass(engine: MatchingEngine, key: string, symbol?: string): number[] {
  if (!engine.hasAccount(key)) return [];
  return [...engine.account(key).orders.values()].filter((o) => isOpen(o) && (symbol === undefined || o.symbol === symbol)).map((o) => o.orderId);
}

const ids = (orders: readonly SimOrder[]): number[] => orders.map((o) => o.orderId);

describe('the open orders of an account', () => {
  it('are what a pass over all its orders finds, through 3 000 random steps', () => {
    const symbols = [defaultSimSymbols[0], defaultSimSymbols[1]].map((spec) => deriveRules(spec ?? fail('no symbol')));
    const markets = new Map(symbols.map((rules, i) => [rules.symbol, new SymbolMarket(rules, createPrng(11 + i), 0)]));
    const engine = new MatchingEngine(markets, 1_000_000, { orderUpdate: () => undefined, positionUpdate: () => undefined, fundingUpdate: () => undefined });
    const random = createPrng(2026);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const keys = ['a', 'b', 'c'];
    let nowMs = 0;
    let checked = 0;
    for (let step = 0; step < 3_000; step += 1) {
      nowMs += 1_000;
      const key = pick(keys);
      const symbol = pick([...markets.keys()]);
      const market = markets.get(symbol) as SymbolMarket;
      const roll = random();
      if (roll < 0.45) {
        // A limit order near the touch (it may cross and fill at once, rest, or be refused as post-only), or a market one.
        const { tickUnits, priceScale, spec } = market.rules;
        const step = Number(spec.stepSize);
        // At least the notional bound's quantity at a price 10 % below the start, a few steps more at random.
        const minSteps = Math.ceil(Number(spec.minNotional) / (spec.startPrice * 0.9) / step);
        const side = random() < 0.5 ? 'BUY' : 'SELL';
        const { bidUnits, askUnits } = market.top;
        const mid = (bidUnits + askUnits) / 2n;
        const price = ((mid + BigInt(Math.floor(random() * 21) - 10) * tickUnits) / tickUnits) * tickUnits;
        const type = random() < 0.15 ? 'MARKET' : 'LIMIT';
        const tif = pick(['GTC', 'GTC', 'GTX', 'IOC']);
        const params = new Map<string, string>([
          ['symbol', symbol],
          ['side', side],
          ['type', type],
          ['quantity', (step * (minSteps + Math.floor(random() * 5))).toFixed(8)],
          ...(type === 'LIMIT'
            ? ([
                ['price', (Number(price) / 10 ** priceScale).toFixed(priceScale)],
                ['timeInForce', tif],
              ] as [string, string][])
            : []),
          ...(random() < 0.2 ? [['reduceOnly', 'true'] as [string, string]] : []),
        ]);
        try {
          const { input } = parseNewOrder(params, market, nowMs);
          engine.place(key, input, { forcePostOnlyReject: false, receivedAt: nowMs, nowMs });
        } catch {
          // Refused (post-only crossing, reduce-only with nothing to reduce, a bound): no order, as on Binance.
        }
      } else if (roll < 0.6) {
        const open = engine.openOrders(key);
        if (open.length > 0) {
          const order = pick(open);
          engine.cancel(key, order.symbol, { orderId: order.orderId }, nowMs);
        }
      } else if (roll < 0.63) {
        engine.cancelAll(key, symbol, nowMs);
      } else if (roll < 0.65) {
        engine.dropAccount(key);
      } else {
        // The price moves: resting orders it trades through fill.
        market.step(nowMs);
        engine.onBookChange(symbol, nowMs);
      }
      for (const k of keys) {
        expect(ids(engine.openOrders(k)), `step ${step} ${k}`).toEqual(byFullPass(engine, k));
        expect(ids(engine.openOrders(k, symbol)), `step ${step} ${k} ${symbol}`).toEqual(byFullPass(engine, k, symbol));
        checked += byFullPass(engine, k).length;
      }
    }
    // The steps left orders open often enough to check something, and filled some.
    expect(checked).toBeGreaterThan(1_000);
    expect(engine.allOrders().some((o) => o.status === 'FILLED' && o.type === 'LIMIT')).toBe(true);

    // Restored one by one, oldest first (a restart), the index lists the same.
    const restored = new MatchingEngine(markets, 1_000_000, { orderUpdate: () => undefined, positionUpdate: () => undefined, fundingUpdate: () => undefined });
    for (const order of engine.allOrders()) restored.restoreOrder({ ...order });
    for (const k of keys) expect(ids(restored.openOrders(k))).toEqual(byFullPass(engine, k));
  });
});

function fail(message: string): never {
  throw new Error(message);
}
