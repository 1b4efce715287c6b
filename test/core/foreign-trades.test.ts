import { describe, expect, it } from 'vitest';
import { parseWalRecord, serializeWalEvent } from '../../src/contract/wal.js';
import { foldEvents } from '../../src/core/events.js';
import { ledgerEntriesOf } from '../../src/core/ledger.js';
import { add, sub, sum, toUsd } from '../../src/model/decimal.js';
import type { AccountTrade } from '../../src/model/trades.js';
import type { OrderSnapshot } from '../../src/model/orders.js';
import { CoreDriver, eventsOf, placed, snapshotOf, stateWithPositions, T0, testConfig } from './fixtures.js';

// A trade of an order the engine did not place whose push never came (a crash, a deaf stream) has its money, the
// exchange's realized PnL and commission, booked from the trade list, once per trade id: a late push of it moves the
// position and books nothing more, and a list read after the push books nothing.

function holding(): CoreDriver {
  const d = new CoreDriver();
  d.state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 50, positions: [{ symbol: 'BTCUSDT', qty: 0.5, entryPrice: 60_000 }] });
  d.tick('BTCUSDT', 59_990, 60_000);
  return d;
}

/** A liquidation's trade as GET /fapi/v1/userTrades lists it (commission printed negative, as the page's example). */
const listed: AccountTrade = {
  tradeId: '5001',
  exchangeOrderId: '991',
  symbol: 'BTCUSDT',
  side: 'SELL',
  price: '57000',
  qty: '0.2',
  realizedPnl: '-600.00000000',
  commission: '-1.20000000',
  commissionAsset: 'USDT',
  timeMs: T0 + 1,
};

/** The same trade as its ORDER_TRADE_UPDATE pushes it. */
const pushed: OrderSnapshot = {
  clientOrderId: 'autoclose-1700000000001',
  exchangeOrderId: '991',
  symbol: 'BTCUSDT',
  side: 'SELL',
  status: 'FILLED',
  origQty: '0.2',
  executedQty: '0.2',
  avgPrice: '57000',
  updateTime: T0 + 1,
  trade: {
    cumQty: '0.2',
    commission: '1.20000000',
    commissionAsset: 'USDT',
    realizedProfit: '-600.00000000',
    lastQty: '0.2',
    lastPrice: '57000',
    tradeId: '5001',
  },
};

describe('trades of orders not ours, from the trade list', () => {
  it('a loss booked from the list that breaches the stop-loss engages the kill switch at once, with no tick', () => {
    const d = new CoreDriver();
    // Flat (so no tick of any symbol reaches it): a stop fired while the stream was deaf, its trade only in the list.
    d.state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [] });
    d.tick('BTCUSDT', 59_990, 60_000);
    d.step({ kind: 'trades_listed', userId: 'u', symbol: 'BTCUSDT', trades: [{ ...listed, realizedPnl: '-600.00000000' }] });
    expect(d.state.durable.sessions.get('u')?.killSwitch).toMatchObject({ engaged: true, reason: 'stop_loss' });
  });

  it('books the money once from the list; the late push moves the position and books nothing more', () => {
    const d = holding();
    const before = d.state.durable;
    const from = d.wal.length;
    const first = d.step({ kind: 'trades_listed', userId: 'u', symbol: 'BTCUSDT', trades: [listed] });
    expect(eventsOf(first.wal, 'exchange_trade')).toEqual([
      expect.objectContaining({ tradeId: '5001', exchangeOrderId: '991', realizedPnlUsd: '-600', feeUsd: '1.2', qty: '0.2' }),
    ]);
    d.step({ kind: 'trades_listed', userId: 'u', symbol: 'BTCUSDT', trades: [listed] }); // read again
    let session = d.state.durable.sessions.get('u');
    expect([session?.realizedPnlUsd, session?.feesUsd, session?.positions.BTCUSDT?.qty]).toEqual(['-600', '1.2', '0.5']); // the position is reconcile's

    const late = d.step({ kind: 'order_update', order: pushed, userId: 'u', mode: 'paper' });
    expect(eventsOf(late.wal, 'exchange_fill')).toEqual([expect.objectContaining({ qty: '0.2', realizedPnlUsd: '0', feeUsd: '0', tradeId: '5001' })]);
    session = d.state.durable.sessions.get('u');
    expect([session?.realizedPnlUsd, session?.feesUsd, session?.positions.BTCUSDT?.qty]).toEqual(['-600', '1.2', '0.3']);

    // The WAL reads back and replays to the same session; the ledger sums to what the session booked.
    const replayed = d.wal.slice(from).map((e, i) => parseWalRecord(String(i), serializeWalEvent(e)));
    expect(foldEvents(before, replayed, testConfig).sessions.get('u')).toEqual(session);
    const ledger = ledgerEntriesOf(before, replayed);
    expect(sum(ledger.map((i) => i.entry.netUsd))).toBe(add(sub(toUsd('-600'), toUsd('1.2')), toUsd('0')));
  });

  it('a list read after the push books nothing', () => {
    const d = holding();
    d.step({ kind: 'order_update', order: pushed, userId: 'u', mode: 'paper' });
    const read = d.step({ kind: 'trades_listed', userId: 'u', symbol: 'BTCUSDT', trades: [listed] });
    expect(eventsOf(read.wal, 'exchange_trade')).toEqual([]);
    expect(d.state.durable.sessions.get('u')?.feesUsd).toBe('1.2');
  });

  it('a push booked before trade ids were kept is recognised by its order and filled quantity', () => {
    const d = holding();
    const { tradeId: _dropped, ...withoutId } = pushed.trade ?? { cumQty: '0' };
    d.step({
      kind: 'order_update',
      order: { ...pushed, trade: { ...withoutId, commission: '1.2', commissionAsset: 'USDT', realizedProfit: '-600' } },
      userId: 'u',
      mode: 'paper',
    });
    const read = d.step({ kind: 'trades_listed', userId: 'u', symbol: 'BTCUSDT', trades: [listed] });
    expect(eventsOf(read.wal, 'exchange_trade')).toEqual([]);
  });

  it('sets the read aside while an order of ours has no exchange id, and reads again once it has one', () => {
    const d = holding();
    d.nowMs += 1;
    const entry = placed(d.command({ id: 'r', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.9 }] }))[0]?.order;
    if (!entry) throw new Error('no order');
    // Our order traded, but its place answer has not come: its trade looks like a stranger's.
    const ourTrade = { ...listed, tradeId: '5002', exchangeOrderId: '992', side: entry.side, qty: entry.quantity, realizedPnl: '0' };
    const deferred = d.step({ kind: 'trades_listed', userId: 'u', symbol: 'BTCUSDT', trades: [ourTrade] });
    expect(eventsOf(deferred.wal, 'exchange_trade')).toEqual([]);
    const answer = { ...snapshotOf(d.order(entry.clientOrderId), 'NEW', '0', '0', d.nowMs), exchangeOrderId: '992' };
    const answered = d.step({ kind: 'place_result', clientOrderId: entry.clientOrderId, outcome: { kind: 'accepted', order: answer } });
    expect(answered.effects.filter((e) => e.kind === 'read_trades')).toEqual([expect.objectContaining({ userId: 'u', symbol: 'BTCUSDT' })]);
    // Read again: now known to be ours, it is no stranger's trade.
    expect(eventsOf(d.step({ kind: 'trades_listed', userId: 'u', symbol: 'BTCUSDT', trades: [ourTrade] }).wal, 'exchange_trade')).toEqual([]);
  });

  it('once ended orders are pruned, takes only trades younger than the oldest order held for strangers', () => {
    const d = new CoreDriver({ config: { ...testConfig, maxTerminalOrdersKept: 1 } });
    d.state = stateWithPositions({
      capitalUsd: 10_000,
      positions: [{ symbol: 'BTCUSDT', qty: 0.5, entryPrice: 60_000 }],
      config: { ...testConfig, maxTerminalOrdersKept: 1 },
    });
    d.tick('BTCUSDT', 59_990, 60_000);
    d.nowMs += 1_000;
    const entry = placed(d.command({ id: 'r', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.9 }] }))[0]?.order;
    if (!entry) throw new Error('no order');
    d.step({ kind: 'place_result', clientOrderId: entry.clientOrderId, outcome: { kind: 'rejected', code: -2010, message: 'no' } });
    expect(d.state.durable.terminalOrderIds).toHaveLength(1); // as many as are kept: older ones would be pruned
    const older = { ...listed, timeMs: d.nowMs - 500 };
    const younger = { ...listed, tradeId: '5003', timeMs: d.nowMs + 1 };
    const read = d.step({ kind: 'trades_listed', userId: 'u', symbol: 'BTCUSDT', trades: [older, younger] });
    expect(eventsOf(read.wal, 'exchange_trade').map((e) => e.tradeId)).toEqual(['5003']);
  });

  it('a late push of a trade from before the session started is not booked to it (found by the simulation, seed 781)', () => {
    const d = holding();
    const late = d.step({ kind: 'order_update', order: { ...pushed, updateTime: T0 - 1 }, userId: 'u', mode: 'paper' });
    expect(eventsOf(late.wal, 'exchange_fill')).toEqual([]);
    const session = d.state.durable.sessions.get('u');
    expect([session?.realizedPnlUsd, session?.feesUsd, session?.positions.BTCUSDT?.qty, session?.killSwitch.engaged]).toEqual(['0', '0', '0.5', false]);
  });
});
