import { describe, expect, it } from 'vitest';
import { hasIndex, indexDifferences, indexOf, ordersOf, someOpenOrChangedOrderOf, someOrderOf } from '../../src/core/state-index.js';
import { isTerminal } from '../../src/core/orders.js';
import { CoreDriver, orderRecordOf, placed } from './fixtures.js';
import { SharedDict } from '../../src/core/shared-dict.js';
import type { DurableState, Order } from '../../src/core/state.js';
import { emptyDurableState } from '../../src/core/state.js';

// The simulation's check that the indexes the fold keeps agree with a full scan (deterministic-sim/invariants.ts)
// must be able to fail: a kept index that drifted from the state is reported, one kept by the fold is not.

function tradingDriver(): CoreDriver {
  const d = new CoreDriver();
  d.tick('BTCUSDT', 50_000, 50_001);
  for (const userId of ['a', 'b']) d.command({ id: `s-${userId}`, userId, type: 'session.start', mode: 'paper', capitalUsd: 20_000, stopLossPct: 5 });
  const routed = d.command({ id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.4 }] });
  const first = placed(routed)[0];
  if (first) d.fill(first.order.clientOrderId, 50_000);
  d.command({ id: 'stop-b', userId: 'b', type: 'session.stop' });
  return d;
}

describe('state index check', () => {
  it('finds no difference in the index the fold kept decision after decision', () => {
    const d = tradingDriver();
    expect(hasIndex(d.state.durable)).toBe(true);
    expect(indexDifferences(d.state.durable)).toEqual([]);
  });

  it('reports a kept index that drifted from the state', () => {
    const d = tradingDriver();
    const index = indexOf(d.state.durable);
    index.busy.add('ghost');
    index.holdersBySymbol.get('BTCUSDT')?.clear();
    const differences = indexDifferences(d.state.durable);
    expect(differences.some((m) => m.startsWith('busy:'))).toBe(true);
    expect(differences.some((m) => m.startsWith('holdersBySymbol:'))).toBe(true);
  });

  it('answers someOrderOf as ordersOf(...).some would, for every user, symbol and test', () => {
    const d = tradingDriver();
    const tests = [(o: { status: string }) => o.status === 'FILLED', (o: { status: string }) => o.status !== 'FILLED', () => true, () => false];
    let yes = 0;
    for (const userId of ['a', 'b', 'nobody'])
      for (const symbol of ['BTCUSDT', 'ETHUSDT'])
        for (const test of [...tests, isTerminal]) {
          const expected = ordersOf(d.state.durable, userId, symbol).some(test);
          expect(someOrderOf(d.state.durable, userId, symbol, test)).toBe(expected);
          if (expected) yes += 1;
        }
    expect(yes).toBeGreaterThan(2); // the state holds orders of both users: not a comparison of empty answers
  });

  it('answers someOpenOrChangedOrderOf as a scan of every retained order would, before, at and after each update', () => {
    const d = tradingDriver();
    const orders = d.state.durable.orders.values();
    const times = [null, ...new Set(orders.flatMap((o) => [o.updatedAtMs - 1, o.updatedAtMs, o.updatedAtMs + 1]))];
    const changes = [() => true, () => false, (o: { filledQty: string }) => o.filledQty !== '0'];
    let skipped = 0;
    let yes = 0;
    for (const userId of ['a', 'b', 'nobody'])
      for (const symbol of ['BTCUSDT', 'ETHUSDT'])
        for (const sinceMs of times)
          for (const changed of changes) {
            const expected = ordersOf(d.state.durable, userId, symbol).some(
              (o) => !isTerminal(o) || (sinceMs !== null && o.updatedAtMs >= sinceMs && changed(o)),
            );
            expect(someOpenOrChangedOrderOf(d.state.durable, userId, symbol, sinceMs, changed)).toBe(expected);
            if (expected) yes += 1;
            const latest = indexOf(d.state.durable).latestUpdateByUserSymbol.get(`${userId}\u0000${symbol}`);
            if (sinceMs === null || latest === undefined || latest < sinceMs) skipped += 1;
          }
    // Both answers, and both ways to them: the scan of the pair's orders and the look at the open ones only.
    expect(yes).toBeGreaterThan(2);
    expect(skipped).toBeGreaterThan(2);
    expect(skipped).toBeLessThan(3 * 2 * times.length * changes.length);
  });
});

describe('the orders of a pair updated since a time', () => {
  it('are found among the latest updates: a reconcile of a pair with many retained orders reads only those', () => {
    // 300 finished orders of one pair, one updated a millisecond apart from the next.
    const records: Record<string, Order> = {};
    for (let i = 1; i <= 300; i += 1) {
      const clientOrderId = `qeab-${i}`;
      records[clientOrderId] = orderRecordOf({ clientOrderId, userId: 'u', symbol: 'BTCUSDT', status: 'FILLED', createdAtMs: i, updatedAtMs: 1_000 + i });
    }
    const state: DurableState = { ...emptyDurableState(), orders: SharedDict.from(records) };
    indexOf(state); // built once, by a scan (a restart's first look)
    expect(indexDifferences(state)).toEqual([]);
    const get = state.orders.get.bind(state.orders);
    let reads = 0;
    state.orders.get = (key: string) => {
      reads += 1;
      return get(key);
    };
    // Updated at or after 1 298: the last three, each read once; the rest are not looked at.
    expect(someOpenOrChangedOrderOf(state, 'u', 'BTCUSDT', 1_298, (o) => o.clientOrderId === 'qeab-298')).toBe(true);
    expect(someOpenOrChangedOrderOf(state, 'u', 'BTCUSDT', 1_299, (o) => o.clientOrderId === 'qeab-298')).toBe(false);
    expect(reads).toBeLessThanOrEqual(5);
  });
});
