import { describe, expect, it } from 'vitest';
import { noFaults } from '../../src/deterministic-sim/faults.js';
import { SimExchange } from '../../src/deterministic-sim/sim-exchange.js';
import { createPrng } from '../../src/paper-exchange/price-process.js';

// The in-process exchange a backtest trades on draws its books' depth and its fault rolls from separate streams
// (src/deterministic-sim/sim-exchange.ts, faultRandom). Shared, every request's fault rolls (taken even at zero rates)
// moved the depth drawn at the next quote: the same quotes gave other depth, and so other taker fills, depending on
// how many requests the strategy had made in between. A backtest and its live replay could then not agree.

const symbol = 'BTCUSDT';
const quotes: ReadonlyArray<readonly [bigint, bigint]> = [
  [500_000n, 500_010n],
  [500_020n, 500_030n],
  [499_990n, 500_000n],
];

/** The first levels of both sides after each quote, with `requestsBetween` order queries made before each. */
async function depthSeen(requestsBetween: number): Promise<string[]> {
  const ex = new SimExchange(createPrng(42), () => 0, { ...noFaults }, { maxTouchTradeFraction: 0 });
  const account = ex.account('depth-test');
  const seen: string[] = [];
  for (const [bid, ask] of quotes) {
    for (let i = 0; i < requestsBetween; i += 1) expect((await account.queryOrder(symbol, `none-${i}`)).kind).toBe('not_found');
    ex.quote(symbol, bid, ask);
    const depth = ex.markets.get(symbol)?.depth;
    if (!depth) throw new Error('no book');
    seen.push(JSON.stringify([depth.levelsOf('bids', 5), depth.levelsOf('asks', 5)], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  }
  return seen;
}

describe('the backtest exchange’s depth', () => {
  it('is the same for the same quotes however many requests came between them', async () => {
    const quiet = await depthSeen(0);
    expect(await depthSeen(3)).toEqual(quiet);
    expect(await depthSeen(25)).toEqual(quiet);
  });
});
