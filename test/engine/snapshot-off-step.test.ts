import { describe, expect, it } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Input } from '../../src/core/decide.js';
import { ProcessedIds } from '../../src/core/processed-ids.js';
import type { Engine, EngineLimits } from '../../src/engine/engine.js';
import { replayLog } from '../../src/engine/engine.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { MemoryLog } from '../../src/log/memory-log.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import type { Snapshot } from '../../src/log/port.js';
import { serializeSnapshot } from '../../src/contract/snapshot.js';
import { T0 } from '../core/fixtures.js';
import { bootBtcEngine } from '../support/btc-engine.js';

// Issue 12: a control command never waits behind bulk work. A snapshot of 100 000 remembered command ids and every
// session took 40 ms and more inside the step that made it due, so a /stop queued behind that step waited as long.
// The step now only captures the committed state; the snapshot is written after it, in slices with a turn of the
// event loop between them, and saved once whole: the same text serializeSnapshot gives for that state.

const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'] };
const rememberedIds = 100_000;
/** Every step that commits makes a snapshot due, by count alone. */
const limits: EngineLimits = { snapshotEveryWalEvents: 1, replayBatchEntries: 1_000 };

interface Rig {
  log: MemoryLog;
  engine: Engine;
  /** Snapshots saved since the rig was ready, in order. */
  saved: Snapshot[];
  /** What happened, in order: 'saved <walId>' and what the test marks. */
  events: string[];
  /** The WAL id of the newest event committed. */
  lastWalId: () => string | undefined;
  send: (command: object) => Promise<void>;
}

/** An engine holding u1's open session and 100 000 remembered command ids (booted from a snapshot that has them). */
async function rig(): Promise<Rig> {
  const clock = new ManualClock(T0);
  const log = openMemoryLog({ nowMs: () => clock.nowMs() });
  await log.init();
  const send = async (engine: Engine, command: object): Promise<void> => {
    await log.appendCommand(JSON.stringify(command));
    const deliveries = await log.readCommands('exec', 10, 0);
    await engine.submitBatch(deliveries.map((delivery): Input => ({ kind: 'command', delivery })));
  };
  const first = await bootBtcEngine({ log, config, clock, limits, onEffects: () => undefined, onEngine: () => undefined });
  await send(first, { id: 'start-u1', userId: 'u1', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
  await first.drain();
  // The same state with 100 000 ids more, as a long run leaves it: saved as the snapshot the next boot starts from.
  const wal = await log.readWal(null, 1_000_000);
  const walId = wal[wal.length - 1]?.id ?? '0';
  const durable = first.current.durable;
  const ids = [...Array.from({ length: rememberedIds }, (_, i) => `old-${i}`), ...durable.processedCommandIds.ids()];
  await log.saveSnapshot({ walId, data: serializeSnapshot({ ...durable, processedCommandIds: ProcessedIds.of(ids) }) });

  const engine = await bootBtcEngine({ log, config, clock, limits, onEffects: () => undefined, onEngine: () => undefined });
  await engine.drain(); // boot's own steps may have made a snapshot due: written before the test starts
  expect(engine.current.durable.processedCommandIds.size).toBeGreaterThanOrEqual(rememberedIds);
  const saved: Snapshot[] = [];
  const events: string[] = [];
  let committed: string | undefined;
  const commit = log.commit.bind(log);
  log.commit = async (batch) => {
    const ids = await commit(batch);
    committed = ids[ids.length - 1] ?? committed;
    return ids;
  };
  const save = log.saveSnapshot.bind(log);
  log.saveSnapshot = async (snapshot) => {
    await save(snapshot);
    saved.push(snapshot);
    events.push(`saved ${snapshot.walId}`);
  };
  return { log, engine, saved, events, lastWalId: () => committed, send: (command) => send(engine, command) };
}

describe('snapshots outside the engine step', () => {
  it('the step that makes a snapshot due resolves before it is saved; a /stop sent then commits before the save', async () => {
    const { log, engine, saved, events, lastWalId, send } = await rig();
    await send({ id: 'sl-1', userId: 'u1', type: 'session.set_stoploss', pct: 5 });
    // The step is answered, its snapshot not saved yet (it was, inside the step, before).
    expect(saved).toHaveLength(0);
    const dueAt = lastWalId();
    const stateAtDue = engine.current.durable;
    const expected = serializeSnapshot(stateAtDue);
    const stopped = send({ id: 'stop-1', userId: 'u1', type: 'session.stop' }).then(() => events.push('stop committed'));
    await stopped;
    await engine.drain();
    expect(events).toEqual(['stop committed', `saved ${dueAt}`]);
    expect(engine.current.durable.sessions.get('u1')?.status).not.toBe('active');

    // The snapshot is the state at its WAL id, byte for byte, though the /stop changed the state meanwhile.
    expect(saved[0]?.data).toBe(expected);
    // Boot reads it and replays the /stop after it: the engine's state exactly.
    const replayed = await replayLog(log, config, limits);
    expect(replayed.fromSnapshot).toBe(true);
    expect(replayed.replayedEvents).toBeGreaterThan(0);
    expect(serializeSnapshot(replayed.durable)).toBe(serializeSnapshot(engine.current.durable));
    const rebooted = await bootBtcEngine({ log, config, clock: new ManualClock(T0), limits, onEffects: () => undefined, onEngine: () => undefined });
    expect(rebooted.current.durable.processedCommandIds.has('stop-1')).toBe(true);
    expect(rebooted.current.durable.processedCommandIds.has(`old-${rememberedIds - 1}`)).toBe(true);
    expect(rebooted.current.durable.sessions.get('u1')?.status).toBe(engine.current.durable.sessions.get('u1')?.status);
    await rebooted.drain();
  });

  it('writes one snapshot at a time: one due meanwhile waits for the next step that finds it due', async () => {
    const { engine, saved, lastWalId, send } = await rig();
    await send({ id: 'sl-1', userId: 'u1', type: 'session.set_stoploss', pct: 5 });
    const firstAt = lastWalId();
    await send({ id: 'sl-2', userId: 'u1', type: 'session.set_stoploss', pct: 6 });
    await engine.drain();
    expect(saved.map((s) => s.walId)).toEqual([firstAt]);
    await send({ id: 'sl-3', userId: 'u1', type: 'session.set_stoploss', pct: 7 });
    const secondAt = lastWalId();
    await engine.drain();
    expect(saved.map((s) => s.walId)).toEqual([firstAt, secondAt]);
    expect(saved[1]?.data).toBe(serializeSnapshot(engine.current.durable));
  });

  it('a crash part-way through a snapshot saves nothing: the previous snapshot and the WAL give the same state', async () => {
    const { log, engine, saved, send } = await rig();
    await send({ id: 'sl-1', userId: 'u1', type: 'session.set_stoploss', pct: 5 });
    engine.abandon(); // the process dies while the slices are being written
    await engine.drain();
    expect(saved).toHaveLength(0);
    const replayed = await replayLog(log, config, limits);
    expect(replayed.fromSnapshot).toBe(true);
    expect(serializeSnapshot(replayed.durable)).toBe(serializeSnapshot(engine.current.durable));
  });
});
