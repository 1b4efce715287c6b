import { partitionKeys } from '../log/partition.js';
import { streamNames } from '../log/port.js';
import type { RedisConnection } from '../log/redis-connection.js';
import { lastLeaseToken, readLease } from './lease.js';
import { defaultLeaseBounds } from './lease-rules.js';

// What an operator sees of a partitioned deployment (issue 13, `quant-engine cli cluster`): per partition, who holds
// its lease with which fencing token, how long ago it was renewed and how long it has left (Redis's own TTL), and its
// lag: commands on its stream the workers have not acknowledged yet (not yet read, plus read but unfinished).
// Read-only: a handful of reads per partition, on any connection to the cluster.

export interface PartitionStatus {
  partition: number;
  /** The lease holder (a worker id), or null while nobody holds it (free, or between a death and a takeover). */
  owner: string | null;
  /** The holder's fencing token; null when free. */
  token: number | null;
  /** The last token handed out (0: never claimed). */
  lastToken: number;
  /** Milliseconds until the lease expires in Redis unless renewed; null when free. */
  leaseRemainingMs: number | null;
  /** Milliseconds since the last claim or renewal, for the default lease TTL; null when free. */
  leaseAgeMs: number | null;
  /** Commands appended but not yet read by a worker. */
  unreadCommands: number;
  /** Commands read by a worker and not yet acknowledged (a dead worker's are reclaimed by its successor). */
  pendingCommands: number;
}

/** One row of XINFO GROUPS, as the client gives it (Redis 7 adds `lag`: entries not yet delivered, or null if unknown). */
interface GroupInfo {
  name: string;
  pending: number;
  lag?: number | null;
}

export async function readPartitionStatus(conn: RedisConnection, prefix: string, partition: number): Promise<PartitionStatus> {
  const keys = partitionKeys(prefix, partition);
  const [lease, lastToken, groups, length] = await Promise.all([
    readLease(conn, keys),
    lastLeaseToken(conn, keys),
    (conn.xInfoGroups(keys.commands) as Promise<unknown>).then(
      (g) => g as GroupInfo[],
      () => [] as GroupInfo[], // no stream yet
    ),
    conn.xLen(keys.commands),
  ]);
  const group = groups.find((g) => g.name === streamNames.commandGroup);
  const pendingCommands = Number(group?.pending ?? 0);
  // Without a group nothing was read yet; a null lag (Redis could not tell) counts what the stream holds beyond the PEL.
  const unreadCommands = group === undefined ? Number(length) : Number(group.lag ?? Math.max(0, Number(length) - pendingCommands));
  return {
    partition,
    owner: lease?.owner ?? null,
    token: lease?.token ?? null,
    lastToken,
    leaseRemainingMs: lease?.ttlMs ?? null,
    leaseAgeMs: lease ? Math.max(0, defaultLeaseBounds.leaseTtlMs - lease.ttlMs) : null,
    unreadCommands,
    pendingCommands,
  };
}

export async function readClusterStatus(conn: RedisConnection, prefix: string, partitionCount: number): Promise<PartitionStatus[]> {
  return Promise.all(Array.from({ length: partitionCount }, (_, p) => readPartitionStatus(conn, prefix, p)));
}
