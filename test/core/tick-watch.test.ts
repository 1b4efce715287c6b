import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Input } from '../../src/core/decide.js';
import { decide } from '../../src/core/decide.js';
import type { WalEvent } from '../../src/core/events.js';
import { foldEvents } from '../../src/core/events.js';
import { stopLossBreached } from '../../src/core/mtm.js';
import { indexDifferences, indexOf } from '../../src/core/state-index.js';
import type { EngineState } from '../../src/core/state.js';
import { emptyDurableState, emptyMarketState } from '../../src/core/state.js';
import { toPrice, toQty, toUsd } from '../../src/model/decimal.js';
import { T0, testConfig, testFilters, withQuote } from './fixtures.js';

// A tick looks only at the holders its quote can change anything for (tick-watch.ts): a quiet tick at 300 holders
// read 300 sessions and ran the stop-loss test on each; it must read none. And the cut must be exact: the tick
// engages the kill switch of exactly the sessions a look at every holder would (stop-loss crossed, horizon passed,
// another held symbol's feed gone stale), in session order.

interface Holder {
  qty: number;
  entry: number;
  stopLossPct: number | null;
  horizonMs: number | null;
  /** Also holds ETHUSDT (a complex holder: every tick looks at it). */
  alsoEth: boolean;
}

function stateOf(holders: readonly Holder[]): EngineState {
  const events: WalEvent[] = [{ type: 'engine.initialized', epoch: 'tick-watch' }];
  for (const [i, h] of holders.entries()) {
    const userId = `u${i}`;
    events.push({
      type: 'session.started',
      userId,
      mode: 'paper',
      capitalUsd: toUsd(10_000),
      stopLossPct: h.stopLossPct,
      horizonDeadlineMs: h.horizonMs,
      atMs: T0,
    });
    events.push({ type: 'position.adopted', userId, symbol: 'BTCUSDT', qty: toQty(h.qty), entryPrice: toPrice(h.entry), reason: 'test' });
    if (h.alsoEth) events.push({ type: 'position.adopted', userId, symbol: 'ETHUSDT', qty: toQty(1), entryPrice: toPrice(2_000), reason: 'test' });
  }
  const durable = foldEvents(emptyDurableState(), events, testConfig);
  const base: EngineState = { durable, market: emptyMarketState(T0, { paper: testFilters, live: testFilters }) };
  return withQuote(withQuote(base, 'BTCUSDT', 100, 100.1, T0), 'ETHUSDT', 2_000, 2_000.5, T0);
}

const tick = (bid: number, ask: number): Input => ({ kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid, ask, time: T0 } });

const engaged = (wal: readonly WalEvent[]): string[] => wal.flatMap((e) => (e.type === 'kill_switch.engaged' ? [e.userId] : []));

describe('a tick', () => {
  it('reads no session when its quote crosses nobody’s stop-loss', () => {
    // 300 longs of 1 BTCUSDT at 100 under a 50 % stop-loss of 10 000: the bound is far below any quote near 100.
    const state = stateOf(Array.from({ length: 300 }, () => ({ qty: 1, entry: 100, stopLossPct: 50, horizonMs: null, alsoEth: false })));
    indexOf(state.durable);
    let reads = 0;
    const sessions = state.durable.sessions;
    const get = sessions.get.bind(sessions);
    sessions.get = (key: string) => {
      reads += 1;
      return get(key);
    };
    const decision = decide(state, tick(100.2, 100.3), T0 + 1_000, testConfig);
    expect(engaged(decision.wal)).toEqual([]);
    expect(reads).toBe(0);
  });

  it('engages exactly the kill switches a look at every holder would', () => {
    const holder = fc.record({
      qty: fc.constantFrom(-2, -1, -0.5, 0.5, 1, 2),
      entry: fc.integer({ min: 90, max: 110 }),
      stopLossPct: fc.option(fc.constantFrom(0.1, 1, 2, 5), { nil: null }),
      horizonMs: fc.option(fc.constantFrom(T0 + 1_000, T0 + 2_000, T0 + 3_000), { nil: null }),
      alsoEth: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(holder, { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.integer({ min: -3, max: 3 }),
        // At, just before and past the horizons.
        fc.constantFrom(0, 999, 1_000, 2_000, 2_999, 3_000),
        fc.boolean(),
        (holders, pivot, offsetCents, afterMs, ethStale) => {
          // The quote lands a few cents from one holder's breach price (entry − loss allowed / qty), where a cut by
          // price that is off by one cent shows.
          const p = holders[pivot % holders.length] as Holder;
          const breachAt = p.entry - (10_000 * (p.stopLossPct ?? 1)) / 100 / p.qty;
          const bidCents = Math.min(20_000, Math.max(1_000, Math.round(breachAt * 100) + offsetCents - (p.qty < 0 ? 10 : 0)));
          const bid = bidCents / 100;
          const ask = (bidCents + 10) / 100;
          let state = stateOf(holders);
          // The ETHUSDT feed last heard long ago: its holders' stale-feed rule fires on a BTCUSDT tick too.
          if (ethStale) state = withQuote(state, 'ETHUSDT', 2_000, 2_000.5, T0 - testConfig.staleFeedMs - 10_000);
          const nowMs = T0 + afterMs;
          const after = withQuote(state, 'BTCUSDT', bid, ask, nowMs);
          const expected: string[] = [];
          // In the order the state's sessions enumerate (shard by shard), as the rules visit them.
          for (const userId of after.durable.sessions.keys()) {
            const session = after.durable.sessions.get(userId);
            const h = holders[Number(userId.slice(1))];
            if (!session || !h) throw new Error(`no session ${userId}`);
            const horizon = h.horizonMs !== null && nowMs >= h.horizonMs;
            const stale = h.alsoEth && ethStale;
            if (horizon || stale || stopLossBreached(session, after.market)) expected.push(userId);
          }
          const decision = decide(state, tick(bid, ask), nowMs, testConfig);
          expect(engaged(decision.wal)).toEqual(expected);
          expect(indexDifferences(decision.state.durable)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
