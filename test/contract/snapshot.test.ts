import { describe, expect, it } from 'vitest';
import type { SnapshotSliceBounds } from '../../src/contract/snapshot.js';
import { parseSnapshot, serializeSnapshot, snapshotSlices } from '../../src/contract/snapshot.js';
import { ProcessedIds } from '../../src/core/processed-ids.js';
import type { DurableState } from '../../src/core/state.js';
import { emptyDurableState } from '../../src/core/state.js';
import { serializeWalEvent } from '../../src/contract/wal.js';
import { replayLog } from '../../src/engine/engine.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { CoreDriver, testConfig, viaJson } from '../core/fixtures.js';

// Snapshots and the WAL are read back through the contract: every field checked, keyed records rebuilt as
// prototype-free Dicts (a user may be called "__proto__"), an unreadable record named with the reason.

function busyDriver(): CoreDriver {
  const d = new CoreDriver();
  d.tick('BTCUSDT', 50_000, 50_001);
  d.tick('ETHUSDT', 3_000, 3_000.5);
  for (const userId of ['alice', '__proto__', 'constructor']) {
    d.command({ id: `s-${userId}`, userId, type: 'session.start', mode: 'paper', capitalUsd: 20_000, stopLossPct: 5 });
  }
  d.command({ id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.4 }] });
  d.command({ id: 'a1', userId: 'operator', type: 'admin.approve_live', targetUserId: '__proto__' });
  return d;
}

describe('snapshot contract', () => {
  it('round-trips the durable state exactly, "__proto__" sessions included', () => {
    const d = busyDriver();
    const back = parseSnapshot('9-0', serializeSnapshot(d.state.durable));
    expect(viaJson(back)).toEqual(viaJson(d.state.durable));
    expect(back.sessions.keys().sort()).toEqual(['__proto__', 'alice', 'constructor']);
    expect(back.sessions.get('constructor')?.userId).toBe('constructor');
    // A session's records by symbol read back answer no inherited name (a fast object over a bare prototype, dict.ts).
    const positions = back.sessions.get('__proto__')?.positions as Record<string, unknown>;
    expect([positions.constructor, positions.toString, positions.__proto__]).toEqual([undefined, undefined, undefined]);
    expect(back.liveApprovedUserIds['__proto__']).toBe(true);
  });

  it('reads a snapshot written before schemaVersion existed, filling fields it lacks', () => {
    const d = busyDriver();
    const old = JSON.parse(JSON.stringify(d.state.durable)) as Record<string, unknown>;
    delete old.liveApprovedUserIds;
    const back = parseSnapshot('9-0', JSON.stringify(old));
    expect(back.liveApprovedUserIds).toEqual({});
    expect(back.sessions.keys()).toHaveLength(3);
  });

  it('remembers every processed command id, "__proto__" included, and refuses an id set that is not all true', () => {
    const d = busyDriver();
    d.command({ id: '__proto__', userId: 'alice', type: 'status' });
    const back = parseSnapshot('9-0', serializeSnapshot(d.state.durable));
    expect(back.processedCommandIds.ids()).toEqual(d.state.durable.processedCommandIds.ids());
    expect(back.processedCommandIds.has('__proto__')).toBe(true);
    const bad = JSON.parse(serializeSnapshot(d.state.durable)) as { processedCommandIds: { ids: Record<string, unknown> }[] };
    const generation = bad.processedCommandIds[0];
    if (generation) generation.ids.r1 = 1;
    expect(() => parseSnapshot('12-6', JSON.stringify(bad))).toThrow(/12-6: processedCommandIds\.0\.ids\.r1/);
  });

  it('names the snapshot and the field it cannot read', () => {
    const d = busyDriver();
    const bad = JSON.parse(serializeSnapshot(d.state.durable)) as { sessions: Record<string, { capitalUsd: unknown }> };
    const alice = bad.sessions.alice;
    if (alice) alice.capitalUsd = 'lots';
    expect(() => parseSnapshot('12-3', JSON.stringify(bad))).toThrow(/snapshot at WAL entry 12-3: sessions\.alice\.capitalUsd/);
    expect(() => parseSnapshot('12-4', '{')).toThrow(/12-4: not JSON/);
    expect(() => parseSnapshot('12-5', JSON.stringify({ schemaVersion: 99 }))).toThrow(/12-5/);
  });

  it('written in slices, a snapshot is serializeSnapshot byte for byte, each slice within its bounds', () => {
    const d = busyDriver();
    const ids = Array.from({ length: 2_500 }, (_, i) => `cmd-${i}`);
    const states: DurableState[] = [
      emptyDurableState(),
      d.state.durable,
      { ...d.state.durable, processedCommandIds: ProcessedIds.of(['__proto__', 'a"quote', 'ü', ...ids]) },
    ];
    const allBounds: SnapshotSliceBounds[] = [
      { idsPerSlice: 1, entriesPerSlice: 1 },
      { idsPerSlice: 7, entriesPerSlice: 2 },
      { idsPerSlice: 1_000, entriesPerSlice: 250 },
      { idsPerSlice: 100_000, entriesPerSlice: 100_000 },
    ];
    for (const state of states) {
      for (const bounds of allBounds) {
        const slices: string[] = [];
        const iterator = snapshotSlices(state, bounds);
        for (let next = iterator.next(); ; next = iterator.next()) {
          slices.push(next.value);
          if (next.done === true) break;
        }
        expect(slices.join('')).toBe(serializeSnapshot(state));
        const idCount = state.processedCommandIds.size;
        // One slice per bound's worth of ids (ids and entries share a slice in proportion), at most one more.
        if (bounds.entriesPerSlice === 100_000) expect(slices).toHaveLength(1);
        if (bounds.idsPerSlice === 1_000) expect(slices.length).toBeLessThanOrEqual(Math.ceil(idCount / 1_000) + 1);
        if (bounds.idsPerSlice === 7) expect(slices.length).toBeGreaterThanOrEqual(Math.floor(idCount / 7));
      }
    }
  });

  it('replay stops with the entry id and the reason on a WAL record it cannot read', async () => {
    const d = busyDriver();
    const log = openMemoryLog();
    await log.init();
    const records = d.wal.map(serializeWalEvent);
    records.splice(3, 0, JSON.stringify({ type: 'fill', userId: 'alice', qty: 'much' }));
    const ids = await log.commit({ wal: records, outbound: [], ack: [], deadLetters: [] });
    await expect(replayLog(log, testConfig)).rejects.toThrow(new RegExp(`WAL entry ${ids[3]}: invalid event`));
  });

  it('replay reads a WAL written before schemaVersion existed', async () => {
    const d = busyDriver();
    const log = openMemoryLog();
    await log.init();
    await log.commit({ wal: d.wal.map((e) => JSON.stringify(e)), outbound: [], ack: [], deadLetters: [] });
    const replayed = await replayLog(log, testConfig);
    expect(viaJson(replayed.durable)).toEqual(viaJson(d.state.durable));
  });
});
