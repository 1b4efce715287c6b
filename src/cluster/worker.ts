import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { EngineLog, LogLimits } from '../log/port.js';
import { partitionKeys, assertPartitionCount } from '../log/partition.js';
import type { RedisConnection } from '../log/redis-connection.js';
import type { ReplicaAckPolicy } from '../log/replica-acks.js';
import { connectRedis } from '../log/redis-connection.js';
import type { Logger } from '../util/logger.js';
import type { LeaseBounds } from './lease-rules.js';
import { defaultLeaseBounds } from './lease-rules.js';
import type { PartitionLease } from './lease.js';
import type { PartitionWriter } from './partition-writer.js';
import { openPartitionWriter } from './partition-writer.js';
import { workerHeartbeat, workerLeave } from './worker-registry.js';
import { rebalanceStep } from './worker-rules.js';

// An execution worker (issue 13): claims partitions through their leases (worker-rules.ts says how many), runs one
// execution service per claimed partition on that partition's fenced log (each boots and replays its own
// snapshot and WAL), and stops a partition's service at once when its lease is lost. A worker with no partitions
// is a standby: it claims a dead worker's partitions as soon as their leases expire, so a takeover takes at most
// the lease TTL + one beat + the partition's boot.

/** A running service of one partition (the execution service, or anything a test runs in its place). */
export interface PartitionService {
  stop(): Promise<void>;
}

export interface PartitionServiceStart {
  partition: number;
  log: EngineLog;
  /** The consumer name on the partition's command stream: this worker's id (a successor reclaims what it left pending). */
  consumerName: string;
  /** The partition's lease: the service guards every signed request with it (src/cluster/lease-guard.ts). */
  lease: Pick<PartitionLease, 'remainingMs' | 'token'>;
}

export interface WorkerOptions {
  clusterUrls: string[];
  prefix?: string;
  partitionCount: number;
  /** Unique per process run; default host-pid-random. */
  workerId?: string;
  leaseBounds?: Partial<LeaseBounds>;
  /** How often the worker beats: heartbeat, rebalance, claims (ms). */
  workerBeatMs?: number;
  /** A worker counts as live this long after its last heartbeat (ms); default the lease TTL. */
  heartbeatTtlMs?: number;
  limits?: Partial<LogLimits>;
  /** Acknowledged commits on a cluster with replicas (src/log/replica-acks.ts). */
  replicaAcks?: ReplicaAckPolicy;
  startService: (start: PartitionServiceStart) => Promise<PartitionService>;
  logger: Logger;
  /** Told of each lease change and boot (metrics: src/metrics/worker-metrics.ts). */
  onLease?: (event: LeaseEvent) => void;
  /** Told whenever the partitions this worker holds or runs change (supervisors, tests). */
  onChange?: (view: { owned: number[]; running: number[] }) => void;
}

/** Why a worker stopped running a partition: its lease or a commit's replicas failed it, or it chose to let go. */
export type PartitionStopCause = 'lost' | 'boot_failed' | 'rebalanced' | 'worker_stopping';

export type LeaseEvent =
  | { kind: 'claimed'; partition: number; token: number }
  | { kind: 'running'; partition: number; token: number; bootMs: number }
  | { kind: 'stopped'; partition: number; cause: PartitionStopCause };

export interface Worker {
  workerId: string;
  /** Partitions this worker holds the lease of (booting or running). */
  owned(): number[];
  /** Partitions whose service has booted and runs. */
  running(): number[];
  /** One beat now (tests); beats also run on their own every workerBeatMs. */
  beat(): Promise<void>;
  /** Stops every service, releases every lease, leaves the registry. */
  stop(): Promise<void>;
}

export const defaultWorkerBeatMs = 500;

interface Held {
  writer: PartitionWriter | null;
  /** The service once booted; null while booting. */
  service: PartitionService | null;
  /** The boot in flight (resolves once the service runs, or stopped if the partition was stopped meanwhile). */
  booting: Promise<void> | null;
  /** Set when the partition is to stop (lease lost or given back): a service still booting stops once up. */
  stopping: Promise<void> | null;
}

export function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export async function startWorker(opts: WorkerOptions): Promise<Worker> {
  assertPartitionCount(opts.partitionCount);
  const prefix = opts.prefix ?? '';
  const workerId = opts.workerId ?? defaultWorkerId();
  const bounds: LeaseBounds = { ...defaultLeaseBounds, ...opts.leaseBounds };
  const beatMs = opts.workerBeatMs ?? defaultWorkerBeatMs;
  const heartbeatTtlMs = opts.heartbeatTtlMs ?? bounds.leaseTtlMs;
  if (heartbeatTtlMs <= beatMs) throw new Error(`heartbeatTtlMs ${heartbeatTtlMs} must exceed workerBeatMs ${beatMs}`);
  const logger = opts.logger.child({ workerId });
  const conn: RedisConnection = await connectRedis({ clusterUrls: opts.clusterUrls });
  const held = new Map<number, Held>();
  let stopped = false;

  const owned = (): number[] => [...held.keys()].sort((a, b) => a - b);
  const running = (): number[] =>
    [...held]
      .filter(([, h]) => h.service !== null && !h.stopping)
      .map(([p]) => p)
      .sort((a, b) => a - b);
  const changed = (): void => opts.onChange?.({ owned: owned(), running: running() });

  /** Stops the partition's service (at once when `lost`), then gives the lease back (or it is already gone). */
  function stopPartition(partition: number, cause: PartitionStopCause, why: string): Promise<void> {
    const h = held.get(partition);
    if (!h) return Promise.resolve();
    h.stopping ??= (async () => {
      logger.warn({ partition, why }, 'stopping partition');
      opts.onLease?.({ kind: 'stopped', partition, cause });
      changed(); // no longer running from this moment
      if (h.service) await h.service.stop().catch((error: unknown) => logger.error({ err: error, partition }, 'partition service did not stop cleanly'));
      else {
        // Still booting: closing the log cuts the boot short; boot() stops whatever came up.
        await h.writer?.close().catch(() => undefined);
        await h.booting;
      }
      await h.writer?.close().catch(() => undefined);
      held.delete(partition);
      changed();
    })();
    return h.stopping;
  }

  async function boot(partition: number, h: Held, writer: PartitionWriter): Promise<void> {
    const startedAtMs = performance.now();
    try {
      const service = await opts.startService({ partition, log: writer.log, consumerName: workerId, lease: writer.lease });
      h.service = service;
      if (h.stopping) {
        await service.stop(); // lost or given back while booting
        return;
      }
      changed();
      const bootMs = Math.round(performance.now() - startedAtMs);
      opts.onLease?.({ kind: 'running', partition, token: writer.lease.token, bootMs });
      logger.info({ partition, bootMs, token: writer.lease.token }, 'partition running');
    } catch (error) {
      logger.error({ err: error, partition }, 'partition service failed to start; giving the partition back');
      if (!h.stopping) void stopPartition(partition, 'boot_failed', 'boot failed');
    }
  }

  async function claim(partition: number): Promise<boolean> {
    // A cheap look first: most partitions are held, and a claim opens connections.
    if ((await conn.exists(partitionKeys(prefix, partition).lease)) === 1) return false;
    const h: Held = { writer: null, service: null, booting: null, stopping: null };
    held.set(partition, h); // before the claim resolves: a drop during it finds the entry
    const writer = await openPartitionWriter({
      clusterUrls: opts.clusterUrls,
      prefix,
      partition,
      owner: workerId,
      leaseBounds: bounds,
      limits: opts.limits ?? {},
      ...(opts.replicaAcks && { replicaAcks: opts.replicaAcks }),
      onDropped: (reason) => void stopPartition(partition, 'lost', `dropped: ${reason}`),
    }).catch((error: unknown) => {
      logger.warn({ err: error, partition }, 'claim failed');
      return null;
    });
    if (!writer) {
      if (!h.stopping) held.delete(partition);
      return false;
    }
    h.writer = writer;
    changed();
    opts.onLease?.({ kind: 'claimed', partition, token: writer.lease.token });
    logger.info({ partition, token: writer.lease.token }, 'partition claimed');
    h.booting = boot(partition, h, writer);
    return true;
  }

  let beating: Promise<void> | null = null;
  async function beatOnce(): Promise<void> {
    const live = await workerHeartbeat(conn, prefix, workerId, heartbeatTtlMs);
    if (stopped) return;
    const keeping = new Set([...held].filter(([, h]) => !h.stopping).map(([p]) => p));
    const step = rebalanceStep(workerId, opts.partitionCount, keeping, live);
    if (step.release !== null) {
      await stopPartition(step.release, 'rebalanced', `rebalance: ${live} live workers, ${step.wanted} partitions each`);
      return;
    }
    let count = keeping.size;
    for (const partition of step.tryClaim) {
      if (count >= step.wanted || stopped) break;
      if (await claim(partition)) count += 1;
    }
  }

  function beat(): Promise<void> {
    beating ??= beatOnce()
      .catch((error: unknown) => logger.warn({ err: error }, 'worker beat failed; trying again next beat'))
      .finally(() => {
        beating = null;
      });
    return beating;
  }

  const timer = setInterval(() => void beat(), beatMs);
  await beat();

  return {
    workerId,
    owned,
    running,
    beat,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await beating;
      await Promise.all([...held.keys()].map((p) => stopPartition(p, 'worker_stopping', 'worker stopping')));
      await workerLeave(conn, prefix, workerId).catch(() => undefined);
      conn.destroy();
    },
  };
}
