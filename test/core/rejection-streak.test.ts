import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SharedDict } from '../../src/core/shared-dict.js';
import type { RejectionStreak } from '../../src/core/rejections.js';
import { rejectionCode, rejectionStreak } from '../../src/core/rejections.js';
import { ordersOf } from '../../src/core/state-index.js';
import type { DurableState, Order, OrderPurpose } from '../../src/core/state.js';
import { emptyDurableState } from '../../src/core/state.js';
import { orderRecordOf } from './fixtures.js';

// rejectionStreak answers "no streak" from the newest order of the kind alone when it was not refused (or refused as
// routine), without sorting every retained order of the pair: the same streak as the full walk over the sorted list.

/** The full walk, as rejectionStreak did it on every call: every order of the pair, newest first. */
function walkedStreak(state: DurableState, userId: string, symbol: string, purpose: OrderPurpose): RejectionStreak {
  const seq = (o: Order): number => Number(o.clientOrderId.slice(o.clientOrderId.lastIndexOf('-') + 1));
  const orders = ordersOf(state, userId, symbol)
    .filter((o) => o.purpose === purpose)
    .sort((a, b) => seq(b) - seq(a));
  const streak: RejectionStreak = { count: 0, code: null, lastAtMs: 0, newestId: null };
  for (const order of orders) {
    const code = order.status === 'REJECTED' ? rejectionCode(order) : null;
    if (code === null || code === -5022) break;
    if (streak.code === null) Object.assign(streak, { code, lastAtMs: order.updatedAtMs, newestId: order.clientOrderId });
    else if (code !== streak.code) break;
    streak.count += 1;
  }
  return streak;
}

const purposes: OrderPurpose[] = ['entry', 'reduce', 'flatten'];
const outcomes = [
  { status: 'FILLED', reason: null },
  { status: 'CANCELED', reason: null },
  { status: 'NEW', reason: null },
  { status: 'REJECTED', reason: '-5022 post only would take' },
  { status: 'REJECTED', reason: '-2019 margin is insufficient' },
  { status: 'REJECTED', reason: '-4131 beyond PERCENT_PRICE' },
  { status: 'REJECTED', reason: 'no code' },
] as const;

function stateOf(orders: Array<{ seq: number; user: number; symbol: number; purpose: number; outcome: number }>): DurableState {
  const records: Record<string, Order> = {};
  orders.forEach((o, i) => {
    const outcome = outcomes[o.outcome % outcomes.length] ?? outcomes[0];
    const clientOrderId = `qeab-${o.seq}`;
    records[clientOrderId] = orderRecordOf({
      clientOrderId,
      userId: `u${o.user % 2}`,
      symbol: o.symbol % 2 === 0 ? 'BTCUSDT' : 'ETHUSDT',
      purpose: purposes[o.purpose % purposes.length] ?? 'entry',
      status: outcome.status,
      createdAtMs: i,
      updatedAtMs: 1_000 + i,
      rejectReason: outcome.reason,
    });
  });
  return { ...emptyDurableState(), orders: SharedDict.from(records) };
}

describe('rejectionStreak', () => {
  it('equals the full walk over the sorted orders, whatever the order of planning and of insertion', () => {
    const order = fc.record({ seq: fc.integer({ min: 1, max: 40 }), user: fc.nat(), symbol: fc.nat(), purpose: fc.nat(), outcome: fc.nat() });
    fc.assert(
      fc.property(fc.array(order, { maxLength: 30 }), (orders) => {
        const state = stateOf(orders);
        for (const userId of ['u0', 'u1'])
          for (const symbol of ['BTCUSDT', 'ETHUSDT'])
            for (const purpose of purposes) expect(rejectionStreak(state, userId, symbol, purpose)).toEqual(walkedStreak(state, userId, symbol, purpose));
      }),
      { numRuns: 500 },
    );
  });

  it('finds a streak behind a refused newest order and none behind an accepted one', () => {
    const state = stateOf([
      { seq: 1, user: 0, symbol: 0, purpose: 2, outcome: 4 },
      { seq: 3, user: 0, symbol: 0, purpose: 2, outcome: 4 },
      { seq: 2, user: 0, symbol: 0, purpose: 2, outcome: 4 },
      { seq: 4, user: 0, symbol: 1, purpose: 2, outcome: 4 },
      { seq: 5, user: 0, symbol: 1, purpose: 2, outcome: 0 },
    ]);
    expect(rejectionStreak(state, 'u0', 'BTCUSDT', 'flatten')).toMatchObject({ count: 3, code: -2019, newestId: 'qeab-3' });
    expect(rejectionStreak(state, 'u0', 'ETHUSDT', 'flatten').count).toBe(0);
  });
});

describe('the newest order of a kind', () => {
  it('is known from the index: a streak check reads that order only, not every retained order of the pair', () => {
    // 300 retained entries of one pair, the newest accepted: no streak, found without a walk over the others.
    const many = Array.from({ length: 300 }, (_, i) => ({ seq: i + 1, user: 0, symbol: 0, purpose: 0, outcome: i === 299 ? 0 : 4 }));
    const state = stateOf(many);
    rejectionStreak(state, 'u0', 'BTCUSDT', 'entry'); // the index is built by this first ask
    const get = state.orders.get.bind(state.orders);
    let reads = 0;
    state.orders.get = (key: string) => {
      reads += 1;
      return get(key);
    };
    expect(rejectionStreak(state, 'u0', 'BTCUSDT', 'entry').count).toBe(0);
    expect(reads).toBeLessThanOrEqual(1);
    // Refused newest: the walk finds the streak behind it, as before.
    const refused = stateOf(many.map((o) => ({ ...o, outcome: 4 })));
    expect(rejectionStreak(refused, 'u0', 'BTCUSDT', 'entry')).toMatchObject({ count: 300, code: -2019, newestId: 'qeab-300' });
  });
});
