import type { Clock } from '../engine/clock.js';
import { partitionKeys } from '../log/partition.js';
import type { EngineLog, LogLimits } from '../log/port.js';
import type { RedisConnection, RedisTarget } from '../log/redis-connection.js';
import { connectRedis } from '../log/redis-connection.js';
import { openRedisLog } from '../log/redis-log.js';
import type { ReplicaAckPolicy } from '../log/replica-acks.js';
import type { LeaseBounds } from './lease-rules.js';
import type { PartitionLease } from './lease.js';
import { claimLease } from './lease.js';

// One partition as a worker writes it: the lease, and the partition's log fenced by it. When the lease is lost
// (a renewal fails for good, or Redis refuses a commit) the writer drops the partition at once: the log is
// closed, so nothing more is read or written through it, and onDropped tells the worker. Routing commands to
// partitions and spreading partitions over workers come later (issue 13).

export interface PartitionWriterOptions extends RedisTarget {
  prefix?: string;
  partition: number;
  owner: string;
  leaseBounds?: Partial<LeaseBounds>;
  limits?: Partial<LogLimits>;
  clock?: Clock;
  /** Acknowledged commits: a commit whose replicas did not confirm it drops the partition (it boots again from the log). */
  replicaAcks?: ReplicaAckPolicy;
  /** false: no renewal timer (tests play a worker paused past its lease). */
  autoRenew?: boolean;
  onDropped: (reason: string) => void;
}

export interface PartitionWriter {
  partition: number;
  lease: PartitionLease & { renew(): Promise<boolean> };
  log: EngineLog;
  /** Gives the partition up: releases the lease and closes the log. */
  close(): Promise<void>;
}

/** Claims the partition and opens its fenced log; null when another writer holds the lease. */
export async function openPartitionWriter(opts: PartitionWriterOptions): Promise<PartitionWriter | null> {
  const prefix = opts.prefix ?? '';
  const conn: RedisConnection = await connectRedis(opts);
  let log: EngineLog | null = null;
  let dropped: Promise<void> | null = null;
  function drop(reason: string): void {
    dropped ??= (async () => {
      await log?.close().catch(() => undefined);
      conn.destroy();
      opts.onDropped(reason);
    })();
  }
  const lease = await claimLease({
    conn,
    keys: partitionKeys(prefix, opts.partition),
    owner: opts.owner,
    ...(opts.leaseBounds && { bounds: opts.leaseBounds }),
    ...(opts.clock && { clock: opts.clock }),
    ...(opts.autoRenew !== undefined && { autoRenew: opts.autoRenew }),
    onLost: drop,
  }).catch((error: unknown) => {
    conn.destroy();
    throw error;
  });
  if (!lease) {
    conn.destroy();
    return null;
  }
  log = await openRedisLog({
    url: opts.url,
    clusterUrls: opts.clusterUrls,
    prefix,
    partition: opts.partition,
    fence: lease,
    limits: opts.limits ?? {},
    // An unconfirmed commit may or may not survive a failover: the service must not go on from its memory, so the
    // partition is dropped like a lost lease and booted again (here or elsewhere) from what the log holds.
    ...(opts.replicaAcks && { replicaAcks: { ...opts.replicaAcks, onUnconfirmed: (error) => drop(error.message) } }),
  });
  return {
    partition: opts.partition,
    lease,
    log,
    async close() {
      if (dropped) return dropped;
      await lease.release();
      await log?.close();
      conn.destroy();
    },
  };
}
