// Partitions (issue 13): users map to P partitions by a stable hash, and every key of a partition carries the
// Redis Cluster hash tag `{p<n>}`, so all of them share one slot and a partition's commit stays one atomic
// script on one node. P is fixed at deployment: changing it moves users between partitions and needs a
// migration of their state, which does not exist yet.
// Without a partition (the default) the keys are exactly today's (`cmd:exec`, `wal:exec`, …): an existing
// single-Redis deployment reads its log unchanged. A cluster needs the tagged layout (the untagged keys fall in
// different slots), even with P = 1; a single Redis accepts either.

import { streamNames } from './port.js';

/** More partitions than this is a configuration mistake (each one is a lease, streams and a snapshot). */
export const maxPartitionCount = 1_024;

/** Checks a deployment's partition count: an integer in 1..maxPartitionCount. */
export function assertPartitionCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > maxPartitionCount) {
    throw new Error(`partition count must be an integer in 1..${maxPartitionCount}, got ${count}`);
  }
}

/** 32-bit FNV-1a of the UTF-8 bytes: stable across processes, versions and platforms (never String hashCode-like). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The partition that owns a user's sessions and commands, in 0..count-1. */
export function partitionOfUser(userId: string, count: number): number {
  assertPartitionCount(count);
  return fnv1a32(userId) % count;
}

/** The hash tag of a partition's keys. */
export function partitionTag(partition: number): string {
  if (!Number.isInteger(partition) || partition < 0 || partition >= maxPartitionCount) throw new Error(`bad partition ${partition}`);
  return `{p${partition}}`;
}

/** Every Redis key of one partition (or of the unpartitioned log when `partition` is undefined). */
export function partitionKeys(prefix: string, partition: number | undefined) {
  // The tag must be the first `{…}` of the key, or the prefix's braces would decide the slot instead.
  if (partition !== undefined && prefix.includes('{')) throw new Error(`a partitioned key prefix must not contain '{': ${prefix}`);
  const base = partition === undefined ? prefix : `${prefix}${partitionTag(partition)}:`;
  return {
    commands: `${base}${streamNames.commands}`,
    wal: `${base}${streamNames.wal}`,
    outbound: `${base}${streamNames.outbound}`,
    deadLetters: `${base}${streamNames.deadLetters}`,
    snapshot: `${base}${streamNames.snapshot}`,
    ledger: `${base}${streamNames.ledger}`,
    /** The writer's lease: `<token>|<owner>` with a TTL (src/cluster/lease.ts). */
    lease: `${base}lease:exec`,
    /** The fencing counter: INCR gives every claim a token greater than all before it. */
    leaseToken: `${base}lease-token:exec`,
  };
}

export type PartitionKeys = ReturnType<typeof partitionKeys>;
