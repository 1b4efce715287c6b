import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { foldEvents } from '../../src/core/events.js';
import { copyOrder, copySession, copyState } from '../../src/core/record-copies.js';
import type { Order, Session } from '../../src/core/state.js';
import { emptyDurableState } from '../../src/core/state.js';
import { toPrice, toQty, toUsd } from '../../src/model/decimal.js';
import type { Qty } from '../../src/model/decimal.js';
import { orderRecordOf, T0, testConfig } from './fixtures.js';

// The fold copies its records field by field instead of spreading them (record-copies.ts): a copy must hold exactly
// what a spread would, optional fields included when set and absent when not.

/** A state whose session has every optional field set, built from WAL events. */
function foldedState() {
  const userId = 'u';
  const events: WalEvent[] = [
    { type: 'engine.initialized', epoch: 'e' },
    { type: 'session.started', userId, mode: 'paper', capitalUsd: toUsd(1_000), stopLossPct: 10, horizonDeadlineMs: null, atMs: T0 },
    { type: 'funding', userId, symbol: 'BTCUSDT', amountUsd: toUsd('0.5'), exchangeId: 'f1', exchangeTimeMs: T0, atMs: T0 },
    { type: 'position.adopted', userId, symbol: 'BTCUSDT', qty: toQty('0.01'), entryPrice: toPrice(60_000), reason: 'test', asOfMs: T0 },
    {
      type: 'exchange_trade',
      userId,
      symbol: 'BTCUSDT',
      tradeId: 't1',
      exchangeOrderId: 'x1',
      side: 'BUY',
      qty: toQty('0.01'),
      price: toPrice(60_000),
      realizedPnlUsd: toUsd(0),
      feeUsd: toUsd('0.1'),
      atMs: T0,
    },
    { type: 'command.processed', commandId: 'c1', userId, commandType: 'status', outcome: 'accepted', reason: null, atMs: T0 },
  ];
  return foldEvents(emptyDurableState(), events, testConfig);
}

const order: Order = orderRecordOf();

describe('record copies', () => {
  it('copy the state as a spread would', () => {
    const state = foldedState();
    expect(copyState(state)).toStrictEqual({ ...state });
    expect(copyState(state, { halted: true, orderSeq: 7 })).toStrictEqual({ ...state, halted: true, orderSeq: 7 });
    expect(state.halted).toBe(false);
  });

  it('copy a session with every optional field set, and one with none, as a spread would', () => {
    const session = foldedState().sessions.get('u') as Session;
    expect(session.fundingBookedThroughMs).toBe(T0);
    expect(session.bookedTradeIds).toEqual(['BTCUSDT:t1']);
    expect(session.adoptedAsOfMs?.BTCUSDT).toBe(T0);
    expect(copySession(session)).toStrictEqual({ ...session });
    const { fundingBookedThroughMs: _f, bookedTradeIds: _b, adoptedAsOfMs: _a, ...bare } = session;
    expect(copySession(bare)).toStrictEqual({ ...bare });
    expect(Object.keys(copySession(bare)).sort()).toEqual(Object.keys(bare).sort());
    expect(copySession(session, { paused: true })).toStrictEqual({ ...session, paused: true });
    expect(session.paused).toBe(false);
  });

  it('copy an order with and without its optional field as a spread would', () => {
    expect(copyOrder(order)).toStrictEqual({ ...order });
    expect(Object.keys(copyOrder(order)).sort()).toEqual(Object.keys(order).sort());
    const booked = { ...order, feeBookedQty: '0.01' as Qty };
    expect(copyOrder(booked)).toStrictEqual(booked);
    expect(copyOrder(order, { status: 'FILLED' })).toStrictEqual({ ...order, status: 'FILLED' });
    expect(order.status).toBe('NEW');
  });
});
