import { describe, expect, it } from 'vitest';
import { noFaults } from '../../src/deterministic-sim/faults.js';
import { SimExchange } from '../../src/deterministic-sim/sim-exchange.js';
import type { SymbolMarket } from '../../src/paper-exchange/price-process.js';
import { createPrng } from '../../src/paper-exchange/price-process.js';

// Conditional orders trigger on the contract price, the last trade's (workingType CONTRACT_PRICE, Binance's default):
// in a backtest with aggTrades, a print through the trigger fires a protective stop even while the touch stays on the
// safe side of it; a print short of the trigger does not.

const symbol = 'BTCUSDT';
// BTCUSDT on the paper exchange: tick 0.10 (price units of 0.01), step 0.001 (quantity units of 0.001).
const bid = 5_000_000n; // 50 000.00
const ask = 5_000_010n; // 50 000.10
const key = 'stop-prints';

/** A 0.010 BTC long and a SELL STOP_MARKET (close position) at `trigger`, the touch at 50 000.00 / 50 000.10. */
function longUnderStop(trigger: string): SimExchange {
  const ex = new SimExchange(createPrng(1), () => 0, { ...noFaults });
  ex.quote(symbol, bid, ask);
  ex.matching.place(
    key,
    { symbol, side: 'BUY', type: 'MARKET', qtyUnits: 10n, reduceOnly: false, clientOrderId: 'entry' },
    { forcePostOnlyReject: false, receivedAt: 0, nowMs: 0 },
  );
  expect(ex.matching.position(key, symbol).qtyUnits).toBe(10n);
  const params = new Map([
    ['algoType', 'CONDITIONAL'],
    ['symbol', symbol],
    ['side', 'SELL'],
    ['type', 'STOP_MARKET'],
    ['triggerPrice', trigger],
    ['closePosition', 'true'],
  ]);
  ex.algo.place(key, params, ex.markets.get(symbol) as SymbolMarket, 0);
  return ex;
}

const soldAt = (priceUnits: bigint) => ({ priceUnits, qtyUnits: 1_000n, buyerIsMaker: true });

describe('protective stops on trade prints', () => {
  it('a print at the trigger fires the stop while the bid is still above it', () => {
    const ex = longUnderStop('49990.0');
    ex.marketTrade(symbol, soldAt(4_999_000n));
    expect(ex.algo.all()[0]?.status).toBe('FINISHED');
    expect(ex.matching.position(key, symbol).qtyUnits).toBe(0n);
  });

  it('a print short of the trigger leaves it waiting', () => {
    const ex = longUnderStop('49990.0');
    ex.marketTrade(symbol, soldAt(4_999_010n));
    expect(ex.algo.all()[0]?.status).toBe('NEW');
    expect(ex.matching.position(key, symbol).qtyUnits).toBe(10n);
  });
});
