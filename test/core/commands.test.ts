import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/core/commands.js';
import { CoreDriver } from './fixtures.js';

describe('command validation', () => {
  const max = 64 * 1024;
  it.each([
    ['{not json', /not valid JSON/],
    ['{"id":"a","userId":"u","type":"session.set_stoploss","pct":"abc"}', /pct/],
    ['{"id":"a","userId":"u","type":"session.set_stoploss","pct":-3}', /pct/],
    ['{"id":"a","userId":"u","type":"session.set_stoploss","pct":"NaN"}', /pct/],
    ['{"id":"a","userId":"u","type":"session.start","capitalUsd":1e308,"mode":"paper"}', /capitalUsd/],
    ['{"id":"a","userId":"u","type":"nope"}', /type/],
    ['{"userId":"u","type":"status"}', /id/],
    ['[]', /invalid command/],
  ])('rejects %s', (raw, reason) => {
    const parsed = parseCommand(raw, max);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('rejects an oversize entry before parsing it', () => {
    const parsed = parseCommand(JSON.stringify({ id: 'a', userId: 'u', type: 'status', pad: 'x'.repeat(max) }), max);
    expect(parsed.ok === false && parsed.reason).toMatch(/limit is 65536/);
  });

  it('dead-letters bad input with a rejection reply and records nothing as processed', () => {
    const d = new CoreDriver();
    const decision = d.command('{"id":"bad","userId":"u","type":"session.set_stoploss","pct":"abc"}');
    expect(decision.deadLetters).toHaveLength(1);
    expect(decision.ack).toEqual([]);
    expect(decision.wal).toEqual([]);
    expect(decision.outbound[0]).toMatchObject({ type: 'reply', commandId: 'bad', status: 'rejected' });
  });

  it('dead-letters a command delivered more than maxDeliveries times', () => {
    const d = new CoreDriver();
    const decision = d.command({ id: 'poison', userId: 'u', type: 'status' }, d.config.maxDeliveries + 1);
    expect(decision.deadLetters[0]?.reason).toMatch(/delivered 6 times/);
    expect(decision.outbound[0]).toMatchObject({ commandId: 'poison', status: 'rejected' });
  });

  it('keeps live trading behind the engine switch and an approval', () => {
    const off = new CoreDriver();
    expect(JSON.stringify(off.command({ id: 'l', userId: 'u', type: 'session.start', mode: 'live', capitalUsd: 100 }).outbound)).toMatch(/disabled/);
    const on = new CoreDriver(1_700_000_000_000, { ...off.config, liveTradingEnabled: true, liveApprovedUserIds: ['ok'] });
    expect(JSON.stringify(on.command({ id: 'l1', userId: 'u', type: 'session.start', mode: 'live', capitalUsd: 100 }).outbound)).toMatch(/approval/);
    expect(on.command({ id: 'l2', userId: 'ok', type: 'session.start', mode: 'live', capitalUsd: 100 }).outbound[0]).toMatchObject({ status: 'done' });
  });

  it('allows admin commands and signals only from their configured senders', () => {
    const d = new CoreDriver();
    expect(d.command({ id: 'h1', userId: 'mallory', type: 'admin.halt_all' }).outbound[0]).toMatchObject({ status: 'rejected', reason: 'admin only' });
    expect(d.command({ id: 's1', userId: 'mallory', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 1 }] }).outbound[0]).toMatchObject({ status: 'rejected' });
    expect(d.command({ id: 'h2', userId: 'operator', type: 'admin.halt_all' }).outbound.at(-1)).toMatchObject({ status: 'done' });
    expect(d.state.durable.halted).toBe(true);
  });
});
