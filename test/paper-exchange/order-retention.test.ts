import { describe, expect, it } from 'vitest';
import { noFaults } from '../../src/deterministic-sim/faults.js';
import { SimExchange } from '../../src/deterministic-sim/sim-exchange.js';
import { createPrng } from '../../src/paper-exchange/price-process.js';
import { orderFoundMs, unfilledFinalOrderFoundMs } from '../../src/model/orders.js';
import { foundByQuery } from '../../src/paper-exchange/order-retention.js';

// Binance's Query Order does not find an order cancelled or expired without a fill once 3 days have passed since its
// creation, nor any order after 90 days (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Order).
// The simulator answered every order forever.

const symbol = 'BTCUSDT';
const key = 'retention';

describe('which orders a query still finds', () => {
  it('a cancelled or expired order with no fill for 3 days, any order for 90, an open one always within them', () => {
    const at = (status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED', filled: bigint, ageMs: number): boolean =>
      foundByQuery({ status, executedQtyUnits: filled, timeMs: 1_000 }, 1_000 + ageMs);
    for (const status of ['CANCELED', 'EXPIRED'] as const) {
      expect(at(status, 0n, unfilledFinalOrderFoundMs)).toBe(true);
      expect(at(status, 0n, unfilledFinalOrderFoundMs + 1)).toBe(false);
      expect(at(status, 5n, unfilledFinalOrderFoundMs + 1)).toBe(true);
    }
    for (const status of ['NEW', 'PARTIALLY_FILLED', 'FILLED'] as const) expect(at(status, 0n, orderFoundMs)).toBe(true);
    for (const status of ['NEW', 'FILLED', 'CANCELED'] as const) expect(at(status, 5n, orderFoundMs + 1)).toBe(false);
  });

  it("the in-process account's query answers not found for a cancelled order past 3 days, and finds a filled one", async () => {
    let nowMs = 1_000;
    const ex = new SimExchange(createPrng(3), () => nowMs, { ...noFaults });
    ex.quote(symbol, 5_000_000n, 5_000_010n);
    const account = ex.account(key);
    // A bid well below the touch rests; a market buy fills.
    ex.matching.place(
      key,
      { symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', priceUnits: 4_000_000n, qtyUnits: 10n, reduceOnly: false, clientOrderId: 'resting' },
      {
        forcePostOnlyReject: false,
        receivedAt: nowMs,
        nowMs,
      },
    );
    ex.matching.place(
      key,
      { symbol, side: 'BUY', type: 'MARKET', qtyUnits: 10n, reduceOnly: false, clientOrderId: 'filled' },
      { forcePostOnlyReject: false, receivedAt: nowMs, nowMs },
    );
    ex.matching.cancel(key, symbol, { clientOrderId: 'resting' }, nowMs);
    nowMs += unfilledFinalOrderFoundMs;
    expect((await account.queryOrder(symbol, 'resting')).kind).toBe('found');
    nowMs += 1;
    expect(await account.queryOrder(symbol, 'resting')).toEqual({ kind: 'not_found' });
    expect((await account.queryOrder(symbol, 'filled')).kind).toBe('found');
  });
});
