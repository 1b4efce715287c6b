import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandTypes } from '../../src/contract/commands.js';
import type { Input } from '../../src/core/decide.js';
import { foldEvents } from '../../src/core/events.js';
import { emptyDurableState, withDurableDefaults } from '../../src/core/state.js';
import { CoreDriver, replies, viaJson } from './fixtures.js';

// Keys from outside (user ids, symbols, order ids) must never reach an object's prototype: a command with
// userId "toString" used to crash the engine ("engine state cannot be trusted") and a session.start for
// "constructor" answered "a session is already undefined". Every name Object.prototype has is a valid id.

const prototypeNames = [...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype'];
const hostile = fc.oneof(
  fc.constantFrom(...prototypeNames),
  fc.constantFrom('alice', 'bob', 'signals', 'operator'),
  fc.stringMatching(/^[A-Za-z0-9._:-]{1,12}$/),
);
const symbol = fc.oneof(fc.constantFrom('BTCUSDT', 'ETHUSDT'), fc.constantFrom(...prototypeNames));

const command = fc.record({
  id: hostile,
  userId: hostile,
  type: fc.constantFrom(...commandTypes),
  mode: fc.constant('paper'),
  capitalUsd: fc.constantFrom(1_000, 50_000),
  stopLossPct: fc.constantFrom(1, 5),
  pct: fc.constantFrom(1, 50),
  hours: fc.constantFrom(1, 2),
  targetUserId: hostile,
  userIds: fc.option(fc.array(hostile, { maxLength: 3 }), { nil: undefined }),
  signals: fc.array(fc.record({ symbol: fc.constantFrom('BTCUSDT', 'ETHUSDT'), weight: fc.double({ min: -1, max: 1, noNaN: true }) }), {
    minLength: 1,
    maxLength: 2,
  }),
});

/** Exchange news carrying hostile names (the exchange and the feed are outside too). */
const exchangeInput = fc.oneof(
  fc.record({ clientOrderId: hostile, symbol, qty: fc.constantFrom('0.001', '1') }).map(({ clientOrderId, symbol: s, qty }): Input => ({
    kind: 'order_update',
    order: { clientOrderId, exchangeOrderId: 'x', symbol: s, side: 'BUY', status: 'FILLED', origQty: qty, executedQty: qty, avgPrice: '100', updateTime: 0 },
  })),
  fc
    .record({ userId: hostile, s: symbol })
    .map(({ userId, s }): Input => ({ kind: 'reconcile', userId, positions: [{ symbol: s, positionAmt: '0.5', entryPrice: '100' }], openOrders: [] })),
  fc
    .record({ userId: hostile, s: symbol, id: hostile })
    .map(({ userId, s, id }): Input => ({ kind: 'stops_listed', userId, stops: [{ clientAlgoId: id, symbol: s, side: 'SELL', triggerPrice: '1' }] })),
  fc
    .record({ userId: hostile, s: symbol, id: hostile })
    .map(({ userId, s, id }): Input => ({ kind: 'stop_placed', userId, symbol: s, clientAlgoId: id, outcome: { kind: 'accepted' } })),
  fc.record({ id: hostile }).map(({ id }): Input => ({ kind: 'place_result', clientOrderId: id, outcome: { kind: 'unknown', reason: 'timeout' } })),
  fc.record({ id: hostile }).map(({ id }): Input => ({ kind: 'query_result', clientOrderId: id, outcome: { kind: 'not_found' } })),
  fc
    .record({ id: hostile })
    .map(({ id }): Input => ({ kind: 'cancel_result', clientOrderId: id, outcome: { kind: 'rejected', code: -2011, message: 'Unknown order sent.' } })),
);

const step = fc.oneof(
  { weight: 6, arbitrary: command.map((c) => ({ kind: 'command' as const, body: c })) },
  { weight: 2, arbitrary: exchangeInput.map((input) => ({ kind: 'input' as const, input })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'timer' as const }) },
);

describe('hostile keys', () => {
  it.each(prototypeNames)('a session for user %s works like any other', (userId) => {
    const d = new CoreDriver();
    d.tick('BTCUSDT', 50_000, 50_001);
    expect(replies(d.command({ id: `${userId}-s0`, userId, type: 'status' }))).toMatchObject([{ status: 'done', result: { session: null } }]);
    expect(replies(d.command({ id: 'c1', userId, type: 'session.pause' }))).toMatchObject([
      { status: 'rejected', reason: expect.stringMatching(/no running session/) },
    ]);
    expect(replies(d.command({ id: 'c2', userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000 }))).toMatchObject([{ status: 'done' }]);
    expect(replies(d.command({ id: 'c3', userId, type: 'session.set_stoploss', pct: 5 }))).toMatchObject([{ status: 'done' }]);
    expect(replies(d.command({ id: 'c4', userId, type: 'session.pause' }))).toMatchObject([{ status: 'done' }]);
    expect(replies(d.command({ id: 'c5', userId, type: 'status' }))).toMatchObject([
      { status: 'done', result: { session: { userId, status: 'active', paused: true } } },
    ]);
    expect(replies(d.command({ id: 'c6', userId, type: 'session.stop' })).map((r) => r.status)).toEqual(['accepted', 'done']);
    expect(d.state.durable.sessions.get(userId)?.status).toBe('closed');
    expect(d.state.durable.sessions.keys()).toEqual([userId]);
    // The ids themselves are remembered like any other: a redelivery is ignored.
    expect(d.command({ id: 'c5', userId, type: 'status' }).outbound).toEqual([]);
    // Replay of the JSON log rebuilds the same state.
    expect(viaJson(foldEvents(emptyDurableState(), viaJson(d.wal), d.config))).toEqual(viaJson(d.state.durable));
  });

  it('an approval for a user named __proto__ is an ordinary entry', () => {
    const d = new CoreDriver();
    expect(replies(d.command({ id: 'a1', userId: 'operator', type: 'admin.approve_live', targetUserId: '__proto__' }))).toMatchObject([
      { status: 'done', result: { liveApproved: true } },
    ]);
    expect(Object.keys(d.state.durable.liveApprovedUserIds)).toEqual(['__proto__']);
    expect(replies(d.command({ id: 'a2', userId: 'operator', type: 'admin.approve_live', targetUserId: 'constructor' }))).toMatchObject([
      { status: 'done', result: { liveApproved: true } },
    ]);
  });

  it('a snapshot read back from JSON has no prototype in its keyed records', () => {
    const d = new CoreDriver();
    d.command({ id: 'c1', userId: 'toString', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
    const revived = withDurableDefaults(JSON.parse(JSON.stringify(d.state.durable)) as never);
    expect(revived.sessions.get('constructor')).toBeUndefined();
    const name: string = 'toString';
    expect(revived.sessions.get(name)?.positions['valueOf']).toBeUndefined();
    expect(revived.sessions.get(name)?.userId).toBe('toString');
    expect(revived.orders.get('hasOwnProperty')).toBeUndefined();
  });

  it('arbitrary commands and exchange news with arbitrary names never make decide() throw', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const d = new CoreDriver();
        d.tick('BTCUSDT', 50_000, 50_001);
        d.tick('ETHUSDT', 3_000, 3_000.5);
        let n = 0;
        for (const s of steps) {
          n += 1;
          if (s.kind === 'command') d.command(s.body, 1, `e-${n}`);
          else if (s.kind === 'input') d.step(s.input);
          else d.timer(1_000);
        }
        expect(d.state.durable.sessions.keys()).toHaveLength(d.state.durable.sessions.size);
        // What the log rebuilds is what the engine holds.
        expect(viaJson(foldEvents(emptyDurableState(), viaJson(d.wal), d.config))).toEqual(viaJson(d.state.durable));
      }),
      { numRuns: 300, seed: 8 },
    );
  });
});
