import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCoreConfig } from '../src/core/config.js';
import type { WalEvent } from '../src/core/events.js';
import { foldEvents } from '../src/core/events.js';
import { emptyDurableState } from '../src/core/state.js';
import { replayLog } from '../src/engine/engine.js';
import type { EngineLog } from '../src/log/port.js';
import { openMemoryLog } from '../src/log/memory-log.js';
import { openRedisLog } from '../src/log/redis-log.js';
import { openSqliteLog } from '../src/log/sqlite-log.js';
import { deletePrefix, knob, perSecond, prefix, redisUrl } from './common.js';
import { walEventAt, writeWal } from './wal-fixture.js';

// WAL throughput: the pure fold in memory, and boot's replayLog (read + validate + fold) from each log.

const foldSessions = 1_000;

export interface ReplayFigures {
  walEvents: number;
  /**
   * foldEvents over already-parsed events, in memory: the core's share of a replay. The median of walFoldPasses
   * timed passes after one untimed warm-up pass (compilation, and the fixture's own garbage, are not charged to it).
   */
  walFoldEventsPerSecond: number;
  /** The fastest of those passes. */
  walFoldBestEventsPerSecond: number;
  walFoldPasses: number;
  walReplayMemoryEventsPerSecond: number;
  walReplaySqliteEventsPerSecond: number;
  walReplayRedisEventsPerSecond: number;
  /** Same as walReplayRedisEventsPerSecond (the name earlier benches used). */
  walReplayEventsPerSecond: number;
  walReplayedEvents: number;
}

async function timedReplay(log: EngineLog, events: number): Promise<{ perSecond: number; replayed: number }> {
  await log.init();
  await writeWal(log, events, foldSessions);
  const t = performance.now();
  const result = await replayLog(log, defaultCoreConfig);
  return { perSecond: perSecond(result.replayedEvents, performance.now() - t), replayed: result.replayedEvents };
}

/** Events per second of each of `passes` folds of `parsed`, slowest first, after one untimed warm-up fold. */
function timedFolds(parsed: readonly WalEvent[], passes: number): { median: number; best: number; passes: number } {
  foldEvents(emptyDurableState(), parsed, defaultCoreConfig);
  const rates: number[] = [];
  for (let pass = 0; pass < Math.max(1, passes); pass += 1) {
    const t = performance.now();
    foldEvents(emptyDurableState(), parsed, defaultCoreConfig);
    rates.push(perSecond(parsed.length, performance.now() - t));
  }
  rates.sort((a, b) => a - b);
  return { median: rates[Math.floor(rates.length / 2)] ?? 0, best: rates[rates.length - 1] ?? 0, passes: rates.length };
}

export async function measureReplay(): Promise<ReplayFigures> {
  const events = knob('BENCH_WAL_EVENTS', 100_000);

  const parsed = Array.from({ length: events }, (_, i) => walEventAt(i, foldSessions));
  const fold = timedFolds(parsed, knob('BENCH_FOLD_PASSES', 5));

  const memory = openMemoryLog();
  const fromMemory = await timedReplay(memory, events);
  await memory.close();

  const dir = mkdtempSync(join(tmpdir(), 'qe-bench-'));
  const sqlite = openSqliteLog({ path: join(dir, 'bench.sqlite') });
  const fromSqlite = await timedReplay(sqlite, events);
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });

  const p = prefix('replay');
  const redis = await openRedisLog({ url: redisUrl, prefix: p });
  const fromRedis = await timedReplay(redis, events);
  await redis.close();
  await deletePrefix(p);

  return {
    walEvents: events,
    walFoldEventsPerSecond: fold.median,
    walFoldBestEventsPerSecond: fold.best,
    walFoldPasses: fold.passes,
    walReplayMemoryEventsPerSecond: fromMemory.perSecond,
    walReplaySqliteEventsPerSecond: fromSqlite.perSecond,
    walReplayRedisEventsPerSecond: fromRedis.perSecond,
    walReplayEventsPerSecond: fromRedis.perSecond,
    walReplayedEvents: fromRedis.replayed,
  };
}

// `npx tsx bench/replay.ts`: this part alone (the whole bench runs it from run.ts).
if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await measureReplay())}\n`);
}
