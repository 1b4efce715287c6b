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
