import { afterEach, describe, expect, it } from 'vitest';
import { readLease } from '../../src/cluster/lease.js';
import type { PartitionServiceStart, Worker, WorkerOptions } from '../../src/cluster/worker.js';
import { startWorker } from '../../src/cluster/worker.js';
import type { WorkerMetrics } from '../../src/metrics/worker-metrics.js';
import { createWorkerMetrics } from '../../src/metrics/worker-metrics.js';
import { partitionKeys } from '../../src/log/partition.js';
import { createLogger } from '../../src/util/logger.js';
import { uniquePrefix } from '../support/redis.js';
import { clusterUrls, deleteClusterKeys } from '../support/redis-cluster.js';
import { useClusterConnection } from '../support/cluster-connection.js';
import { waitFor } from '../support/wait.js';

// Execution workers on the real three-master cluster (issue 13): how partitions spread over workers, move when one
// joins or leaves, and stop at once when a lease is lost. The services here are stand-ins that commit through the
// partition's fenced log; test/cluster/worker-takeover.test.ts runs real execution services in child processes.

/** Short enough that expiry-driven steps take about a second, roomy enough for late timers on a loaded machine. */
const leaseBounds = { leaseTtlMs: 1_200, leaseRenewEveryMs: 300, leaseSafetyMarginMs: 100 };
const partitionCount = 4;

const cluster = useClusterConnection();

interface Run {
  worker: string;
  partition: number;
  stopped: boolean;
}

describe('execution workers on the Redis Cluster', () => {
  let prefix = '';
  const workers: Worker[] = [];
  const runs: Run[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop().catch(() => undefined);
    runs.splice(0);
    if (prefix) await deleteClusterKeys(prefix);
    prefix = '';
  });

  async function worker(workerId: string, extra: Partial<WorkerOptions> = {}): Promise<Worker> {
    const w = await startWorker({
      clusterUrls,
      prefix,
      partitionCount,
      workerId,
      leaseBounds,
      workerBeatMs: 100,
      logger: createLogger('worker-test', 'silent'),
      startService: async ({ partition, log, consumerName }: PartitionServiceStart) => {
        await log.init();
        // A service's first act on its partition is a commit: it lands only under the worker's lease.
        await log.commit({ wal: [`booted by ${consumerName}`], outbound: [], ack: [], deadLetters: [] });
        const run: Run = { worker: consumerName, partition, stopped: false };
        runs.push(run);
        return {
          stop: async () => {
            run.stopped = true;
          },
        };
      },
      ...extra,
    });
    workers.push(w);
    return w;
  }

  const liveRuns = (partition: number) => runs.filter((r) => r.partition === partition && !r.stopped);
  const everyPartitionRunsOnce = () => Array.from({ length: partitionCount }, (_, p) => liveRuns(p).length === 1).every(Boolean);

  it('a lone worker runs every partition; a second one takes half; when one stops, the other runs all again', async () => {
    prefix = uniquePrefix('worker');
    const a = await worker('a');
    await waitFor('a to run all partitions', () => a.running().length === partitionCount);
    const b = await worker('b');
    await waitFor('two partitions each', () => a.running().length === 2 && b.running().length === 2 && everyPartitionRunsOnce());
    // Never two live services of one partition along the way.
    for (let p = 0; p < partitionCount; p += 1) expect(liveRuns(p)).toHaveLength(1);
    await a.stop();
    await waitFor('b to run all partitions', () => b.running().length === partitionCount && everyPartitionRunsOnce());
    expect(runs.filter((r) => !r.stopped).every((r) => r.worker === 'b')).toBe(true);
  });

  it('stops a partition at once when its lease is lost, and claims it again with a greater token', async () => {
    prefix = uniquePrefix('worker');
    const a = await worker('a');
    await waitFor('a to run all partitions', () => a.running().length === partitionCount);
    const before = await readLease(cluster(), partitionKeys(prefix, 1));
    // Someone else took the lease (what a successor does after an expiry): a's next renewal finds it gone.
    await cluster().set(partitionKeys(prefix, 1).lease, '999999|intruder', { PX: 800 });
    await waitFor('the service of partition 1 to stop', () => liveRuns(1).length === 0, 10_000, 5);
    expect(runs.filter((r) => r.partition === 1)).toHaveLength(1);
    // Once the intruder's lease expires, a claims the partition again, with a token no earlier claim had.
    await waitFor('partition 1 to run again', () => liveRuns(1).length === 1, 10_000);
    const after = await readLease(cluster(), partitionKeys(prefix, 1));
    expect(after?.owner).toBe('a');
    expect(after!.token).toBeGreaterThan(before!.token);
  });

  it('counts lease changes by cause and times each partition’s boot, takeovers apart (qe_lease_changes_total, qe_partition_boot_seconds)', async () => {
    prefix = uniquePrefix('worker');
    const views: { owned(): number[]; running(): number[] }[] = [];
    const metricsOf = (i: number) => createWorkerMetrics({ owned: () => views[i]?.owned() ?? [], running: () => views[i]?.running() ?? [] });
    const [ma, mb] = [metricsOf(0), metricsOf(1)];
    const scrape = async (m: WorkerMetrics, line: RegExp): Promise<number> => Number((await m.registry.metrics()).match(line)?.[1] ?? 0);
    try {
      const a = await worker('a', { onLease: (e) => ma.onLease(e) });
      views[0] = a;
      await waitFor('a to run all partitions', () => a.running().length === partitionCount);
      expect(await scrape(ma, /^qe_lease_changes_total\{change="claimed"\} (\d+)$/m)).toBe(partitionCount);
      expect(await scrape(ma, /^qe_worker_partitions\{state="running"\} (\d+)$/m)).toBe(partitionCount);
      // First leases of a fresh prefix: booted, not taken over.
      expect(await scrape(ma, /^qe_partition_boot_seconds_count\{takeover="false"\} (\d+)$/m)).toBe(partitionCount);

      const b = await worker('b', { onLease: (e) => mb.onLease(e) });
      views[1] = b;
      await waitFor('two partitions each', () => a.running().length === 2 && b.running().length === 2);
      expect(await scrape(ma, /^qe_lease_changes_total\{change="rebalanced"\} (\d+)$/m)).toBe(2);
      expect(await scrape(mb, /^qe_partition_boot_seconds_count\{takeover="true"\} (\d+)$/m)).toBe(2);

      // A lease taken from under a (as after a pause past its TTL): counted as lost.
      const [lostPartition] = a.running();
      await cluster().set(partitionKeys(prefix, lostPartition ?? 0).lease, '999999|intruder', { PX: 800 });
      await waitFor('the loss counted', async () => (await scrape(ma, /^qe_lease_changes_total\{change="lost"\} (\d+)$/m)) === 1, 10_000);
    } finally {
      ma.stop();
      mb.stop();
    }
  });
});
