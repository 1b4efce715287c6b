import { afterAll, beforeAll } from 'vitest';
import type { ClusterPartitionLogs } from '../../src/log/partition-logs.js';
import { openPartitionLogs } from '../../src/log/partition-logs.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import type { ChildService } from './child.js';
import { ClusterTraffic, spawnWorker } from './cluster-workers.js';
import { deletePrefix, uniquePrefix } from './redis.js';
import type { ClusterUse } from './redis-cluster.js';
import { clusterUrls, deleteClusterKeys, useRedisCluster } from './redis-cluster.js';

// The vitest hooks of the cluster tests with worker processes (cluster-workers.ts holds the rest).

export interface WorkerCluster {
  sim: SimulatorHandle;
  logs: ClusterPartitionLogs;
  traffic: ClusterTraffic;
  prefix: string;
  /** Starts a worker process, killed (SIGKILL, which ends a stopped process too) after the file's tests. */
  startWorker(workerId: string): Promise<ChildService>;
}

/**
 * For a test file: the loopback Redis Cluster, a simulator, the partitions' logs under a fresh prefix, and worker
 * processes on them; everything stopped and deleted after the file's tests.
 */
export function useWorkerCluster(opts: { label: string; seed: number; partitionCount: number; symbols: string[] }): () => WorkerCluster {
  let cluster: ClusterUse | undefined;
  let ctx: WorkerCluster | undefined;
  const workers: ChildService[] = [];
  beforeAll(async () => {
    cluster = await useRedisCluster();
    const sim = await startSimulator({ port: 0, seed: opts.seed, priceStepMs: 100 });
    const prefix = uniquePrefix(opts.label);
    const logs = openPartitionLogs({ clusterUrls, prefix, partitionCount: opts.partitionCount });
    ctx = {
      sim,
      logs,
      prefix,
      traffic: new ClusterTraffic(logs, opts.partitionCount),
      async startWorker(workerId) {
        const w = await spawnWorker({ prefix, sim, partitionCount: opts.partitionCount, workerId, symbols: opts.symbols });
        workers.push(w);
        return w;
      },
    };
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await ctx?.logs.close();
    await ctx?.sim.close();
    if (ctx) {
      await deleteClusterKeys(ctx.prefix);
      await deletePrefix(ctx.prefix); // the workers' rate budget and key store sit on the single Redis
    }
    await cluster?.release();
  });
  return () => {
    if (!ctx) throw new Error('worker cluster not started yet');
    return ctx;
  };
}
