import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { parseWalRecord, readWalRecordFully, serializeWalEvent, walShapesReader } from '../../src/contract/wal.js';

// Replay reads a record of a layout it has seen by one match (src/contract/wal-shapes.ts). These tests hold every
// such read to the full path (JSON.parse and the schema): the same event, keys in the same order, or no read at all
// (the record then takes the full path, which gives its error as before).

const order = (id: string) => ({ clientOrderId: id, userId: 'u1', symbol: 'BTCUSDT', side: 'BUY' as const });

/** One event of every type the layouts cover (and two they do not), optional fields both present and absent. */
const samples: WalEvent[] = [
  { type: 'engine.initialized', epoch: 'e-2026-12-03T03:00:00Z' },
  { type: 'command.processed', commandId: '1764730000000-0', userId: 'u1', commandType: 'status', outcome: 'accepted', reason: null, atMs: 17 },
  { type: 'command.processed', commandId: 'c2', userId: null, commandType: null, outcome: 'rejected', reason: 'no "session"', atMs: 1.5 },
  { type: 'session.started', userId: 'u1', mode: 'paper', capitalUsd: '1000.5', stopLossPct: 5, horizonDeadlineMs: null, atMs: 3, leverage: 3 },
  { type: 'session.started', userId: 'u2', mode: 'live', capitalUsd: '20', stopLossPct: null, horizonDeadlineMs: 9e12, atMs: 3 },
  { type: 'session.stoploss_set', userId: 'u1', pct: 40 },
  { type: 'session.horizon_set', userId: 'u1', deadlineMs: 123 },
  { type: 'session.paused', userId: 'u1', paused: true },
  { type: 'session.stopping', userId: 'u1', commandId: null },
  { type: 'session.closed', userId: 'u1', atMs: -0 },
  { type: 'kill_switch.engaged', userId: 'u1', reason: 'drawdown', atMs: 5 },
  { type: 'halt.set', halted: false, reason: null },
  { type: 'live.approval_set', userId: 'u1', approved: true },
  { type: 'intent.set', userId: 'u1', symbol: 'BTCUSDT', targetQty: '0.001' },
  { type: 'order.status', clientOrderId: 'qe-1', status: 'PARTIALLY_FILLED', exchangeOrderId: '77', filledQty: '0.5', avgPrice: '1', reason: null, atMs: 1 },
  { type: 'order.cancel_requested', clientOrderId: 'qe-1' },
  { type: 'fill', ...order('qe-1'), qty: '0.002', price: '50000.1', atMs: 2 },
  {
    type: 'fee',
    userId: 'u1',
    clientOrderId: 'qe-1',
    symbol: 'BTCUSDT',
    feeUsd: '0.02',
    cumQty: '0.002',
    exchangeRealizedPnlUsd: '-1.5',
    tradeId: 't9',
    atMs: 2,
  },
  { type: 'funding', userId: 'u1', symbol: null, amountUsd: '-0.1', exchangeId: 'f1', exchangeTimeMs: 8, atMs: 9 },
  {
    type: 'exchange_fill',
    ...order('qsstop-1'),
    side: 'SELL',
    qty: '0.001',
    price: '49000',
    realizedPnlUsd: '-1',
    feeUsd: '0.01',
    exchangeOrderId: '88',
    cumQty: '0.001',
    cause: 'protective_stop',
    clientAlgoId: 'qsstop-1',
    inAdoptedPosition: false,
    atMs: 4,
  },
  {
    type: 'exchange_trade',
    userId: 'u1',
    symbol: 'BTCUSDT',
    tradeId: 't1',
    exchangeOrderId: '9',
    side: 'BUY',
    qty: '1',
    price: '2',
    realizedPnlUsd: '0',
    feeUsd: '0',
    atMs: 1,
  },
  { type: 'stop.planned', userId: 'u1', symbol: 'BTCUSDT', clientAlgoId: 'qsstop-2', side: 'SELL', triggerPrice: '1000', atMs: 1 },
  { type: 'stop.status', userId: 'u1', symbol: 'BTCUSDT', clientAlgoId: 'qsstop-2', status: 'unknown' },
  { type: 'stop.removed', userId: 'u1', symbol: 'BTCUSDT', clientAlgoId: 'qsstop-2', reason: 'flat' },
  { type: 'position.adopted', userId: 'u1', symbol: 'BTCUSDT', qty: '-0.001', entryPrice: '50000', reason: 'boot', asOfMs: 6 },
  { type: 'route.progress', commandId: 'r1', afterUserId: 'u1', routed: [{ userId: 'u1', symbol: 'BTCUSDT', skipped: 'flat' }] },
] as WalEvent[];

type Outcome = { event: unknown } | { error: string };

function fully(text: string): Outcome {
  try {
    return { event: readWalRecordFully('1-0', text).event };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Equal values with keys in the same order, -0 told from 0. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.join(',') === kb.join(',') && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Texts near `text`: each field's value replaced, the field dropped or repeated, whitespace, extra keys, versions. */
function variants(text: string): string[] {
  const values = [
    'null',
    '1',
    '-0',
    '0.5',
    '1e999',
    '1E2',
    '01',
    '"x"',
    '""',
    'true',
    'false',
    '"1.5"',
    '"abc"',
    '"a\\"b"',
    '"a\\u0041"',
    '[]',
    '{}',
    '"PARTIALLY_FILLED"',
    '"accepted"',
  ];
  const out = [text, text.replace(',"schemaVersion":1', ''), `${text} `, ` ${text}`, text.replace(':', ': '), text.replace('}', ',"zzz":1}')];
  for (const v of ['0', '2', '"1"', '1.0', '-0', 'null']) out.push(text.replace('"schemaVersion":1', `"schemaVersion":${v}`));
  const json = JSON.parse(text) as Record<string, unknown>;
  for (const key of Object.keys(json)) {
    const field = `"${key}":${JSON.stringify(json[key])}`;
    if (!text.includes(field)) continue;
    for (const v of values) out.push(text.replace(field, `"${key}":${v}`));
    out.push(text.replace(`,${field}`, '').replace(`${field},`, ''), text.replace(field, `${field},${field}`));
    if (typeof json[key] === 'string') out.push(text.replace(field, `"${key}":${JSON.stringify(`${json[key] as string}\n`)}`));
  }
  return out;
}

describe('WAL record layouts', () => {
  afterEach(() => vi.restoreAllMocks());

  it('read every record like the full path, or not at all, across every field of every event type', () => {
    const shapes = walShapesReader();
    let matched = 0;
    for (const sample of samples) {
      const text = serializeWalEvent(sample);
      const learned = fully(text);
      expect('event' in learned).toBe(true);
      shapes.learn(JSON.parse(text));
      for (const variant of variants(text)) {
        const read = shapes.read(variant);
        if (read === undefined) continue;
        matched += 1;
        const expected = fully(variant);
        expect(expected, variant).toHaveProperty('event');
        expect(same(read, 'event' in expected ? expected.event : undefined), variant).toBe(true);
      }
    }
    // Each flat sample's own text, without its version, and with version 0 at least (a layout of its own each).
    expect(matched).toBeGreaterThanOrEqual(samples.length - 1);
  });

  it('read a record of a layout seen before without JSON.parse', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const texts = Array.from({ length: 50 }, (_, i) =>
      serializeWalEvent({
        type: 'command.processed',
        commandId: `layout-${i}`,
        userId: `u${i}`,
        commandType: 'status',
        outcome: 'accepted',
        reason: null,
        atMs: i,
      }),
    );
    const events = texts.map((text, i) => parseWalRecord(`2-${i}`, text));
    expect(events[49]).toEqual({
      type: 'command.processed',
      commandId: 'layout-49',
      userId: 'u49',
      commandType: 'status',
      outcome: 'accepted',
      reason: null,
      atMs: 49,
    });
    expect(parse.mock.calls.length).toBeLessThanOrEqual(1);
  });

  it('still reject a bad record of a known layout with the full path error', () => {
    const text = serializeWalEvent({ type: 'session.stoploss_set', userId: 'u1', pct: 4 });
    parseWalRecord('3-0', text);
    expect(() => parseWalRecord('3-1', text.replace('"pct":4', '"pct":"4"'))).toThrow(
      'WAL entry 3-1: invalid event: pct: Invalid input: expected number, received string',
    );
    expect(() => parseWalRecord('3-2', text.replace('"pct":4', '"pct":1e999'))).toThrow(/WAL entry 3-2: invalid event: pct/);
    expect(() => parseWalRecord('3-3', text.replace('"schemaVersion":1', '"schemaVersion":2'))).toThrow(/WAL entry 3-3: unsupported schemaVersion/);
    expect(() => parseWalRecord('3-4', `${text}x`)).toThrow('WAL entry 3-4: not JSON');
  });
});
