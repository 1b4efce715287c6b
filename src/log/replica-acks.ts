import type { RedisConnection } from './redis-connection.js';
import { sendToNodeOf } from './redis-connection.js';

// Acknowledged commits (issue 13, item 3). Redis replicates asynchronously: a commit the master has answered can
// still be lost if the master dies before a replica has it and the replica is promoted. With replica
// acknowledgements on, each commit (and each snapshot save) is followed by WAIT on the partition's node, and the
// commit counts as done only once `replicas` replicas hold it: only then are its effects (orders) sent.
// WAIT does not block inside a script, so it runs right after the commit's script, on the same connection (it counts
// only the writes that connection sent) and so on the node of the partition's slot.
// https://redis.io/docs/latest/commands/wait/ : "WAIT does not make Redis a strongly consistent store": a failover
// makes a best-effort attempt to promote a replica that has the write, so a write acknowledged by a replica can
// still be lost, but far more rarely than one that only the master held.
// A shortfall leaves the commit's fate unknown (on the master, perhaps not on the replica that will be promoted):
// the writer must not go on from its in-memory state, only from the log, so the partition is dropped and booted
// again from what the log holds.

/** How many replicas must hold a commit, and how long to wait for them (a deployment's setting). */
export interface ReplicaAckPolicy {
  /** Replicas that must hold a commit before it counts (1 with one replica per master). */
  replicas: number;
  /** How long one WAIT may block before the commit is declared unconfirmed. */
  timeoutMs: number;
}

export interface ReplicaAcks extends ReplicaAckPolicy {
  /** A commit was not confirmed in time: its outcome is unknown; the writer must rebuild from the log. */
  onUnconfirmed(error: ReplicaAckError): void;
}

/** The commit reached the master but not enough replicas in time: it may or may not survive a failover. */
export class ReplicaAckError extends Error {
  override name = 'ReplicaAckError';
  constructor(
    readonly key: string,
    readonly acknowledged: number,
    readonly wanted: number,
  ) {
    super(`commit on ${key} acknowledged by ${acknowledged} of ${wanted} replicas: its outcome is unknown after a failover`);
  }
}

export function assertReplicaAcks(acks: ReplicaAckPolicy): void {
  if (!Number.isInteger(acks.replicas) || acks.replicas < 1) throw new Error(`replica acks must be a whole number ≥ 1, got ${acks.replicas}`);
  if (!Number.isInteger(acks.timeoutMs) || acks.timeoutMs < 1) throw new Error(`replica ack timeout must be a whole number of ms ≥ 1, got ${acks.timeoutMs}`);
}

/** WAIT on the node serving `key`; throws ReplicaAckError (after telling acks.onUnconfirmed) on a shortfall. */
export async function awaitReplicas(conn: RedisConnection, key: string, acks: ReplicaAcks): Promise<void> {
  let acknowledged = 0;
  try {
    acknowledged = Number(await sendToNodeOf(conn, key, ['WAIT', String(acks.replicas), String(acks.timeoutMs)]));
  } catch {
    // The node died or the link broke after the commit was sent: the same unknown outcome as a shortfall.
  }
  if (acknowledged >= acks.replicas) return;
  throw unconfirmed(key, acks, acknowledged);
}

/** A commit on `key` that `acknowledged` replicas were seen to hold: acks.onUnconfirmed is told; the error to throw. */
export function unconfirmed(key: string, acks: ReplicaAcks, acknowledged = 0): ReplicaAckError {
  const error = new ReplicaAckError(key, acknowledged, acks.replicas);
  acks.onUnconfirmed(error);
  return error;
}

/** Default WAIT bound: a replica on the same network acknowledges within milliseconds; past this the commit is suspect. */
export const defaultReplicaAckTimeoutMs = 1_000;
