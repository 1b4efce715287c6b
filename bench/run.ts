import { cpus, loadavg } from 'node:os';
import { round1 } from './common.js';
import { measureBoot } from './boot.js';
import { measureCeiling } from './ceiling.js';
import { engineRun } from './engine-run.js';
import { measureReplay } from './replay.js';
import { simulationRun } from './simulation.js';
import { backtestLongRun, backtestMonthRun, backtestRun } from './backtest.js';
import { clusterRun } from './cluster.js';
import type { SweepEntry } from './sweep.js';
import { runSweepSize, sweepSizes } from './sweep.js';
import { checkTargets } from './targets.js';

// `npm run bench`: one JSON object of throughput and latency figures, measured against the local Redis and
// the paper exchange (in a process of its own), each next to its target (issue 12) as figure / target.
// The harness reads and writes Redis on connections of its own, never on the engine's.
// Knobs: BENCH_SWEEP (sizes, default 10,100,1000), BENCH_COMMANDS, BENCH_SWEEP_COMMANDS, BENCH_STOPS,
// BENCH_TICKS, BENCH_WAL_EVENTS, BENCH_BOOT_EVENTS, BENCH_BOOT_SESSIONS, BENCH_BOOT_CAP_MS,
// BENCH_SETUP_CAP_MS, BENCH_PHASE_CAP_MS, BENCH_SIM_SEEDS, BENCH_FOLD_PASSES (timed WAL folds after a warm-up,
// median reported). `npm run bench:sweep` runs the session sweep alone.

const startedAt = performance.now();
/** Each part's figures on stderr as it completes: a long run shows where it is (stdout keeps the one object). */
async function part<T>(name: string, measure: () => Promise<T>): Promise<T> {
  const figures = await measure();
  process.stderr.write(`${JSON.stringify({ part: name, atSeconds: Math.round((performance.now() - startedAt) / 1000), figures })}\n`);
  return figures;
}
const loadAverageAtStart = round1(loadavg()[0] ?? 0);
const ceiling = await part('ceiling', measureCeiling);
const engine = await part('engine', engineRun);
const replay = await part('replay', measureReplay);
const boot = await part('boot', measureBoot);
const sessionSweep: SweepEntry[] = [];
for (const size of sweepSizes()) sessionSweep.push(await part(`sweep ${size}`, () => runSweepSize(size)));
const simulation = await part('simulation', simulationRun);
const backtest = await part('backtest', async () => ({ ...(await backtestRun()), ...(await backtestLongRun()), ...(await backtestMonthRun()) }));
const cluster = await part('cluster', clusterRun);
const targets = checkTargets({
  commandsPerSecond: engine.commandsPerSecond,
  commandsPerSecondRedisBound: engine.commandsPerSecondRedisBound,
  redisXaddPipelinedPerSecond: ceiling.redisXaddPipelinedPerSecond,
  walFoldEventsPerSecond: replay.walFoldEventsPerSecond,
  walReplaySqliteEventsPerSecond: replay.walReplaySqliteEventsPerSecond,
  walReplayRedisEventsPerSecond: replay.walReplayRedisEventsPerSecond,
  bootReadyMs: boot.bootReadyMs,
  sessionSweep,
  backtestQuotesPerSecond: backtest.backtestQuotesPerSecond,
});
process.stdout.write(
  `${JSON.stringify({
    ...engine,
    ...replay,
    ...simulation,
    ...backtest,
    ...ceiling,
    ...boot,
    ...cluster,
    sessionSweep,
    targets,
    node: process.version,
    cpus: cpus().length,
    // Other processes on the machine skew every figure: the 1-minute load average before and after the run.
    loadAverage1mAtStart: loadAverageAtStart,
    loadAverage1mAtEnd: round1(loadavg()[0] ?? 0),
    benchSeconds: Math.round((performance.now() - startedAt) / 1000),
  })}\n`,
);
