import type { Command } from '../src/contract/commands.js';
import { openPartitionLogs } from '../src/log/partition-logs.js';
import { partitionOfUser } from '../src/log/partition.js';
import type { ChildService } from '../test/support/child.js';
import { ClusterTraffic, spawnWorker } from '../test/support/cluster-workers.js';
import { command, runningOf } from '../test/support/partition-answers.js';
import { clusterUrls, deleteClusterKeys, useRedisCluster } from '../test/support/redis-cluster.js';
import { deletePrefix, knob, perSecond, prefix, sleep } from './common.js';
import { startPaperExchangeProcess } from './exchange-process.js';
import { writeWal } from './wal-fixture.js';

// Issue 13's bench: execution workers (child processes) on the loopback three-master Redis Cluster the tests use,
// trading on the paper exchange (a process of its own). For 1, 2 and 4 workers sharing P partitions: commands/s,
// appended through the producers' router → decided → committed and answered by each user's partition. With two
// workers, takeoverMs: one is killed with SIGKILL, and a command for a user of one of its partitions is appended at
// once; the figure is the time from the kill to that command's answer by the new owner (lease TTL + a beat + the
// partition's boot). The partition taken over holds a WAL of BENCH_CLUSTER_TAKEOVER_WAL_EVENTS events (100 000, no
// snapshot: the new owner replays all of them, the target case) written before the workers start.
// Every process shares the machine's cores: more workers than cores buys nothing here.
// Knobs: BENCH_CLUSTER_PARTITIONS (8), BENCH_CLUSTER_COMMANDS (2000), BENCH_CLUSTER_WORKERS (1,2,4),
// BENCH_CLUSTER_TAKEOVER_WAL_EVENTS (100000).

const users = 32;
/** Sessions in the taken-over partition's fixture WAL (besides the bench's own users). */
const takeoverFixtureSessions = 10;
/** The partition whose owner is killed, and which holds the fixture WAL. */
const takeoverPartition = 0;
const symbols = ['BTCUSDT', 'ETHUSDT'];
const phaseCapMs = 180_000;
/** Commands appended at a time (the producers' router appends one by one; this keeps several in flight). */
const appendConcurrency = 50;

export interface WorkerSweepEntry {
  workers: number;
  commandsPerSecond: number;
}

export interface ClusterFigures {
  clusterPartitions: number;
  takeoverMs: number | null;
  /** WAL events of the partition taken over (replayed by the new owner). */
  takeoverWalEvents: number;
  workerSweep: WorkerSweepEntry[];
}

function workerCounts(): number[] {
  const raw = process.env.BENCH_CLUSTER_WORKERS;
  return raw ? raw.split(',').map((n) => Number(n)) : [1, 2, 4];
}

async function until(what: string, probe: () => boolean | Promise<boolean>, capMs = phaseCapMs): Promise<void> {
  const deadline = Date.now() + capMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`bench cluster: timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function appendAll(traffic: ClusterTraffic, commands: Command[]): Promise<void> {
  for (let i = 0; i < commands.length; i += appendConcurrency) await Promise.all(commands.slice(i, i + appendConcurrency).map((c) => traffic.send(c)));
}

/** One sweep point: `workerCount` fresh workers on a fresh prefix; commands/s, and the takeover when asked. */
async function measureWorkers(
  workerCount: number,
  partitionCount: number,
  commandCount: number,
  exchange: { restBaseUrl: string; wsBaseUrl: string },
  takeoverWalEvents: number | null,
): Promise<{ commandsPerSecond: number; takeoverMs: number | null }> {
  const p = prefix(`cluster-${workerCount}`);
  const logs = openPartitionLogs({ clusterUrls, prefix: p, partitionCount });
  const traffic = new ClusterTraffic(logs, partitionCount);
  const workers: ChildService[] = [];
  try {
    if (takeoverWalEvents !== null) await writeWal(await logs.log(takeoverPartition), takeoverWalEvents, takeoverFixtureSessions);
    for (let w = 0; w < workerCount; w += 1) workers.push(await spawnWorker({ prefix: p, sim: exchange, partitionCount, workerId: `bw${w}`, symbols }));
    const fairShare = Math.floor(partitionCount / workerCount);
    await until(`${workerCount} workers to share ${partitionCount} partitions`, () => {
      const running = workers.map(runningOf);
      return new Set(running.flat()).size === partitionCount && running.flat().length === partitionCount && running.every((r) => r.length >= fairShare);
    });

    const userIds = Array.from({ length: users }, (_, u) => `bu${u}`);
    const starts = userIds.map((userId) => command({ type: 'session.start', id: `start:${userId}`, userId, mode: 'paper', capitalUsd: 10_000 }));
    await appendAll(traffic, starts);
    await until('every session started', () => traffic.allAnswered(starts));

    const burst = Array.from({ length: commandCount }, (_, i) =>
      command({ type: 'session.set_stoploss', id: `sl:${i}`, userId: `bu${i % users}`, pct: 1 + (i % 50) }),
    );
    const t0 = performance.now();
    await appendAll(traffic, burst);
    await until('every command answered', () => traffic.allAnswered(burst));
    const commandsPerSecond = perSecond(commandCount, performance.now() - t0);

    let takeoverMs: number | null = null;
    if (takeoverWalEvents !== null) {
      const victim = workers.find((w) => runningOf(w).includes(takeoverPartition));
      const userId = userIds.find((u) => partitionOfUser(u, partitionCount) === takeoverPartition);
      if (victim && userId !== undefined) {
        const probe = command({ type: 'status', id: 'after-kill', userId });
        const killedAt = performance.now();
        await victim.kill('SIGKILL');
        await traffic.send(probe);
        await until('the new owner to answer', () => traffic.allAnswered([probe]));
        takeoverMs = Math.round(performance.now() - killedAt);
      }
    }
    return { commandsPerSecond, takeoverMs };
  } finally {
    for (const w of workers) await w.kill();
    await logs.close();
    await deleteClusterKeys(p);
    await deletePrefix(p); // the workers' rate budget and key store sit on the single Redis
  }
}

export async function clusterRun(): Promise<ClusterFigures> {
  const partitionCount = knob('BENCH_CLUSTER_PARTITIONS', 8);
  const commandCount = knob('BENCH_CLUSTER_COMMANDS', 2_000);
  const takeoverWalEvents = knob('BENCH_CLUSTER_TAKEOVER_WAL_EVENTS', 100_000);
  const cluster = await useRedisCluster();
  const exchange = await startPaperExchangeProcess({ port: 0, seed: 13, priceStepMs: 100 });
  try {
    const workerSweep: WorkerSweepEntry[] = [];
    let takeoverMs: number | null = null;
    for (const workers of workerCounts()) {
      const figures = await measureWorkers(workers, partitionCount, commandCount, exchange, workers === 2 ? takeoverWalEvents : null);
      workerSweep.push({ workers, commandsPerSecond: figures.commandsPerSecond });
      takeoverMs ??= figures.takeoverMs;
    }
    return { clusterPartitions: partitionCount, takeoverMs, takeoverWalEvents, workerSweep };
  } finally {
    await exchange.close();
    await cluster.release();
  }
}

// `npx tsx bench/cluster.ts`: this part alone (the whole bench runs it from run.ts).
if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await clusterRun())}\n`);
}
