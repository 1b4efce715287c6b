import { describe, expect, it } from 'vitest';
import type { CommandType } from '../../src/contract/commands.js';
import { buildCommand, commandTypes, parseCommand } from '../../src/contract/commands.js';
import { parseOutboundEvent } from '../../src/contract/outbound.js';
import { parseWalRecord, serializeWalEvent } from '../../src/contract/wal.js';
import { CoreDriver } from '../core/fixtures.js';

// One example of every command type, as a producer builds it.
const examples: { [T in CommandType]: Parameters<typeof buildCommand<T>>[1] } = {
  'session.start': { id: 'c1', userId: 'alice', mode: 'paper', capitalUsd: 10_000, stopLossPct: 5, horizonHours: 1 },
  'session.stop': { id: 'c2', userId: 'alice' },
  'session.exit': { id: 'c2x', userId: 'alice', symbol: 'BTCUSDT' },
  'session.set_stoploss': { id: 'c3', userId: 'alice', pct: 2 },
  'session.set_horizon': { id: 'c4', userId: 'alice', hours: 2 },
  'session.pause': { id: 'c5', userId: 'alice' },
  'session.resume': { id: 'c6', userId: 'alice' },
  'signals.route': { id: 'c7', userId: 'signals', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] },
  'admin.halt_all': { id: 'c8', userId: 'operator', reason: 'drill' },
  'admin.resume_all': { id: 'c9', userId: 'operator' },
  'admin.approve_live': { id: 'c10', userId: 'operator', targetUserId: 'alice' },
  'admin.users': { id: 'c11', userId: 'operator' },
  status: { id: 'c12', userId: 'alice' },
  trades: { id: 'c13', userId: 'alice', limit: 5 },
};

function build<T extends CommandType>(type: T): string {
  const built = buildCommand(type, examples[type]);
  if (!built.ok) throw new Error(built.reason);
  return built.json;
}

describe('contract round trips', () => {
  it('every command type built by the builder parses to the same command', () => {
    for (const type of commandTypes) {
      const json = build(type);
      const parsed = parseCommand(json, 64 * 1024);
      expect(parsed).toMatchObject({ ok: true, command: { type } });
      if (parsed.ok) expect(JSON.stringify(parsed.command)).toBe(json);
    }
    expect(buildCommand('session.set_stoploss', { id: 'bad id', userId: 'alice', pct: 200 })).toMatchObject({ ok: false });
  });

  it('every outbound event and WAL event of a core run parses through the contract, equal after the round trip', () => {
    const d = new CoreDriver({ config: { ...new CoreDriver().config, adminUserIds: ['operator'], signalSourceIds: ['signals'] } });
    d.tick('BTCUSDT', 50_000, 50_001);
    for (const type of commandTypes) d.command(build(type));
    d.timer(10_000);
    const outbound = d.decisions.flatMap((x) => x.outbound);
    expect(outbound.length).toBeGreaterThan(commandTypes.length);
    for (const event of outbound) {
      const parsed = parseOutboundEvent(JSON.stringify(event));
      if (!parsed.ok) throw new Error(`${JSON.stringify(event).slice(0, 200)}: ${parsed.reason}`);
      expect(parsed.event).toEqual(JSON.parse(JSON.stringify(event)));
    }
    expect(d.wal.length).toBeGreaterThan(5);
    d.wal.forEach((event, i) => expect(parseWalRecord(`1-${i}`, serializeWalEvent(event))).toEqual(JSON.parse(JSON.stringify(event)))); // The text written is what stringifying the event with its version last gives (older readers compare none, but
    // the WAL's bytes stay as they were when serializing stopped copying the event).
    for (const event of d.wal) expect(serializeWalEvent(event)).toBe(JSON.stringify({ ...event, schemaVersion: 1 }));
  });

  it('reads a version-0 WAL record (no schemaVersion) and names the entry of a corrupt one', () => {
    expect(parseWalRecord('7-0', JSON.stringify({ type: 'engine.initialized', epoch: 'e1' }))).toEqual({ type: 'engine.initialized', epoch: 'e1' });
    expect(() => parseWalRecord('7-1', '{"type":"session.paused","userId":"a"}')).toThrow(/WAL entry 7-1: invalid event: paused/);
    expect(() => parseWalRecord('7-2', 'nope')).toThrow(/WAL entry 7-2: not JSON/);
    expect(() => parseWalRecord('7-3', JSON.stringify({ type: 'engine.initialized', epoch: 'e', schemaVersion: 9 }))).toThrow(
      /WAL entry 7-3: unsupported schemaVersion/,
    );
  });
});
