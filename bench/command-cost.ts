import type { Input } from '../src/core/decide.js';
import { defaultEngineLimits } from '../src/engine/engine.js';
import { serializeSnapshot } from '../src/contract/snapshot.js';
import { ManualClock } from '../src/engine/clock.js';
import { openMemoryLog } from '../src/log/memory-log.js';
import { openRedisLog } from '../src/log/redis-log.js';
import { silentLogger } from '../src/util/logger.js';
import { deletePrefix, knob, prefix, redisUrl, round1 } from './common.js';
import { bootOnSimExchange } from './sim-engine.js';

// `npx tsx bench/command-cost.ts`: the engine kernel's own cost per command, without the service around it. Boots
// the engine on the in-memory log (or Redis with BENCH_REDIS=1), starts BENCH_USERS (50) paper sessions, then decides
// BENCH_COMMANDS (20 000) session.set_stoploss commands, BENCH_REPEATS (3) times over, read and submitted 100 at a
// time as the execution service does. Prints one line per repeat: wall time and CPU time per command. The repeats
// show whether the cost grows with history (remembered ids, snapshots): it should not.

const users = knob('BENCH_USERS', 50);
const count = knob('BENCH_COMMANDS', 20_000);
const repeats = knob('BENCH_REPEATS', 3);
/** Steps slower than this are counted (stepsOverBudget): the bound on what a /stop may wait behind. */
const stepBudgetMs = knob('BENCH_STEP_BUDGET_MS', 20);
/** Commands read and decided together, as the execution service's command loop reads them. */
const readBatchEntries = 100;
const onRedis = process.env.BENCH_REDIS === '1';

const clock = new ManualClock(1_700_000_000_000);
const keyPrefix = prefix('command-cost');
const log = onRedis ? await openRedisLog({ url: redisUrl, prefix: keyPrefix }) : openMemoryLog({ nowMs: () => clock.nowMs() });
await log.init();
const engine = await bootOnSimExchange(log, clock, { logger: silentLogger(), limits: { ...defaultEngineLimits, stepBudgetMs } });
let snapshots = 0;
const save = log.saveSnapshot.bind(log);
log.saveSnapshot = async (snapshot) => {
  snapshots += 1;
  await save(snapshot);
};

const round = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : round1(ms));

/** Appends the commands (in pipelined chunks), then reads and decides them until none is left. */
async function decideAll(commands: string[]): Promise<void> {
  for (let i = 0; i < commands.length; i += 1_000) await Promise.all(commands.slice(i, i + 1_000).map((c) => log.appendCommand(c)));
  for (;;) {
    const deliveries = await log.readCommands('cost', readBatchEntries, onRedis ? 1 : 0);
    if (deliveries.length === 0) return;
    await engine.submitBatch(deliveries.map((delivery): Input => ({ kind: 'command', delivery })));
    // One event-loop turn per batch, as a real log's round trip gives: work the engine does between steps (a
    // snapshot's slices) runs there, as in the service, instead of only after the last batch.
    if (!onRedis) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

try {
  await decideAll(
    Array.from({ length: users }, (_, u) => JSON.stringify({ id: `start:${u}`, userId: `u${u}`, type: 'session.start', mode: 'paper', capitalUsd: 10_000 })),
  );
  for (let repeat = 0; repeat < repeats; repeat += 1) {
    const commands = Array.from({ length: count }, (_, i) =>
      JSON.stringify({ id: `sl:${repeat}:${i}`, userId: `u${i % users}`, type: 'session.set_stoploss', pct: 1 + (i % 50) }),
    );
    // Appending is the harness's work, not the engine's: done before the clocks start.
    for (let i = 0; i < commands.length; i += 1_000) await Promise.all(commands.slice(i, i + 1_000).map((c) => log.appendCommand(c)));
    const startedAt = performance.now();
    const cpuAtStart = process.cpuUsage();
    await decideAll([]);
    await engine.drain(); // a snapshot still being written is part of the cost
    const wallMs = performance.now() - startedAt;
    const cpu = process.cpuUsage(cpuAtStart);
    process.stdout.write(
      `${JSON.stringify({
        repeat,
        commands: count,
        log: onRedis ? 'redis' : 'memory',
        commandsPerSecond: Math.round(count / (wallMs / 1_000)),
        wallUsPerCommand: Math.round((wallMs * 1_000) / count),
        cpuUsPerCommand: Math.round((cpu.user + cpu.system) / count),
        // Engine steps since boot: the slowest (ms), and how many took longer than stepBudgetMs: a /stop queued
        // behind one waited that long. A snapshot's slices run between steps: the slowest is what an input waits.
        slowestStepMs: round(engine.stepTimes.slowestMs),
        stepsOverBudget: engine.stepTimes.overBudget,
        stepBudgetMs,
        slowestSnapshotSliceMs: round(engine.stepTimes.slowestSnapshotSliceMs),
        rememberedIds: engine.current.durable.processedCommandIds.size,
        snapshots,
      })}\n`,
    );
  }
  // What one snapshot of the final state costs written in one go (serializeSnapshot), for scale.
  const startedAt = performance.now();
  const bytes = serializeSnapshot(engine.current.durable).length;
  process.stdout.write(`${JSON.stringify({ snapshotBytes: bytes, serializeSnapshotMs: round(performance.now() - startedAt) })}\n`);
} finally {
  await log.close();
  if (onRedis) await deletePrefix(keyPrefix);
}
