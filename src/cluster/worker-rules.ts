// The pure rules of spreading P partitions over the live execution workers (issue 13). Each worker decides on its
// own, from the number of live workers (the heartbeat registry, worker-registry.ts) and what it owns:
// - it wants at most ceil(P / live workers) partitions (at least one worker is live: itself);
// - below that it claims free partitions (a lease nobody holds), starting at an offset of its own so two workers
//   starting together do not race for the same partitions;
// - above that (a worker joined) it gives one partition back per beat, so the joiner can claim it.
// The leases decide who owns what; this rule only keeps workers from hoarding. A dead worker's partitions are
// free once its leases expire, and it drops out of the live count once its heartbeat expires (same TTL).

import { fnv1a32 } from '../log/partition.js';

/** How many partitions a worker should own when `liveWorkers` workers (itself included) share `partitionCount`. */
export function partitionsWanted(partitionCount: number, liveWorkers: number): number {
  return Math.ceil(partitionCount / Math.max(1, liveWorkers));
}

export interface RebalanceStep {
  /** Partitions to try to claim, in order, until the worker owns `wanted` (claims of others may win some). */
  tryClaim: number[];
  /** A partition to give back this beat, or null. */
  release: number | null;
  wanted: number;
}

/** What a worker does in one beat, given what it owns and how many workers are live. */
export function rebalanceStep(workerId: string, partitionCount: number, owned: ReadonlySet<number>, liveWorkers: number): RebalanceStep {
  const wanted = partitionsWanted(partitionCount, liveWorkers);
  if (owned.size > wanted) {
    // The highest-numbered one: deterministic, so a worker never gives back the partition it just claimed first.
    return { tryClaim: [], release: Math.max(...owned), wanted };
  }
  if (owned.size === wanted) return { tryClaim: [], release: null, wanted };
  const start = fnv1a32(workerId) % partitionCount;
  const tryClaim: number[] = [];
  for (let i = 0; i < partitionCount; i += 1) {
    const p = (start + i) % partitionCount;
    if (!owned.has(p)) tryClaim.push(p);
  }
  return { tryClaim, release: null, wanted };
}
