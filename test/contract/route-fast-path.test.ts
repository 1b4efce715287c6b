import { describe, expect, it } from 'vitest';
import { buildCommand, commandSchema, exactRouteCommand, maxRouteUserIds, maxSignalsPerRoute, parseCommand } from '../../src/contract/commands.js';

// signals.route commands are checked by hand (exactRouteCommand) before the schema is asked: the hand check must
// accept only what the schema accepts, give exactly the schema's output (fields, order, unknown keys left out), and
// not turn away a plain valid route (it would cost nothing but time, so nothing else would notice).

const base = { id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] };
const signal = (symbol: string, weight: unknown): Record<string, unknown> => ({ symbol, weight });
const many = (n: number): Record<string, unknown>[] => Array.from({ length: n }, (_, i) => signal(`S${String(i).padStart(3, '0')}USDT`, 0.01));

const cases: Record<string, unknown>[] = [
  base,
  { ...base, issuedAtMs: 1_700_000_000_000, source: 'signals' },
  { ...base, source: '', userIds: [] },
  { ...base, userIds: ['u1', 'a.b_c:d-e'] },
  { ...base, userIds: Array.from({ length: maxRouteUserIds }, (_, i) => `u${i}`) },
  { ...base, userIds: Array.from({ length: maxRouteUserIds + 1 }, (_, i) => `u${i}`) },
  { ...base, signals: many(maxSignalsPerRoute) },
  { ...base, signals: many(maxSignalsPerRoute + 1) },
  { ...base, signals: [] },
  { ...base, signals: [signal('BTCUSDT', -1), signal('ETHUSDT', 1), signal('XRPUSDT', -0)] },
  { ...base, signals: [{ ...signal('BTCUSDT', 0.1), extra: 1 }], extra: 'dropped', mode: 'live' },
  { type: 'signals.route', signals: base.signals, userId: 'signals', id: 'reordered' },
  { ...base, id: '' },
  { ...base, id: 'x'.repeat(64) },
  { ...base, id: 'x'.repeat(65) },
  { ...base, id: 'a b' },
  { ...base, id: 7 },
  { ...base, userId: undefined },
  { id: 'r1', type: 'signals.route', signals: base.signals },
  { ...base, issuedAtMs: Number.NaN },
  { ...base, issuedAtMs: Number.POSITIVE_INFINITY },
  { ...base, issuedAtMs: '5' },
  { ...base, issuedAtMs: undefined },
  { ...base, source: 'x'.repeat(32) },
  { ...base, source: 'x'.repeat(33) },
  { ...base, source: 5 },
  { ...base, source: undefined },
  { ...base, signals: 'BTCUSDT' },
  { ...base, signals: [null] },
  { ...base, signals: [['BTCUSDT', 0.5]] },
  { ...base, signals: [signal('btcusdt', 0.5)] },
  { ...base, signals: [signal('B', 0.5)] },
  { ...base, signals: [signal('B'.repeat(20), 0.5)] },
  { ...base, signals: [signal('B'.repeat(21), 0.5)] },
  { ...base, signals: [signal('BTCUSDT', 1.0000001)] },
  { ...base, signals: [signal('BTCUSDT', -1.01)] },
  { ...base, signals: [signal('BTCUSDT', Number.NaN)] },
  { ...base, signals: [signal('BTCUSDT', Number.POSITIVE_INFINITY)] },
  { ...base, signals: [signal('BTCUSDT', '0.5')] },
  { ...base, signals: [{ symbol: 'BTCUSDT' }] },
  { ...base, userIds: ['u1', ''] },
  { ...base, userIds: 'u1' },
  { ...base, userIds: undefined },
  { ...base, type: 'signals.routes' },
  { id: 'r1', userId: 'u1', type: 'session.stop' },
];

/** An optional field given as undefined: the hand check leaves such a command to the schema. */
const hasUndefinedField = (value: Record<string, unknown>): boolean => Object.values(value).some((v) => v === undefined);

/** Keys in order, all the way down: toStrictEqual does not compare key order, which the command's JSON carries. */
const shape = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(shape)
    : typeof value === 'object' && value !== null
      ? Object.entries(value).map(([k, v]) => [k, shape(v)])
      : Object.is(value, -0)
        ? '-0'
        : value;

describe('exactRouteCommand', () => {
  it.each(cases.map((c, i) => [i, c] as const))('case %i: accepts only what the schema accepts, with its output', (_i, value) => {
    const fast = exactRouteCommand(value);
    const schema = commandSchema.safeParse(value);
    if (fast !== null) {
      expect(schema.success).toBe(true);
      expect(shape(fast)).toEqual(shape(schema.data));
      expect(JSON.stringify(fast)).toBe(JSON.stringify(schema.data));
    } else if (schema.success && schema.data.type === 'signals.route') {
      // Only a command with a field given as undefined is left to the schema.
      expect(hasUndefinedField(value)).toBe(true);
    }
  });

  it('copies the arrays it gives (the schema does too)', () => {
    const value = { ...base, userIds: ['u1'] };
    const fast = exactRouteCommand(value);
    expect(fast?.signals).not.toBe(value.signals);
    expect(fast?.signals[0]).not.toBe(value.signals[0]);
    expect(fast?.userIds).not.toBe(value.userIds);
  });

  it('buildCommand and parseCommand still refuse with the schema reasons', () => {
    const bad = { ...base, signals: [signal('BTCUSDT', 2)] };
    const built = buildCommand('signals.route', bad as never);
    expect(built).toMatchObject({ ok: false, reason: expect.stringContaining('invalid signals.route command: signals.0.weight') as unknown });
    const parsed = parseCommand(JSON.stringify(bad), 65_536);
    expect(parsed).toMatchObject({ ok: false, commandId: 'r1', userId: 'signals', reason: expect.stringContaining('signals.0.weight') as unknown });
    const good = buildCommand('signals.route', { id: 'r2', userId: 'signals', signals: [signal('BTCUSDT', 0.25)] } as never);
    expect(good.ok && parseCommand(good.json, 65_536)).toEqual({ ok: true, command: good.ok ? good.command : null });
  });
});
