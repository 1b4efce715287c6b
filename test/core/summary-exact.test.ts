import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecisionContext } from '../../src/core/context.js';
import { dictFrom } from '../../src/core/dict.js';
import { numberOfExact, stopLossLevelUsd, valuePosition, valueSession } from '../../src/core/mtm.js';
import type { MarketState, Session } from '../../src/core/state.js';
import { sessionSummary } from '../../src/core/summary.js';
import { quoteOf } from '../../src/core/venues.js';
import type { SessionSummary } from '../../src/contract/session-summary.js';
import type { Exact } from '../../src/model/decimal.js';
import { add, decimalOf, isZero, sub, toNumber, toPrice, toQty, toUsd } from '../../src/model/decimal.js';
import { T0, stateWithPositions, testConfig, withQuote } from './fixtures.js';

// An equity summary shows exact valuations as numbers. It used to write each as a decimal string and read that back
// (toNumber(decimalOf(x))); it now converts the exact value directly (numberOfExact). Both must give the same
// double for every value, and the summary's figures must be the ones the string path built (stringPathFigures).

/** The old path: the exact value written as its decimal, read as a number. */
const viaText = (x: Exact): number => toNumber(decimalOf(x));

const exactArb = fc.record({
  units: fc.oneof(
    fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }),
    // Around the edge of the fast path, and far beyond it.
    fc.bigInt({ min: 2n ** 53n - 4n, max: 2n ** 53n + 4n }).map((u) => (u % 2n === 0n ? u : -u)),
    fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }),
  ),
  scale: fc.integer({ min: 0, max: 30 }),
});

/**
 * The figures of a summary as the string path gave them (before numberOfExact): each held position valued as decimal
 * strings (valuePosition), summed as strings, every figure read as a number at the end.
 */
function stringPathFigures(market: MarketState, session: Session): Record<string, unknown> {
  let unrealized = toUsd(0);
  let gross = toUsd(0);
  const positions: Record<string, unknown> = {};
  const unpricedSymbols: string[] = [];
  for (const [symbol, position] of Object.entries(session.positions)) {
    if (isZero(position.qty)) continue;
    const value = valuePosition(position, quoteOf(market.venues, session.mode, symbol));
    positions[symbol] = value && {
      exitPrice: toNumber(value.exitPrice),
      unrealizedPnlUsd: toNumber(value.unrealizedPnlUsd),
      notionalUsd: toNumber(value.notionalUsd),
      mark: value.exitPrice,
    };
    if (!value) {
      unpricedSymbols.push(symbol);
      continue;
    }
    unrealized = add(unrealized, value.unrealizedPnlUsd);
    gross = add(gross, value.notionalUsd);
  }
  const equityUsd = add(add(session.capitalUsd, add(sub(session.realizedPnlUsd, session.feesUsd), session.fundingUsd)), unrealized);
  const floor = session.stopLossPct === null ? null : stopLossLevelUsd(session.capitalUsd, session.stopLossPct);
  return {
    positions,
    equityUsd: toNumber(equityUsd),
    unrealizedPnlUsd: toNumber(unrealized),
    grossExposureUsd: toNumber(gross),
    unpricedSymbols,
    stopLossDistanceUsd: floor === null ? null : toNumber(sub(equityUsd, floor)),
  };
}

/** The same figures read from a summary. */
function summaryFigures(summary: SessionSummary): Record<string, unknown> {
  const positions = Object.fromEntries(
    Object.entries(summary.positions).map(([symbol, p]) => [
      symbol,
      p.mark === null ? null : { exitPrice: p.exitPrice, unrealizedPnlUsd: p.unrealizedPnlUsd, notionalUsd: p.notionalUsd, mark: p.mark },
    ]),
  );
  const { equityUsd, unrealizedPnlUsd, grossExposureUsd, unpricedSymbols, stopLossDistanceUsd } = summary;
  return { positions, equityUsd, unrealizedPnlUsd, grossExposureUsd, unpricedSymbols, stopLossDistanceUsd };
}

/** A decimal with `scale` places from an integer of units. */
const decimalArb = (min: number, max: number, scale: number): fc.Arbitrary<string> =>
  fc.integer({ min, max }).map((u) => decimalOf({ units: BigInt(u), scale }));

const positionArb = fc.record({
  qty: decimalArb(-2_000_000, 2_000_000, 3),
  entry: decimalArb(1, 1_000_000_000, 2),
  bidTicks: fc.integer({ min: 1, max: 10_000_000 }),
  spreadTicks: fc.integer({ min: 1, max: 5 }),
  quoted: fc.boolean(),
});

describe('equity summary figures from exact values', () => {
  it('numberOfExact is the number the decimal text reads as', () => {
    fc.assert(
      fc.property(exactArb, (x) => {
        expect(Object.is(numberOfExact(x), viaText(x))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('numberOfExact agrees at the edges of its fast path', () => {
    const edges: Exact[] = [
      { units: 0n, scale: 0 },
      { units: 0n, scale: 7 },
      { units: 2n ** 53n, scale: 22 },
      { units: -(2n ** 53n), scale: 22 },
      { units: 2n ** 53n + 1n, scale: 3 },
      { units: 2n ** 53n - 1n, scale: 23 },
      { units: 1n, scale: 22 },
      { units: 1n, scale: 23 },
      { units: 123456789012345678901234567890n, scale: 12 },
      { units: 1n, scale: 400 },
    ];
    for (const x of edges) expect([x, numberOfExact(x)]).toEqual([x, viaText(x)]);
  });

  it("a summary's figures are the ones the decimal strings built, whatever the positions, quotes and booked figures", () => {
    fc.assert(
      fc.property(
        fc.record({
          btc: positionArb,
          eth: positionArb,
          capital: decimalArb(1, 100_000_000, 2),
          realized: decimalArb(-10_000_000, 10_000_000, 4),
          fees: decimalArb(0, 1_000_000, 8),
          funding: decimalArb(-1_000_000, 1_000_000, 8),
          stopLossPct: fc.option(fc.integer({ min: 1, max: 99 }), { nil: null }),
        }),
        ({ btc, eth, capital, realized, fees, funding, stopLossPct }) => {
          let state = stateWithPositions({
            capitalUsd: Number(capital),
            stopLossPct,
            positions: [
              { symbol: 'BTCUSDT', qty: Number(btc.qty), entryPrice: Number(btc.entry) },
              { symbol: 'ETHUSDT', qty: Number(eth.qty), entryPrice: Number(eth.entry) },
            ],
          });
          const quote = (symbol: string, p: typeof btc, tick: number): void => {
            if (!p.quoted) return;
            const bid = Number((p.bidTicks * tick).toFixed(2));
            state = withQuote(state, symbol, bid, Number((bid + p.spreadTicks * tick).toFixed(2)), T0);
          };
          quote('BTCUSDT', btc, 0.1);
          quote('ETHUSDT', eth, 0.01);
          const held = state.durable.sessions.get('u');
          if (!held) throw new Error('no session');
          const session: Session = {
            ...held,
            capitalUsd: toUsd(capital),
            realizedPnlUsd: toUsd(realized),
            feesUsd: toUsd(fees),
            fundingUsd: toUsd(funding),
            positions: {
              ...held.positions,
              ...(held.positions.BTCUSDT ? { BTCUSDT: { ...held.positions.BTCUSDT, qty: toQty(btc.qty), entryPrice: toPrice(btc.entry) } } : {}),
            },
          };
          const ctx = new DecisionContext(state, T0 + 1, testConfig, false);
          const reference = stringPathFigures(state.market, session);
          const summary = sessionSummary(ctx, session);
          expect(summaryFigures(summary)).toEqual(reference);
          // Same symbols in the same order (the summary lists the held positions as the session holds them).
          expect(Object.keys(summary.positions)).toEqual(Object.keys(reference.positions as object));
          // valueSession (now written from the exact valuation) gives the string path's decimals.
          const v = valueSession(session, state.market);
          expect([toNumber(v.equityUsd), toNumber(v.unrealizedPnlUsd), toNumber(v.grossExposureUsd)]).toEqual([
            reference.equityUsd,
            reference.unrealizedPnlUsd,
            reference.grossExposureUsd,
          ]);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it("a session's booked figures and positions are read once per session object, and afresh when it changes", () => {
    const state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'BTCUSDT', qty: 0.1, entryPrice: 60_000 }] });
    const session = state.durable.sessions.get('u') as Session;
    const ctx = new DecisionContext(state, T0, testConfig);
    const first = sessionSummary(ctx, session);
    expect([first.capitalUsd, first.realizedPnlUsd, first.stopLossFloorUsd, first.positions.BTCUSDT?.qty]).toEqual([10_000, 0, 9_500, 0.1]);
    // A changed session is a new object (the fold never writes one in place): its summary shows the change.
    const BTCUSDT = { qty: toQty('0.25'), entryPrice: toPrice('61000') };
    const changed: Session = { ...session, capitalUsd: toUsd(20_000), realizedPnlUsd: toUsd('12.5'), feesUsd: toUsd('0.75'), positions: dictFrom({ BTCUSDT }) };
    const second = sessionSummary(ctx, changed);
    expect([second.capitalUsd, second.realizedPnlUsd, second.feesUsd, second.stopLossFloorUsd]).toEqual([20_000, 12.5, 0.75, 19_000]);
    expect([second.positions.BTCUSDT?.qty, second.positions.BTCUSDT?.entryPrice]).toEqual([0.25, 61_000]);
    // And the first session still reads as it did.
    expect(sessionSummary(ctx, session)).toEqual(first);
  });

  it("lists a position on any symbol as an own key of the summary, '__proto__' and 'constructor' included", () => {
    const state = stateWithPositions({ capitalUsd: 10_000, positions: [{ symbol: 'BTCUSDT', qty: 0.1, entryPrice: 60_000 }] });
    const held = state.durable.sessions.get('u') as Session;
    const position = held.positions.BTCUSDT as Session['positions'][string];
    const session: Session = {
      ...held,
      positions: dictFrom([
        ['__proto__', position],
        ['constructor', position],
        ['BTCUSDT', position],
      ]),
    };
    const summary = sessionSummary(new DecisionContext(state, T0, testConfig, false), session);
    expect(Object.keys(summary.positions)).toEqual(['__proto__', 'constructor', 'BTCUSDT']);
    expect(Object.getPrototypeOf(summary.positions)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(summary.positions, '__proto__')?.value).toMatchObject({ qty: 0.1, exitPrice: null });
    expect(JSON.stringify(summary.positions)).toMatch(/^\{"__proto__":\{"qty":0\.1,/);
  });
});
