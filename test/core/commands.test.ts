import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandSchema, commandTypes, parseCommand } from '../../src/contract/commands.js';
import { wasProcessed } from '../../src/core/state.js';
import type { Decision } from '../../src/core/decide.js';
import { unfilledFinalOrderFoundMs } from '../../src/model/orders.js';
import { toQty } from '../../src/model/decimal.js';
import { CoreDriver, eventsOf, placed, replies, snapshotOf, testConfig, withConfig } from './fixtures.js';

// Commands: validation at the edge of the core, dead letters, permissions, and the unknown-outcome protocol.

const max = testConfig.maxCommandBytes;

describe('parseCommand', () => {
  it.each([
    ['malformed JSON', '{not json', /not valid JSON/],
    ['empty entry', '', /not valid JSON/],
    ['NaN literal (not JSON)', '{"id":"a","userId":"u","type":"session.set_stoploss","pct":NaN}', /not valid JSON/],
    ['non-numeric stoploss', '{"id":"a","userId":"u","type":"session.set_stoploss","pct":"abc"}', /pct/],
    ['stoploss "NaN" string', '{"id":"a","userId":"u","type":"session.set_stoploss","pct":"NaN"}', /pct/],
    ['negative stoploss', '{"id":"a","userId":"u","type":"session.set_stoploss","pct":-3}', /pct/],
    ['zero stoploss', '{"id":"a","userId":"u","type":"session.set_stoploss","pct":0}', /pct/],
    ['100% stoploss', '{"id":"a","userId":"u","type":"session.set_stoploss","pct":100}', /pct/],
    ['infinite stoploss', '{"id":"a","userId":"u","type":"session.set_stoploss","pct":1e999}', /pct/],
    ['stoploss missing', '{"id":"a","userId":"u","type":"session.set_stoploss"}', /pct/],
    ['capital as a string', '{"id":"a","userId":"u","type":"session.start","capitalUsd":"1000"}', /capitalUsd/],
    ['capital too large', '{"id":"a","userId":"u","type":"session.start","capitalUsd":1e308}', /capitalUsd/],
    ['negative capital', '{"id":"a","userId":"u","type":"session.start","capitalUsd":-1}', /capitalUsd/],
    ['unknown mode', '{"id":"a","userId":"u","type":"session.start","capitalUsd":100,"mode":"yolo"}', /mode/],
    ['negative horizon', '{"id":"a","userId":"u","type":"session.set_horizon","hours":-1}', /hours/],
    ['unknown type', '{"id":"a","userId":"u","type":"nope"}', /type/],
    ['missing type', '{"id":"a","userId":"u"}', /type/],
    ['missing id', '{"userId":"u","type":"status"}', /id/],
    ['id with spaces', '{"id":"a b","userId":"u","type":"status"}', /id/],
    ['id too long', `{"id":"${'a'.repeat(65)}","userId":"u","type":"status"}`, /id/],
    ['userId as a number', '{"id":"a","userId":7,"type":"status"}', /userId/],
    ['weight above 1', '{"id":"a","userId":"signals","type":"signals.route","signals":[{"symbol":"BTCUSDT","weight":1.5}]}', /weight/],
    ['weight as a string', '{"id":"a","userId":"signals","type":"signals.route","signals":[{"symbol":"BTCUSDT","weight":"0.5"}]}', /weight/],
    ['no signals', '{"id":"a","userId":"signals","type":"signals.route","signals":[]}', /signals/],
    ['lower-case symbol', '{"id":"a","userId":"signals","type":"signals.route","signals":[{"symbol":"btcusdt","weight":0.5}]}', /symbol/],
    ['array root', '[]', /invalid command/],
    ['null root', 'null', /invalid command/],
    ['number root', '42', /invalid command/],
  ])('rejects %s with a reason', (_name, raw, reason) => {
    const parsed = parseCommand(raw, max);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('too many signals', () => {
    const signals = Array.from({ length: 51 }, () => ({ symbol: 'BTCUSDT', weight: 0.01 }));
    const parsed = parseCommand(JSON.stringify({ id: 'a', userId: 'signals', type: 'signals.route', signals }), max);
    expect(parsed.ok === false && parsed.reason).toMatch(/signals/);
  });

  it('keeps the id and user of a rejected command when they are readable', () => {
    expect(parseCommand('{"id":"c-1","userId":"alice","type":"session.set_stoploss","pct":"abc"}', max)).toMatchObject({
      ok: false,
      commandId: 'c-1',
      userId: 'alice',
    });
    expect(parseCommand('{not json', max)).toMatchObject({ ok: false, commandId: null, userId: null });
  });

  it('accepts the documented shapes, defaulting mode to paper', () => {
    expect(parseCommand('{"id":"a","userId":"u","type":"session.start","capitalUsd":1000}', max)).toMatchObject({
      ok: true,
      command: { mode: 'paper', capitalUsd: 1000 },
    });
    expect(parseCommand('{"id":"a","userId":"u","type":"session.set_stoploss","pct":2.5}', max)).toMatchObject({ ok: true, command: { pct: 2.5 } });
    expect(parseCommand('{"id":"a.b:c-d_e","userId":"u","type":"status"}', max)).toMatchObject({ ok: true });
  });

  it('measures the size limit in UTF-8 bytes, before parsing', () => {
    const body = (pad: string): string => JSON.stringify({ id: 'a', userId: 'u', type: 'status', source: 'x', pad });
    const fits = body('x'.repeat(max - body('').length));
    expect(Buffer.byteLength(fits)).toBe(max);
    expect(parseCommand(fits, max).ok).toBe(true);
    const over = body('x'.repeat(max - body('').length + 1));
    expect(parseCommand(over, max)).toMatchObject({ ok: false, reason: `command is ${max + 1} bytes; the limit is ${max}`, commandId: null });
    // Fewer characters than the limit, but more bytes.
    const wide = body('é'.repeat(Math.ceil(max / 2)));
    expect(wide.length).toBeLessThan(max + 100);
    expect(parseCommand(wide, max)).toMatchObject({ ok: false, reason: expect.stringMatching(/limit is/) });
  });

  it('never throws, and whatever it accepts satisfies the schema', () => {
    const known = fc.record(
      {
        id: fc.oneof(fc.constant('a'), fc.string()),
        userId: fc.oneof(fc.constant('u'), fc.string()),
        type: fc.constantFrom(...commandTypes, 'nope'),
        pct: fc.oneof(fc.double(), fc.string(), fc.constant(null)),
        capitalUsd: fc.oneof(fc.double(), fc.integer()),
        hours: fc.double(),
        signals: fc.array(fc.record({ symbol: fc.constantFrom('BTCUSDT', 'x'), weight: fc.double() }), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          known.map((v) => JSON.stringify(v)),
        ),
        (raw) => {
          const parsed = parseCommand(raw, 512);
          if (parsed.ok) {
            expect(commandSchema.safeParse(parsed.command).success).toBe(true);
            expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(512);
          } else {
            expect(parsed.reason.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('decide on bad deliveries', () => {
  it('dead-letters a malformed command with a rejection reply; nothing is acked or remembered as processed', () => {
    const d = new CoreDriver();
    const decision = d.command('{"id":"bad","userId":"alice","type":"session.set_stoploss","pct":"abc"}', 1, '5-0');
    expect(decision.deadLetters).toEqual([expect.objectContaining({ entryId: '5-0', reason: expect.stringMatching(/pct/) })]);
    expect(decision.ack).toEqual([]);
    expect(decision.wal).toEqual([]);
    expect(replies(decision)).toEqual([
      expect.objectContaining({ commandId: 'bad', userId: 'alice', status: 'rejected', reason: expect.stringMatching(/pct/) }),
    ]);
    expect(wasProcessed(d.state.durable, 'bad')).toBe(false);
    // The id was not used up: a corrected command under the same id is processed.
    d.command({ id: 'bad', userId: 'alice', type: 'session.start', capitalUsd: 1_000 });
    expect(d.state.durable.sessions.get('alice')?.status).toBe('active');
  });

  it('a malformed entry reusing the id of a processed command is dead-lettered without a second answer', () => {
    const d = new CoreDriver();
    expect(replies(d.command({ id: 'c-1', userId: 'alice', type: 'status' }))).toMatchObject([{ commandId: 'c-1', status: 'done' }]);
    const reuse = d.command('{"id":"c-1","userId":"alice","type":"session.set_stoploss","pct":"abc"}', 1, '8-0');
    expect(replies(reuse)).toEqual([]);
    expect(reuse.deadLetters).toEqual([expect.objectContaining({ entryId: '8-0', reason: expect.stringMatching(/reuses the id of processed command c-1/) })]);
    // Same for a redelivered poison entry under a processed id.
    const poison = d.command('{"id":"c-1","userId":"alice","type":"status"}', d.config.maxDeliveries + 1, '8-1');
    expect(replies(poison)).toEqual([]);
    expect(poison.deadLetters).toHaveLength(1);
  });

  it('answers an unreadable entry under its entry id', () => {
    const d = new CoreDriver();
    const decision = d.command('\u0000garbage', 1, '9-1');
    expect(decision.deadLetters).toHaveLength(1);
    expect(replies(decision)[0]).toMatchObject({ commandId: 'entry:9-1', userId: null, status: 'rejected', reason: 'command is not valid JSON' });
    expect(decision.ack).toEqual([]);
  });

  it('dead-letters an oversize command', () => {
    const d = new CoreDriver({ config: withConfig({ maxCommandBytes: 200 }) });
    const decision = d.command({ id: 'big', userId: 'u', type: 'status', source: 'x'.repeat(250) });
    expect(decision.deadLetters[0]?.reason).toMatch(/limit is 200/);
    expect(decision.ack).toEqual([]);
    expect(decision.wal).toEqual([]);
  });

  it('dead-letters a command delivered more than maxDeliveries times, and processes one delivered exactly that often', () => {
    const d = new CoreDriver();
    const poison = d.command({ id: 'poison', userId: 'u', type: 'session.start', capitalUsd: 1_000 }, d.config.maxDeliveries + 1);
    expect(poison.deadLetters).toEqual([expect.objectContaining({ reason: expect.stringMatching(/delivered 6 times/) })]);
    expect(replies(poison)).toEqual([expect.objectContaining({ commandId: 'poison', userId: 'u', commandType: 'session.start', status: 'rejected' })]);
    expect(poison.ack).toEqual([]);
    // Its answer is final: the id is remembered, nothing else is written.
    expect(poison.wal.map((e) => e.type)).toEqual(['command.processed']);
    expect(d.state.durable.sessions.get('u')).toBeUndefined();
    // The producer sends it again (a new entry, the same id): not decided afresh, not answered a second time.
    const retry = d.command({ id: 'poison', userId: 'u', type: 'session.start', capitalUsd: 1_000 }, 1, '6-9');
    expect(replies(retry)).toEqual([]);
    expect(retry.ack).toEqual(['6-9']);
    expect(d.state.durable.sessions.get('u')).toBeUndefined();
    const last = d.command({ id: 'ok', userId: 'u', type: 'session.start', capitalUsd: 1_000 }, d.config.maxDeliveries, '7-0');
    expect(last.ack).toEqual(['7-0']);
    expect(d.state.durable.sessions.get('u')?.status).toBe('active');
  });

  it('acks a valid command and processes a duplicate id only once', () => {
    const d = new CoreDriver();
    const first = d.command({ id: 'start-1', userId: 'u', type: 'session.start', capitalUsd: 1_000 }, 1, '1-0');
    expect(first.ack).toEqual(['1-0']);
    expect(eventsOf(first.wal, 'session.started')).toHaveLength(1);
    const again = d.command({ id: 'start-1', userId: 'u', type: 'session.start', capitalUsd: 1_000 }, 2, '1-0');
    expect(again.ack).toEqual(['1-0']);
    expect(again.wal).toEqual([]);
    expect(replies(again)).toEqual([]);
    const retry = d.command({ id: 'start-1', userId: 'u', type: 'session.start', capitalUsd: 5_000 }, 1, '2-0');
    expect(retry.ack).toEqual(['2-0']);
    expect(retry.wal).toEqual([]);
    expect(d.state.durable.sessions.get('u')?.capitalUsd).toBe('1000');
  });
});

describe('permissions', () => {
  it('keeps live trading behind the engine switch and an approval', () => {
    const off = new CoreDriver();
    expect(replies(off.command({ id: 'l', userId: 'u', type: 'session.start', mode: 'live', capitalUsd: 100 }))[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/disabled/),
    });
    expect(off.state.durable.sessions.get('u')).toBeUndefined();

    const unapproved = new CoreDriver({ config: withConfig({ liveTradingEnabled: true, liveApprovedUserIds: ['ok'] }) });
    expect(replies(unapproved.command({ id: 'l1', userId: 'u', type: 'session.start', mode: 'live', capitalUsd: 100 }))[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/approval/),
    });
    expect(unapproved.state.durable.sessions.get('u')).toBeUndefined();

    const approvedButOff = new CoreDriver({ config: withConfig({ liveTradingEnabled: false, liveApprovedUserIds: ['ok'] }) });
    expect(replies(approvedButOff.command({ id: 'l2', userId: 'ok', type: 'session.start', mode: 'live', capitalUsd: 100 }))[0]).toMatchObject({
      status: 'rejected',
    });

    const both = new CoreDriver({ config: withConfig({ liveTradingEnabled: true, liveApprovedUserIds: ['ok'] }) });
    both.liveFeed();
    expect(replies(both.command({ id: 'l3', userId: 'ok', type: 'session.start', mode: 'live', capitalUsd: 100 }))[0]).toMatchObject({ status: 'done' });
    expect(both.state.durable.sessions.get('ok')?.mode).toBe('live');
  });

  it('allows admin commands only from admins and signals only from signal sources', () => {
    const d = new CoreDriver();
    const denied = d.command({ id: 'h1', userId: 'mallory', type: 'admin.halt_all' });
    expect(replies(denied)[0]).toMatchObject({ status: 'rejected', reason: 'admin only' });
    expect(eventsOf(denied.wal, 'halt.set')).toEqual([]);
    expect(d.state.durable.halted).toBe(false);
    expect(replies(d.command({ id: 's1', userId: 'mallory', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 1 }] }))[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/may not publish/),
    });

    expect(replies(d.command({ id: 'h2', userId: 'operator', type: 'admin.halt_all' }))[0]).toMatchObject({ status: 'done' });
    expect(d.state.durable.halted).toBe(true);
    expect(replies(d.command({ id: 'h3', userId: 'mallory', type: 'admin.resume_all' }))[0]).toMatchObject({ status: 'rejected', reason: 'admin only' });
    expect(d.state.durable.halted).toBe(true);
    // New sessions cannot start while halted.
    expect(replies(d.command({ id: 'st', userId: 'u', type: 'session.start', capitalUsd: 100 }))[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/halted/),
    });
    d.command({ id: 'h4', userId: 'operator', type: 'admin.resume_all' });
    expect(d.state.durable.halted).toBe(false);
  });
});

/** A running session with fresh quotes and one ETH entry just sent. */
function withEntry(): { d: CoreDriver; id: string } {
  const d = new CoreDriver();
  d.tick('ETHUSDT', 3_000, 3_000.01);
  d.command({ id: 'start', userId: 'u', type: 'session.start', capitalUsd: 10_000 });
  const routed = d.command({ id: 'r-eth', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.5 }] });
  const id = placed(routed)[0]?.order.clientOrderId;
  if (!id) throw new Error('no entry planned');
  return { d, id };
}

describe('an open order the exchange no longer finds', () => {
  // Binance forgets an order cancelled or expired without a fill 3 days after its creation (Query Order). An engine
  // away that long, holding such an order open, queried it in vain for good: the order stayed open in its state,
  // keeping the symbol's routes and the session's stop waiting on it.
  it('is closed as cancelled past the 3 days, its trades and position re-read; within them it stays open', () => {
    const { d, id } = withEntry();
    d.step({ kind: 'order_update', order: snapshotOf(d.order(id), 'NEW', '0', '0', d.nowMs) });
    expect(d.order(id).status).toBe('NEW');

    d.nowMs += unfilledFinalOrderFoundMs;
    const within = d.step({ kind: 'query_result', clientOrderId: id, outcome: { kind: 'not_found' } });
    expect(within.wal).toEqual([]);
    expect(d.order(id).status).toBe('NEW');

    d.nowMs += 1;
    const past = d.step({ kind: 'query_result', clientOrderId: id, outcome: { kind: 'not_found' } });
    expect(d.order(id)).toMatchObject({ status: 'CANCELED', filledQty: '0' });
    expect(past.effects).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'read_trades', userId: 'u', symbol: 'ETHUSDT' }),
        expect.objectContaining({ kind: 'reconcile', userId: 'u' }),
      ]),
    );
    expect(past.outbound).toContainEqual(
      expect.objectContaining({ type: 'alert', userId: 'u', message: expect.stringMatching(/no longer found on the exchange 3 days/) }),
    );
  });
});

describe('a sent order the exchange never confirmed and no longer finds', () => {
  // "Not found" for an order whose placement was never answered (pending, unknown) meant "never reached the exchange".
  // Past 3 days it may instead have reached it and ended unfilled (Binance forgets those), and past 90 days it may have
  // filled and been forgotten: the reason says so, and past 90 days the account's trades and position are re-read.
  const notFound = (d: CoreDriver, id: string): Decision => d.step({ kind: 'query_result', clientOrderId: id, outcome: { kind: 'not_found' } });
  const dayMs = 24 * 60 * 60 * 1000;

  it('within 3 days never reached the exchange; past them it may have ended there unfilled', () => {
    const early = withEntry();
    early.d.nowMs += unfilledFinalOrderFoundMs;
    notFound(early.d, early.id);
    expect(early.d.order(early.id)).toMatchObject({ status: 'REJECTED', rejectReason: 'never reached the exchange' });

    const late = withEntry();
    late.d.nowMs += unfilledFinalOrderFoundMs + 1;
    const decision = notFound(late.d, late.id);
    expect(late.d.order(late.id)).toMatchObject({ status: 'REJECTED', filledQty: '0' });
    expect(late.d.order(late.id).rejectReason).toMatch(/not found 3 days after it was sent: it never reached the exchange, or ended there unfilled/);
    // Within 90 days an order the exchange forgot never filled: no trades to read (the stop pass, due after the days
    // away, re-reads the position anyway).
    expect(decision.effects.filter((e) => e.kind === 'read_trades')).toEqual([]);
  });

  it('past 90 days may have filled: the trades and the position are re-read', () => {
    const { d, id } = withEntry();
    d.nowMs += 90 * dayMs + 1;
    const decision = notFound(d, id);
    expect(d.order(id).status).toBe('REJECTED');
    expect(d.order(id).rejectReason).toMatch(/not found 90 days after it was sent: .* or ended there \(filled or not\)/);
    expect(decision.effects).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'read_trades', userId: 'u', symbol: 'ETHUSDT' }),
        expect.objectContaining({ kind: 'reconcile', userId: 'u' }),
      ]),
    );
  });
});

describe('orders with unknown outcomes', () => {
  it('after a log outage (resync) every order not known to be final is queried and every open session re-read', () => {
    const { d, id } = withEntry();
    const resync = d.step({ kind: 'resync' });
    expect(resync.wal).toEqual([]);
    expect(resync.effects).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'query', clientOrderId: id }), expect.objectContaining({ kind: 'reconcile', userId: 'u' })]),
    );
  });

  it('a place that timed out is queried by the same client id; not_found inside the grace keeps it unknown', () => {
    const { d, id } = withEntry();
    const unknown = d.step({ kind: 'place_result', clientOrderId: id, outcome: { kind: 'unknown', reason: 'timeout' } });
    expect(d.order(id).status).toBe('unknown');
    expect(unknown.effects).toEqual([expect.objectContaining({ kind: 'query', clientOrderId: id, symbol: 'ETHUSDT' })]);

    d.nowMs += d.config.orderNotFoundGraceMs - 1;
    const early = d.step({ kind: 'query_result', clientOrderId: id, outcome: { kind: 'not_found' } });
    expect(d.order(id).status).toBe('unknown');
    expect(placed(early)).toEqual([]);
    // A new signal does not re-send it under a new id while its outcome is unknown.
    const retry = d.command({ id: 'r-eth-2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.5 }] });
    expect(placed(retry)).toEqual([]);
    expect(replies(retry)[0]).toMatchObject({ result: { routed: [expect.objectContaining({ skipped: 'an order for this symbol is still open' })] } });

    d.nowMs += 1;
    const late = d.step({ kind: 'query_result', clientOrderId: id, outcome: { kind: 'not_found' } });
    expect(d.order(id)).toMatchObject({ status: 'REJECTED', rejectReason: 'never reached the exchange' });
    expect(placed(late)).toEqual([]);
  });

  it('a send with no answer becomes unknown on the watchdog and is polled by id, never re-sent', () => {
    const { d, id } = withEntry();
    expect(placed(d.timer(d.config.orderResultTimeoutMs - 1))).toEqual([]);
    expect(d.order(id).status).toBe('pending');
    d.timer(1);
    expect(d.order(id).status).toBe('unknown');
    const queries: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      d.tick('ETHUSDT', 3_000, 3_000.01);
      const beat = d.timer(d.config.orderQueryIntervalMs);
      expect(placed(beat)).toEqual([]);
      for (const e of beat.effects) if (e.kind === 'query') queries.push(e.clientOrderId);
      d.step({ kind: 'query_result', clientOrderId: id, outcome: { kind: 'unknown', reason: '503' } });
      expect(d.order(id).status).toBe('unknown');
    }
    expect(queries.length).toBeGreaterThanOrEqual(5);
    expect(new Set(queries)).toEqual(new Set([id]));
    // The exchange had it all along: the fill is learnt from the query, under the same id.
    const order = d.order(id);
    d.step({ kind: 'query_result', clientOrderId: id, outcome: { kind: 'found', order: snapshotOf(order, 'FILLED', order.quantity, '3000') } });
    expect(d.order(id).status).toBe('FILLED');
    expect(d.state.durable.sessions.get('u')?.positions.ETHUSDT?.qty).toBe(toQty(order.quantity));
  });

  it('a -5022 post-only reject falls back once, under a new id, to a bounded IOC', () => {
    const { d, id } = withEntry();
    const rejected = d.step({ kind: 'place_result', clientOrderId: id, outcome: { kind: 'rejected', code: -5022, message: 'post only' } });
    const fallback = placed(rejected);
    expect(fallback).toHaveLength(1);
    expect(fallback[0]?.order.clientOrderId).not.toBe(id);
    expect(fallback[0]?.order).toMatchObject({ type: 'LIMIT', timeInForce: 'IOC', side: 'BUY' });
    const mid = (3_000 + 3_000.01) / 2;
    expect(Number(fallback[0]?.order.price)).toBeLessThanOrEqual(mid * 1.0015);
    // A -5022 on the fallback itself does not cascade.
    const again = d.step({
      kind: 'place_result',
      clientOrderId: fallback[0]?.order.clientOrderId ?? '',
      outcome: { kind: 'rejected', code: -5022, message: 'post only' },
    });
    expect(placed(again)).toEqual([]);
  });
});
