import { describe, expect, it } from 'vitest';
import { controlFirst } from '../../src/core/command-priority.js';
import { CoreDriver, placed, replies, snapshotOf, startedSession } from './fixtures.js';

// session.exit (`/exit BTCUSDT`): one symbol of a running session is closed through the stop's own flatten plan
// (reduce-only MARKET, priority lane) and its open orders cancelled; the other symbols keep trading.

function holdingBoth(): { d: CoreDriver; btcQty: string; ethQty: string } {
  const d = startedSession({ BTCUSDT: [50_000, 50_000.1], ETHUSDT: [3_000, 3_000.01] });
  const route = d.command({
    id: 'r',
    userId: 'signals',
    type: 'signals.route',
    signals: [
      { symbol: 'BTCUSDT', weight: 0.3 },
      { symbol: 'ETHUSDT', weight: -0.3 },
    ],
  });
  for (const { order } of placed(route)) {
    d.step({
      kind: 'order_update',
      order: snapshotOf(d.order(order.clientOrderId), 'FILLED', order.quantity, order.symbol === 'BTCUSDT' ? '50000' : '3000', d.nowMs),
    });
  }
  const positions = d.state.durable.sessions.get('u')?.positions;
  return { d, btcQty: positions?.BTCUSDT?.qty ?? '0', ethQty: positions?.ETHUSDT?.qty ?? '0' };
}

describe('session.exit', () => {
  it('flattens one symbol reduce-only on the priority lane and leaves the others', () => {
    const { d, btcQty, ethQty } = holdingBoth();
    expect(Number(btcQty)).toBeGreaterThan(0);
    expect(Number(ethQty)).toBeLessThan(0);
    const exit = d.command({ id: 'x', userId: 'u', type: 'session.exit', symbol: 'BTCUSDT' });
    const orders = placed(exit);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ lane: 'priority', order: { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', reduceOnly: true, quantity: btcQty } });
    const flattenId = orders[0]?.order.clientOrderId;
    expect(replies(exit)).toEqual([
      expect.objectContaining({
        status: 'done',
        commandType: 'session.exit',
        result: { symbol: 'BTCUSDT', qty: btcQty, flattenOrderId: flattenId, cancelledOrderIds: [] },
      }),
    ]);
    if (!flattenId) throw new Error('no flatten');
    d.fill(flattenId, 50_010);
    const session = d.state.durable.sessions.get('u');
    expect(session?.positions.BTCUSDT?.qty).toBe('0');
    expect(session?.positions.ETHUSDT?.qty).toBe(ethQty);
    expect(session).toMatchObject({ status: 'active', killSwitch: { engaged: false } });
    // A second exit while flat and with nothing open is refused with the reason.
    expect(replies(d.command({ id: 'x2', userId: 'u', type: 'session.exit', symbol: 'BTCUSDT' }))[0]).toMatchObject({
      status: 'rejected',
      reason: 'you hold no BTCUSDT position and have no open BTCUSDT order',
    });
  });

  it('cancels the open entry orders of the symbol, and does not plan a second flatten while one is open', () => {
    const d = startedSession({ BTCUSDT: [50_000, 50_000.1] });
    const entry = placed(d.command({ id: 'r', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.3 }] }))[0]?.order;
    if (!entry) throw new Error('no entry');
    const half = (Number(entry.quantity) / 2).toFixed(3);
    d.step({ kind: 'order_update', order: snapshotOf(d.order(entry.clientOrderId), 'PARTIALLY_FILLED', half, '50000', d.nowMs) });
    const exit = d.command({ id: 'x', userId: 'u', type: 'session.exit', symbol: 'BTCUSDT' });
    expect(exit.effects.filter((e) => e.kind === 'cancel')).toEqual([expect.objectContaining({ clientOrderId: entry.clientOrderId, lane: 'priority' })]);
    const flatten = placed(exit)[0]?.order;
    expect(flatten).toMatchObject({ side: 'SELL', quantity: half, reduceOnly: true });
    expect(replies(exit)[0]).toMatchObject({ status: 'done', result: { cancelledOrderIds: [entry.clientOrderId], flattenOrderId: flatten?.clientOrderId } });
    const again = d.command({ id: 'x2', userId: 'u', type: 'session.exit', symbol: 'BTCUSDT' });
    expect(placed(again)).toEqual([]);
    expect(replies(again)[0]).toMatchObject({ status: 'done', result: { flattenOrderId: flatten?.clientOrderId } });
  });

  it('refuses without a running session, for a symbol not traded, and while stopping; a bad symbol never reaches the handler', () => {
    const d = new CoreDriver();
    expect(replies(d.command({ id: 'x0', userId: 'u', type: 'session.exit', symbol: 'BTCUSDT' }))[0]).toMatchObject({
      status: 'rejected',
      reason: 'no running session; start one first',
    });
    d.tick('BTCUSDT', 50_000, 50_000.1);
    d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    expect(replies(d.command({ id: 'x1', userId: 'u', type: 'session.exit', symbol: 'DOGEUSDT' }))[0]).toMatchObject({
      status: 'rejected',
      reason: 'DOGEUSDT is not traded here (traded: BTCUSDT, ETHUSDT)',
    });
    expect(replies(d.command({ id: 'x2', userId: 'u', type: 'session.exit', symbol: 'btc' }))[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/symbol must be like BTCUSDT/),
    });
    expect(replies(d.command({ id: 'x3', userId: 'u', type: 'session.exit' }))[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/symbol/),
    });
  });

  it('is replayed to the same state and decided before a fan-out in the same batch', () => {
    const { d } = holdingBoth();
    const flatten = placed(d.command({ id: 'x', userId: 'u', type: 'session.exit', symbol: 'ETHUSDT' }))[0]?.order;
    const live = d.state.durable.orders;
    d.restart();
    // The flatten was written to the WAL before it was sent: a restart knows it (and asks the exchange about it).
    expect(d.state.durable.orders.keys()).toEqual(live.keys());
    expect(d.state.durable.orders.get(flatten?.clientOrderId ?? '')).toMatchObject({ purpose: 'flatten', side: 'BUY', reduceOnly: true, status: 'unknown' });
    const route = {
      kind: 'command' as const,
      delivery: { entryId: '1-1', raw: JSON.stringify({ id: 'r2', userId: 'signals', type: 'signals.route', signals: [] }), deliveryCount: 1 },
    };
    const exit = {
      kind: 'command' as const,
      delivery: { entryId: '1-2', raw: JSON.stringify({ id: 'x9', userId: 'u', type: 'session.exit', symbol: 'BTCUSDT' }), deliveryCount: 1 },
    };
    expect(controlFirst([route, exit])).toEqual([exit, route]);
  });
});
