import { serializeSnapshot } from '../src/contract/snapshot.js';
import type { Input } from '../src/core/decide.js';
import { ProcessedIds } from '../src/core/processed-ids.js';
import { ManualClock } from '../src/engine/clock.js';
import type { Engine, EngineLimits } from '../src/engine/engine.js';
import { openMemoryLog } from '../src/log/memory-log.js';
import { silentLogger } from '../src/util/logger.js';
import { knob, percentile, round1 } from './common.js';
import { bootOnSimExchange } from './sim-engine.js';

// `npx tsx bench/snapshot-step.ts`: what snapshots of a large state cost a /stop (issue 12). Boots the engine on the
// memory log from a snapshot of BENCH_SESSIONS (1 000) paper sessions and 100 000 remembered command ids, then decides
// BENCH_COMMANDS (20 000) stop-loss changes, 100 a step, a snapshot due every BENCH_SNAPSHOT_EVERY (1 000) WAL events.
// With each step a session.stop arrives through the event loop (a setImmediate, as a socket's data would): its wait
// from arrival to commit is what the issue bounds. Prints, for that phase, the slowest step and the steps over 20 ms
// (wall and CPU time), the slowest snapshot slice since boot (absent on an engine that writes snapshots in its step)
// and the /stop's wait (max, p99, p50, ms).

const sessions = knob('BENCH_SESSIONS', 1_000);
const count = knob('BENCH_COMMANDS', 20_000);
const snapshotEvery = knob('BENCH_SNAPSHOT_EVERY', 1_000);
const rememberedIds = 100_000;
const perStep = 100;
const stepBudgetMs = 20;

const clock = new ManualClock(1_700_000_000_000);
const log = openMemoryLog({ nowMs: () => clock.nowMs() });
await log.init();
const limits: EngineLimits = { snapshotEveryWalEvents: snapshotEvery, replayBatchEntries: 1_000, stepBudgetMs };
const bootEngine = (): Promise<Engine> => bootOnSimExchange(log, clock, { logger: silentLogger(), limits });

/**
 * Each step's wall time and the process's CPU time meanwhile (ms), from the engine's private `step` wrapped on this
 * instance (its own step times are since boot). On a busy machine wall time counts the other processes' turns too;
 * CPU time does not (it does count the GC's helper threads).
 */
function timeSteps(engine: Engine): { wallMs: number[]; cpuMs: number[] } {
  const target = engine as unknown as { step?: (inputs: Input[]) => Promise<void> };
  const original = target.step;
  if (typeof original !== 'function') throw new Error('Engine.step is gone: update bench/snapshot-step.ts');
  const times = { wallMs: [] as number[], cpuMs: [] as number[] };
  target.step = async (inputs: Input[]): Promise<void> => {
    const startedAt = performance.now();
    const cpuAtStart = process.cpuUsage();
    try {
      await original.call(engine, inputs);
    } finally {
      const cpu = process.cpuUsage(cpuAtStart);
      times.wallMs.push(performance.now() - startedAt);
      times.cpuMs.push((cpu.user + cpu.system) / 1_000);
    }
  };
  return times;
}

const commandInputs = async (commands: object[]): Promise<Input[]> => {
  await Promise.all(commands.map((c) => log.appendCommand(JSON.stringify(c))));
  const deliveries = await log.readCommands('bench', commands.length, 0);
  return deliveries.map((delivery): Input => ({ kind: 'command', delivery }));
};

// The sessions, then the same state with 100 000 remembered ids saved as the snapshot the measured engine boots from.
const first = await bootEngine();
for (let u = 0; u < sessions; u += perStep) {
  const starts = Array.from({ length: Math.min(perStep, sessions - u) }, (_, i) => ({
    id: `start:${u + i}`,
    userId: `u${u + i}`,
    type: 'session.start',
    mode: 'paper',
    capitalUsd: 10_000,
  }));
  await first.submitBatch(await commandInputs(starts));
}
await first.drain();
const wal = await log.readWal(null, 10_000_000);
const durable = first.current.durable;
const ids = [...Array.from({ length: rememberedIds }, (_, i) => `old:${i}`), ...durable.processedCommandIds.ids()].slice(-rememberedIds);
await log.saveSnapshot({ walId: wal[wal.length - 1]?.id ?? '0', data: serializeSnapshot({ ...durable, processedCommandIds: ProcessedIds.of(ids) }) });

const engine = await bootEngine();
// Boot reconciles every session in the background: measured once its steps are done.
for (let steps = -1; steps !== engine.stepTimes.steps;) {
  steps = engine.stepTimes.steps;
  await engine.drain();
  await new Promise<void>((resolve) => setTimeout(resolve, 50));
}
const steps = timeSteps(engine);
let snapshots = 0;
const save = log.saveSnapshot.bind(log);
log.saveSnapshot = async (snapshot) => {
  snapshots += 1;
  await save(snapshot);
};
const stopWaits: number[] = [];
const stops: Promise<void>[] = [];
for (let i = 0, step = 0; i < count; i += perStep, step += 1) {
  const batch = Array.from({ length: perStep }, (_, j) => ({
    id: `sl:${i + j}`,
    userId: `u${(i + j) % sessions}`,
    type: 'session.set_stoploss',
    pct: 1 + ((i + j) % 50),
  }));
  const inputs = await commandInputs(batch);
  const [stop] = await commandInputs([{ id: `stop:${step}`, userId: `u${step % sessions}`, type: 'session.stop' }]);
  const arrivedAt = performance.now();
  setImmediate(() => {
    if (stop) stops.push(engine.submit(stop).then(() => void stopWaits.push(performance.now() - arrivedAt)));
  });
  await engine.submitBatch(inputs);
  // A turn of the event loop per batch, as the log's round trip gives the service: the /stop arrives there.
  await new Promise<void>((resolve) => setImmediate(resolve));
}
await Promise.all(stops);
await engine.drain();

const sorted = [...stopWaits].sort((a, b) => a - b);
const ms = (value: number | null | undefined): number | undefined => (value === null || value === undefined ? undefined : round1(value));
const times = engine.stepTimes as { slowestSnapshotSliceMs?: number };
process.stdout.write(
  `${JSON.stringify({
    sessions,
    rememberedIds: engine.current.durable.processedCommandIds.size,
    commands: count,
    snapshots,
    steps: steps.wallMs.length,
    slowestStepMs: ms(Math.max(...steps.wallMs)),
    stepsOver20Ms: steps.wallMs.filter((t) => t > stepBudgetMs).length,
    slowestStepCpuMs: ms(Math.max(...steps.cpuMs)),
    stepsOver20MsCpu: steps.cpuMs.filter((t) => t > stepBudgetMs).length,
    slowestSnapshotSliceMs: ms(times.slowestSnapshotSliceMs),
    stops: stopWaits.length,
    stopWaitMaxMs: ms(sorted[sorted.length - 1]),
    stopWaitP99Ms: ms(percentile(sorted, 99)),
    stopWaitP50Ms: ms(percentile(sorted, 50)),
    serializeSnapshotMs: ms(
      (() => {
        const startedAt = performance.now();
        serializeSnapshot(engine.current.durable);
        return performance.now() - startedAt;
      })(),
    ),
  })}\n`,
);
await log.close();
