import { describe, expect, it } from 'vitest';
import type { AlgoOrder } from '../../src/paper-exchange/algo-orders.js';
import { AlgoBook } from '../../src/paper-exchange/algo-orders.js';
import { MatchingEngine } from '../../src/paper-exchange/matching.js';
import type { SimOrder } from '../../src/paper-exchange/matching.js';
import { parseNewOrder } from '../../src/paper-exchange/order-validation.js';
import { createPrng, SymbolMarket } from '../../src/paper-exchange/price-process.js';
import { defaultSimSymbols } from '../../src/paper-exchange/server.js';
import { deriveRules } from '../../src/paper-exchange/symbols.js';

// The simulator's conditional orders are indexed: those still NEW per symbol (what a price change may fire), and per
// account by id, by client id and open. Before, every price change of every symbol passed over every conditional
// order ever placed, and a backtest with a stop-loss (which moves its protective stop at each position change) cost
// more per quote the longer it ran. Through random placements, cancels, fills, price moves and account resets, the
// indexes must answer what a pass over every order answers, and a price change must fire the NEW orders it crossed.

const noListener = { orderUpdate: () => undefined, positionUpdate: () => undefined, fundingUpdate: () => undefined };

/** Whether the touch has crossed the order's trigger (a sell judged on the bid, a buy on the ask): it should have fired. */
function crossedNow(order: AlgoOrder, market: SymbolMarket): boolean {
  const atOrBelow = order.orderType.startsWith('STOP') === (order.side === 'SELL');
  const price = order.side === 'SELL' ? market.top.bidUnits : market.top.askUnits;
  return atOrBelow ? price <= order.triggerUnits : price >= order.triggerUnits;
}

describe('conditional orders, indexed', () => {
  it('answer as a pass over all of them does, and fire every one a price change crosses, through 4 000 random steps', () => {
    const symbols = [defaultSimSymbols[0], defaultSimSymbols[1]].map((spec) => deriveRules(spec ?? fail('no symbol')));
    const markets = new Map(symbols.map((rules, i) => [rules.symbol, new SymbolMarket(rules, createPrng(51 + i), 0)]));
    // Wired as the server wires them: an order a trigger placed turns its conditional order TRIGGERED, then FINISHED.
    const listener = {
      ...noListener,
      orderUpdate: (order: SimOrder, execType: string, _trade: unknown, atMs: number) => {
        if (execType === 'NEW') book.onOrderAccepted(order.clientOrderId, order.orderId, atMs);
        book.onOrderUpdate(order, atMs);
      },
    };
    const engine = new MatchingEngine(markets, 10_000_000, listener);
    const book: AlgoBook = new AlgoBook(engine);
    const random = createPrng(16);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const keys = ['a', 'b', 'c'];
    let nowMs = 0;
    let fired = 0;
    let placed = 0;
    const dropped: AlgoOrder[] = [];
    for (let step = 0; step < 4_000; step += 1) {
      nowMs += 1_000;
      const key = pick(keys);
      const symbol = pick([...markets.keys()]);
      const market = markets.get(symbol) as SymbolMarket;
      const { tickUnits, priceScale, spec } = market.rules;
      const minQty = Math.ceil(Number(spec.minNotional) / (spec.startPrice * 0.5) / Number(spec.stepSize)) * Number(spec.stepSize);
      const priceText = (units: bigint): string => (Number(units) / 10 ** priceScale).toFixed(priceScale);
      const roll = random();
      if (roll < 0.15) {
        const params = new Map([
          ['symbol', symbol],
          ['side', pick(['BUY', 'SELL'])],
          ['type', 'MARKET'],
          ['quantity', minQty.toFixed(8)],
        ]);
        engine.place(key, parseNewOrder(params, market, nowMs).input, { forcePostOnlyReject: false, receivedAt: nowMs, nowMs });
      } else if (roll < 0.55) {
        const { bidUnits, askUnits } = market.top;
        const trigger = ((bidUnits + askUnits) / 2n / tickUnits + BigInt(Math.floor(random() * 61) - 30)) * tickUnits;
        const type = pick(['STOP_MARKET', 'TAKE_PROFIT_MARKET', 'STOP', 'TAKE_PROFIT']);
        const limit = type === 'STOP' || type === 'TAKE_PROFIT';
        const closePosition = !limit && random() < 0.5;
        const params = new Map<string, string>([
          ['algoType', 'CONDITIONAL'],
          ['symbol', symbol],
          ['side', pick(['BUY', 'SELL'])],
          ['type', type],
          ['triggerPrice', priceText(trigger)],
          ...(limit ? [['price', priceText(trigger + BigInt(Math.floor(random() * 11) - 5) * tickUnits)] as [string, string]] : []),
          ...(closePosition ? [['closePosition', 'true'] as [string, string]] : [['quantity', minQty.toFixed(8)] as [string, string]]),
          ...(random() < 0.3 ? [['clientAlgoId', `c${Math.floor(random() * 400)}`] as [string, string]] : []),
        ]);
        try {
          book.place(key, params, market, nowMs);
          placed += 1;
        } catch {
          // Refused (would trigger at once, a client id used before, a limit price off the bounds): as on Binance.
        }
      } else if (roll < 0.75) {
        const open = book.open(key);
        if (open.length > 0) {
          const order = pick(open);
          book.cancel(key, random() < 0.5 ? { algoId: order.algoId } : { clientAlgoId: order.clientAlgoId }, nowMs);
        }
      } else if (roll < 0.76) {
        // A reset: the account's conditional orders are gone, never to fire.
        dropped.push(...book.open(key));
        book.dropAccount(key);
        engine.dropAccount(key);
      } else {
        market.step(nowMs);
        engine.onBookChange(symbol, nowMs);
        // Crossed by the new touch: each fires (or expires), unless an order fired before it moved the touch back.
        const crossed = book.all().filter((o) => o.status === 'NEW' && o.symbol === symbol && crossedNow(o, market));
        book.onBookChange(market, nowMs);
        for (const order of crossed) expect(order.status !== 'NEW' || !crossedNow(order, market), `step ${step} order ${order.algoId}`).toBe(true);
        fired += crossed.filter((o) => o.status !== 'NEW').length;
      }
      for (const k of keys) {
        const mine = book.all().filter((o) => o.accountKey === k);
        expect(book.open(k)).toEqual(mine.filter((o) => o.status === 'NEW'));
        expect(book.open(k, symbol)).toEqual(mine.filter((o) => o.status === 'NEW' && o.symbol === symbol));
        const some = mine[Math.floor(random() * mine.length)];
        if (some !== undefined) {
          expect(book.find(k, { algoId: some.algoId })).toBe(some);
          expect(book.find(k, { clientAlgoId: some.clientAlgoId })).toBe(mine.find((o) => o.clientAlgoId === some.clientAlgoId));
        }
        expect(book.find(k, { algoId: 1 })).toBeUndefined();
      }
    }
    expect(dropped.length).toBeGreaterThan(10);
    expect(dropped.filter((o) => o.status !== 'NEW')).toEqual([]);
    expect(placed).toBeGreaterThan(500);
    expect(fired).toBeGreaterThan(100);
  });
});

function fail(message: string): never {
  throw new Error(message);
}
