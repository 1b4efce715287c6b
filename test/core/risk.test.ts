import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { valueSession } from '../../src/core/mtm.js';
import { CoreDriver, testConfig } from './fixtures.js';

// Risk rules in the pure core, on a simulated clock.

/** A session holding `qty` BTC (signed) entered at `entry`, through a real route + fill. */
function withPosition(qty: 'long' | 'short', capital: number, stopLossPct: number, entry: number, config = testConfig): { d: CoreDriver; user: string } {
  const d = new CoreDriver(1_700_000_000_000, config);
  d.tick('BTCUSDT', entry, entry + 0.1);
  d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: capital, stopLossPct });
  const routed = d.command({ id: 'route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: qty === 'long' ? 1 : -1 }] });
  const placed = d.placed(routed)[0];
  if (!placed) throw new Error('no entry planned');
  d.fill(placed.order.clientOrderId, entry);
  return { d, user: 'u' };
}

describe('stop-loss', () => {
  it('a breached stop always yields a flatten (market, reduce-only, priority lane)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('long' as const, 'short' as const),
        fc.integer({ min: 1_000, max: 200_000 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 20_000, max: 100_000 }),
        fc.integer({ min: 0, max: 40 }),
        (side, capital, stopLossPct, entry, extraPct) => {
          const { d, user } = withPosition(side, capital, stopLossPct, entry);
          const qty = d.state.durable.sessions[user]?.positions.BTCUSDT?.qty ?? 0;
          if (qty === 0) return; // too small to trade at this capital
          // Move the price against the position by enough to lose stopLossPct (+ extra) of capital.
          const lossUsd = (capital * (stopLossPct + extraPct)) / 100;
          const move = lossUsd / Math.abs(qty) + 1;
          const price = side === 'long' ? entry - move : entry + move;
          if (price <= 1) return;
          const decision = d.tick('BTCUSDT', price, price + 0.1);
          const session = d.state.durable.sessions[user];
          expect(valueSession(session!, d.state.market).equityUsd).toBeLessThanOrEqual(capital * (1 - stopLossPct / 100));
          expect(session?.killSwitch).toMatchObject({ engaged: true, reason: 'stop_loss' });
          const flatten = d.placed(decision);
          expect(flatten).toHaveLength(1);
          expect(flatten[0]).toMatchObject({ lane: 'priority', order: { type: 'MARKET', reduceOnly: true, side: side === 'long' ? 'SELL' : 'BUY' } });
          expect(Number(flatten[0]?.order.quantity)).toBeGreaterThanOrEqual(Math.abs(qty) - 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('values longs at the bid: a wide spread can breach a stop that mid would not', () => {
    const { d, user } = withPosition('long', 10_000, 5, 60_000);
    const qty = d.state.durable.sessions[user]?.positions.BTCUSDT?.qty ?? 0;
    // Mid stays near the entry; the bid alone shows a 6% loss.
    const bid = 60_000 - (10_000 * 0.06) / qty;
    const ask = 2 * 60_000 - bid;
    d.tick('BTCUSDT', bid, ask);
    expect(d.state.durable.sessions[user]?.killSwitch.engaged).toBe(true);
  });

  it('values shorts at the ask', () => {
    const { d, user } = withPosition('short', 10_000, 5, 60_000);
    const qty = Math.abs(d.state.durable.sessions[user]?.positions.BTCUSDT?.qty ?? 0);
    const ask = 60_000 + (10_000 * 0.04) / qty; // a 4% loss at the ask: no breach
    d.tick('BTCUSDT', ask - 0.1, ask);
    expect(d.state.durable.sessions[user]?.killSwitch.engaged).toBe(false);
  });
});

describe('horizon and stale feed (wall clock, not ticks)', () => {
  it('flattens at the horizon with no tick at all', () => {
    // A feed bound longer than the horizon, so the wall-clock horizon is the only rule that can fire.
    const { d, user } = withPosition('long', 10_000, 50, 60_000, { ...testConfig, staleFeedMs: 10 * 3_600_000 });
    d.command({ id: 'hz', userId: user, type: 'session.set_horizon', hours: 1 });
    d.nowMs += 3_600_000 - 1;
    expect(d.placed(d.step({ kind: 'timer' }))).toHaveLength(0);
    d.nowMs += 1;
    const decision = d.step({ kind: 'timer' });
    expect(d.state.durable.sessions[user]?.killSwitch.reason).toBe('horizon');
    expect(d.placed(decision)[0]?.order).toMatchObject({ type: 'MARKET', reduceOnly: true });
  });

  it('flattens after staleFeedMs without a tick on a held symbol and then blocks entries', () => {
    const { d, user } = withPosition('short', 10_000, 50, 60_000);
    d.nowMs += d.config.staleFeedMs;
    expect(d.placed(d.step({ kind: 'timer' }))).toHaveLength(0);
    d.nowMs += 1;
    const decision = d.step({ kind: 'timer' });
    expect(d.state.durable.sessions[user]?.killSwitch.reason).toBe('stale_feed:BTCUSDT');
    expect(d.placed(decision)[0]?.order).toMatchObject({ type: 'MARKET', reduceOnly: true, side: 'BUY' });
    d.fill(d.placed(decision)[0]?.order.clientOrderId ?? '', 60_000);
    d.tick('BTCUSDT', 60_000, 60_000.1);
    const again = d.command({ id: 'route-2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
    expect(d.placed(again)).toHaveLength(0);
    expect(JSON.stringify(again.outbound)).toContain('kill switch engaged');
  });

  it('stops: accepted, flatten, then closed and done once filled', () => {
    const { d, user } = withPosition('long', 10_000, 50, 60_000);
    const stop = d.command({ id: 'stop', userId: user, type: 'session.stop' });
    expect(stop.outbound.map((o) => (o.type === 'reply' ? o.status : o.type))).toEqual(['accepted']);
    const flatten = d.placed(stop)[0];
    expect(flatten?.lane).toBe('priority');
    const filled = d.fill(flatten?.order.clientOrderId ?? '', 59_990);
    expect(d.state.durable.sessions[user]?.status).toBe('closed');
    expect(filled.outbound.some((o) => o.type === 'reply' && o.commandId === 'stop' && o.status === 'done')).toBe(true);
  });
});

describe('orders with unknown outcomes', () => {
  it('queries a timed-out order by the same id and never re-sends it under a new one', () => {
    const { d } = withPosition('long', 10_000, 50, 60_000);
    d.tick('ETHUSDT', 3_000, 3_000.01);
    const routed = d.command({ id: 'r-eth', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.5 }] });
    const id = d.placed(routed)[0]?.order.clientOrderId ?? '';
    const unknown = d.step({ kind: 'place_result', clientOrderId: id, outcome: { kind: 'unknown', reason: 'timeout' } });
    expect(unknown.effects).toEqual([expect.objectContaining({ kind: 'query', clientOrderId: id })]);
    // "Not found" inside the recvWindow grace proves nothing: still unknown, nothing new sent.
    const early = d.step({ kind: 'query_result', clientOrderId: id, outcome: { kind: 'not_found' } });
    expect(d.state.durable.orders[id]?.status).toBe('unknown');
    expect(d.placed(early)).toHaveLength(0);
    const retry = d.command({ id: 'r-eth-2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.5 }] });
    expect(d.placed(retry)).toHaveLength(0);
    d.nowMs += d.config.orderNotFoundGraceMs;
    d.step({ kind: 'query_result', clientOrderId: id, outcome: { kind: 'not_found' } });
    expect(d.state.durable.orders[id]?.status).toBe('REJECTED');
  });

  it('turns an order that was pending at a crash into unknown on boot', () => {
    const { d } = withPosition('long', 10_000, 50, 60_000);
    d.tick('ETHUSDT', 3_000, 3_000.01);
    const routed = d.command({ id: 'r-eth', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.5 }] });
    const id = d.placed(routed)[0]?.order.clientOrderId ?? '';
    d.step({ kind: 'boot' });
    expect(d.state.durable.orders[id]?.status).toBe('unknown');
  });
});

describe('boot reconciliation', () => {
  it('adopts the exchange position, syncs known open orders and reports foreign ones', () => {
    const { d, user } = withPosition('long', 10_000, 50, 60_000);
    const qty = d.state.durable.sessions[user]?.positions.BTCUSDT?.qty ?? 0;
    const decision = d.step({
      kind: 'reconcile',
      userId: user,
      positions: [{ symbol: 'BTCUSDT', positionAmt: String(qty / 2), entryPrice: '60000' }],
      openOrders: [{ clientOrderId: 'someone-else', exchangeOrderId: '9', symbol: 'BTCUSDT', side: 'SELL', status: 'NEW', origQty: '1', executedQty: '0', avgPrice: '0', updateTime: 0 }],
    });
    expect(d.state.durable.sessions[user]?.positions.BTCUSDT?.qty).toBeCloseTo(qty / 2, 9);
    const alerts = decision.outbound.filter((o) => o.type === 'alert').map((o) => (o.type === 'alert' ? o.message : ''));
    expect(alerts.some((m) => m.includes('someone-else'))).toBe(true);
    expect(alerts.some((m) => m.includes('corrected'))).toBe(true);
  });
});

describe('exposure limit', () => {
  it('holds across symbols routed by separate signals', () => {
    const d = new CoreDriver();
    d.tick('BTCUSDT', 60_000, 60_000.1);
    d.tick('ETHUSDT', 3_000, 3_000.01);
    d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    const btc = d.placed(d.command({ id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.8 }] }))[0];
    d.fill(btc?.order.clientOrderId ?? '', 60_000);
    const eth = d.placed(d.command({ id: 'r2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.8 }] }))[0];
    const btcUsd = Number(btc?.order.quantity) * 60_000.1;
    const ethUsd = Number(eth?.order.quantity) * 3_000.01;
    expect(btcUsd + ethUsd).toBeLessThanOrEqual(10_000);
    expect(ethUsd).toBeGreaterThan(10_000 - btcUsd - 3_000 * 0.001 * 2); // cut to what is left, not to zero
  });
});
