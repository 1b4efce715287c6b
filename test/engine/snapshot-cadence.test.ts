import { describe, expect, it } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Input } from '../../src/core/decide.js';
import type { EngineLimits } from '../../src/engine/engine.js';
import { defaultEngineLimits, replayLog } from '../../src/engine/engine.js';
import { ManualClock } from '../../src/engine/clock.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { T0 } from '../core/fixtures.js';
import { bootBtcEngine } from '../support/btc-engine.js';

// Snapshots cost their whole state (every session, up to 100 000 remembered command ids). Written every N events
// whatever their size, a long run spends more on snapshots than on its WAL, more the longer it runs (40 % of a
// command's cost at 60 000 remembered ids). Tied to their size (snapshotWalBytesPerSnapshotByte), the bytes
// snapshots write stay within the WAL's, and a boot still replays at most about a snapshot's worth of WAL.

const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'] };
const users = Array.from({ length: 20 }, (_, i) => `u${i}`);
const commandCount = 3_000;
const commandsPerBatch = 20;

async function run(limits: EngineLimits): Promise<{ walBytes: number; snapshotBytes: number; snapshots: number; replayedEvents: number }> {
  const clock = new ManualClock(T0);
  const log = openMemoryLog({ nowMs: () => clock.nowMs() });
  await log.init();
  let snapshotBytes = 0;
  let snapshots = 0;
  const save = log.saveSnapshot.bind(log);
  log.saveSnapshot = async (snapshot) => {
    snapshots += 1;
    snapshotBytes += snapshot.data.length;
    await save(snapshot);
  };
  let walBytes = 0;
  const commit = log.commit.bind(log);
  log.commit = async (batch) => {
    for (const data of batch.wal) walBytes += data.length;
    return commit(batch);
  };
  const engine = await bootBtcEngine({ log, config, clock, limits, onEffects: () => undefined, onEngine: () => undefined });
  const send = async (commands: object[]): Promise<void> => {
    for (const c of commands) await log.appendCommand(JSON.stringify(c));
    const deliveries = await log.readCommands('exec', commands.length, 0);
    await engine.submitBatch(deliveries.map((delivery): Input => ({ kind: 'command', delivery })));
  };
  await send(users.map((userId) => ({ id: `start-${userId}`, userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000 })));
  for (let i = 0; i < commandCount; i += commandsPerBatch) {
    await send(
      Array.from({ length: commandsPerBatch }, (_, j) => ({
        id: `sl-${i + j}`,
        userId: users[(i + j) % users.length],
        type: 'session.set_stoploss',
        pct: 1 + ((i + j) % 40),
      })),
    );
  }
  const { replayedEvents } = await replayLog(log, config, limits);
  return { walBytes, snapshotBytes, snapshots, replayedEvents };
}

describe('snapshot cadence', () => {
  const everyTenEvents = { snapshotEveryWalEvents: 10, replayBatchEntries: 1_000 };

  it('by count alone, a snapshot every N events writes more bytes than the WAL it covers (the old cadence)', async () => {
    const byCount = await run(everyTenEvents);
    expect(byCount.snapshots).toBeGreaterThanOrEqual(commandCount / commandsPerBatch); // one per step: each step writes 20 events
    expect(byCount.snapshotBytes).toBeGreaterThan(byCount.walBytes * 5);
  });

  it('tied to its size, snapshots write at most the WAL bytes they cover, and boot replays about one snapshot of WAL', async () => {
    const bySize = await run({ ...everyTenEvents, snapshotWalBytesPerSnapshotByte: 1 });
    expect(bySize.snapshots).toBeGreaterThan(1);
    // Each snapshot is written once the WAL since the previous is at least as large as that one (the first after N events).
    expect(bySize.snapshotBytes).toBeLessThanOrEqual(bySize.walBytes * 1.2);
    // What boot replays beyond the last snapshot: fewer events than one snapshot's bytes would hold at ≥ 50 bytes each.
    const lastSnapshotBytes = bySize.snapshotBytes / bySize.snapshots;
    expect(bySize.replayedEvents).toBeLessThanOrEqual(Math.max(10, (lastSnapshotBytes * 2) / 50));
  });

  it('by default, snapshots write at most about a quarter of the WAL bytes they cover (4 WAL bytes a snapshot byte)', async () => {
    const byDefault = await run({ ...everyTenEvents, snapshotWalBytesPerSnapshotByte: defaultEngineLimits.snapshotWalBytesPerSnapshotByte });
    expect(byDefault.snapshots).toBeGreaterThan(1);
    // At 1 WAL byte a snapshot byte (the former default) they wrote about as many bytes as the WAL (the test above).
    expect(byDefault.snapshotBytes).toBeLessThanOrEqual(byDefault.walBytes * 0.3);
  });
});
