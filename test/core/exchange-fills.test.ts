import { describe, expect, it } from 'vitest';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { parseWalRecord, serializeWalEvent } from '../../src/contract/wal.js';
import { foldEvents } from '../../src/core/events.js';
import type { OrderSnapshot } from '../../src/model/orders.js';
import { CoreDriver, eventsOf, stateWithPositions, testConfig } from './fixtures.js';

// Trades the engine did not place (a liquidation, an ADL close, a manual trade) are booked as they are reported:
// the position moves, the exchange's realized PnL and commission count, once; a forced close kills the session.

type Alert = Extract<OutboundEvent, { type: 'alert' }>;
const alertsOf = (d: { outbound: OutboundEvent[] }): Alert[] => d.outbound.filter((e): e is Alert => e.type === 'alert');

function holding(): CoreDriver {
  const d = new CoreDriver();
  d.state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 50, positions: [{ symbol: 'BTCUSDT', qty: 0.5, entryPrice: 60_000 }] });
  d.tick('BTCUSDT', 59_990, 60_000);
  return d;
}

function trade(clientOrderId: string, side: 'BUY' | 'SELL', qty: string, price: string, rp: string): OrderSnapshot {
  return {
    clientOrderId,
    exchangeOrderId: '991',
    symbol: 'BTCUSDT',
    side,
    status: 'FILLED',
    origQty: qty,
    executedQty: qty,
    avgPrice: price,
    updateTime: 0,
    trade: { cumQty: qty, commission: '1.20000000', commissionAsset: 'USDT', realizedProfit: rp, lastQty: qty, lastPrice: price },
  };
}

describe('a trade the engine did not place', () => {
  it('a liquidation is booked once with the exchange realized PnL and engages the kill switch', () => {
    const d = holding();
    const order = trade('autoclose-1700000000000', 'SELL', '0.2', '57000', '-600.00000000');
    const first = d.step({ kind: 'order_update', order, userId: 'u', mode: 'paper' });
    expect(eventsOf(first.wal, 'exchange_fill')).toEqual([
      expect.objectContaining({ cause: 'liquidation', qty: '0.2', price: '57000', realizedPnlUsd: '-600', feeUsd: '1.2', exchangeOrderId: '991' }),
    ]);
    expect(eventsOf(first.wal, 'kill_switch.engaged')).toEqual([expect.objectContaining({ reason: 'liquidation' })]);
    expect(alertsOf(first).find((a) => a.kind === 'exchange_close')?.message).toMatch(/liquidation on BTCUSDT: SELL 0.2 at 57000 .*realized -600 USDT/);
    const session = d.state.durable.sessions.get('u');
    expect(session?.positions.BTCUSDT?.qty).toBe('0.3');
    expect(session?.realizedPnlUsd).toBe('-600');
    expect(session?.feesUsd).toBe('1.2');

    const again = d.step({ kind: 'order_update', order, userId: 'u', mode: 'paper' });
    expect(eventsOf(again.wal, 'exchange_fill')).toEqual([]);
    // The WAL reads back and replays to the same state, and a replayed repeat is still booked once.
    const replayed = d.wal.map((e, i) => parseWalRecord(String(i), serializeWalEvent(e)));
    const fill = eventsOf(replayed, 'exchange_fill');
    const durable = foldEvents(d.state.durable, fill, testConfig);
    expect(durable.sessions.get('u')).toEqual(d.state.durable.sessions.get('u'));
  });

  it('a late push of a trade the adopted position holds already books its money and moves nothing', () => {
    const d = holding();
    d.nowMs += 10_000;
    d.tick('BTCUSDT', 59_990, 60_000);
    // A manual sell of 0.2; its push is lost. A reconcile read asked for after it adopts 0.3.
    const tradeAtMs = d.nowMs - 1_000;
    d.step({
      kind: 'reconcile',
      userId: 'u',
      positions: [{ symbol: 'BTCUSDT', positionAmt: '0.3', entryPrice: '60000' }],
      requestedAtMs: d.nowMs - 500,
    });
    expect(d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty).toBe('0.3');
    // Then the push arrives after all.
    const late = d.step({
      kind: 'order_update',
      order: { ...trade('web_manual', 'SELL', '0.2', '59000', '-200'), updateTime: tradeAtMs },
      userId: 'u',
      mode: 'paper',
    });
    expect(eventsOf(late.wal, 'exchange_fill')).toEqual([expect.objectContaining({ inAdoptedPosition: true, realizedPnlUsd: '-200' })]);
    expect(d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty).toBe('0.3');
    expect(d.state.durable.sessions.get('u')?.realizedPnlUsd).toBe('-200');
    expect(alertsOf(late)[0]?.message).toContain('holds it already');
    // A trade after the read does move it.
    d.step({
      kind: 'order_update',
      order: { ...trade('web_manual_2', 'SELL', '0.1', '59000', '-100'), exchangeOrderId: '992', updateTime: d.nowMs },
      userId: 'u',
      mode: 'paper',
    });
    expect(d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty).toBe('0.2');
  });

  it('an ADL close is recognised by its client id', () => {
    const d = holding();
    const decision = d.step({ kind: 'order_update', order: trade('adl_autoclose', 'SELL', '0.5', '59000', '-500'), userId: 'u', mode: 'paper' });
    expect(eventsOf(decision.wal, 'exchange_fill')[0]?.cause).toBe('adl');
    expect(d.state.durable.sessions.get('u')?.killSwitch.engaged).toBe(true);
  });

  it('a manual trade is booked and alerted, without the kill switch', () => {
    const d = holding();
    const decision = d.step({ kind: 'order_update', order: trade('web_manual1', 'SELL', '0.1', '61000', '100'), userId: 'u', mode: 'paper' });
    expect(eventsOf(decision.wal, 'exchange_fill')[0]?.cause).toBe('manual');
    expect(alertsOf(decision).map((a) => a.kind)).toContain('manual_trade');
    expect(d.state.durable.sessions.get('u')?.killSwitch.engaged).toBe(false);
    expect(d.state.durable.sessions.get('u')?.realizedPnlUsd).toBe('100');
  });

  it('is ignored for a session on the other venue, and for an order id of our own (pruned after it ended)', () => {
    const d = holding();
    expect(eventsOf(d.step({ kind: 'order_update', order: trade('x1', 'SELL', '0.1', '61000', '1'), userId: 'u', mode: 'live' }).wal, 'exchange_fill')).toEqual(
      [],
    );
    const ours = `qe${d.state.durable.epoch ?? ''}-999`;
    expect(
      eventsOf(d.step({ kind: 'order_update', order: trade(ours, 'SELL', '0.1', '61000', '1'), userId: 'u', mode: 'paper' }).wal, 'exchange_fill'),
    ).toEqual([]);
    expect(eventsOf(d.step({ kind: 'order_update', order: trade('x2', 'SELL', '0.1', '61000', '1') }).wal, 'exchange_fill')).toEqual([]);
  });
});

describe('a position change no reported trade explains', () => {
  it('a reduction on the protective stop side is taken for the stop: kill switch, and the PnL is said to be unknown', () => {
    const d = holding();
    d.timer(1_000);
    expect(d.state.durable.sessions.get('u')?.protectiveStops.BTCUSDT?.side).toBe('SELL');
    const read = d.step({ kind: 'reconcile', userId: 'u', positions: [] });
    expect(eventsOf(read.wal, 'position.adopted')).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', qty: '0' })]);
    expect(eventsOf(read.wal, 'kill_switch.engaged')).toEqual([expect.objectContaining({ reason: 'protective_stop' })]);
    expect(alertsOf(read).find((a) => a.kind === 'exchange_close')?.message).toMatch(/from 0.5 to 0 .*realized PnL is unknown and not booked/);
  });

  it('any other change is adopted with an alert saying its PnL is unknown, without the kill switch', () => {
    const d = new CoreDriver();
    d.state = stateWithPositions({ capitalUsd: 10_000, positions: [{ symbol: 'BTCUSDT', qty: 0.5, entryPrice: 60_000 }] });
    const read = d.step({ kind: 'reconcile', userId: 'u', positions: [{ symbol: 'BTCUSDT', positionAmt: '0.2', entryPrice: '60000' }] });
    expect(alertsOf(read).find((a) => a.kind === 'reconcile')?.message).toMatch(/from 0.5 to 0.2 .*realized PnL is unknown and not booked/);
    expect(eventsOf(read.wal, 'kill_switch.engaged')).toEqual([]);
  });
});
