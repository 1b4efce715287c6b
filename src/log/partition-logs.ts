import type { PartitionLogs } from './command-router.js';
import type { EngineLog } from './port.js';
import { assertPartitionCount } from './partition.js';

// A producer's view of a partitioned log on a Redis Cluster (issue 13): each partition's log is opened the first
// time a command goes there (a CLI call touches one partition, a fan-out all of them), unfenced: producers only
// append commands and read answers, which any number of processes may do while a worker holds the lease.

export interface ClusterLogChoice {
  clusterUrls: string[];
  prefix: string;
  partitionCount: number;
}

/**
 * The cluster a process is pointed at: `--cluster-urls` (else QE_REDIS_CLUSTER_URLS) and `--partitions` (else
 * QE_PARTITIONS); null when there is none (one Redis or the SQLite file). The CLI checks these itself, with usage errors.
 */
export function clusterChoiceOf(
  flags: Readonly<Record<string, string | undefined>>,
  env: { QE_REDIS_CLUSTER_URLS?: string[] | undefined; QE_PARTITIONS: number },
  prefix: string,
): ClusterLogChoice | null {
  const clusterUrls = flags['cluster-urls']?.split(',').filter((u) => u.length > 0) ?? env.QE_REDIS_CLUSTER_URLS;
  return clusterUrls ? { clusterUrls, prefix, partitionCount: Number(flags['partitions'] ?? env.QE_PARTITIONS) } : null;
}

export interface ClusterPartitionLogs extends PartitionLogs {
  log(partition: number): Promise<EngineLog>;
  close(): Promise<void>;
}

export function openPartitionLogs(choice: ClusterLogChoice): ClusterPartitionLogs {
  assertPartitionCount(choice.partitionCount);
  const opened = new Map<number, Promise<EngineLog>>();
  return {
    count: choice.partitionCount,
    log(partition) {
      if (!Number.isInteger(partition) || partition < 0 || partition >= choice.partitionCount) throw new Error(`no partition ${partition}`);
      let log = opened.get(partition);
      if (!log) {
        log = import('./redis-log.js').then(async ({ openRedisLog }) => {
          const l = await openRedisLog({ clusterUrls: choice.clusterUrls, prefix: choice.prefix, partition });
          await l.init();
          return l;
        });
        opened.set(partition, log);
      }
      return log;
    },
    async close() {
      const logs = await Promise.allSettled(opened.values());
      for (const l of logs) if (l.status === 'fulfilled') await l.value.close();
      opened.clear();
    },
  };
}
