import type { EngineLog } from '../log/port.js';
import { StaleLeaseError } from '../log/redis-fence.js';
import type { SimLeaseHolder, SimLeaseStore } from './sim-lease.js';

// The shared in-memory log as one worker writes it under its lease, the way src/log/redis-log.ts fences the Redis
// log: the writer reads its own lease value first (none: it knows the lease is gone, nothing is sent), then the
// write and the check that the lease key still holds that value happen in one atomic step at the store (the Lua
// script of redis-fence.ts). Between the writer's look and the store's check a process can pause (GC, SIGSTOP): the
// simulation pauses or kills the worker right there. Reads are not fenced, as in Redis.

/** The simulated lease key's name in StaleLeaseError messages. */
const simLeaseKey = 'sim:lease';

export interface FenceHooks {
  holder: SimLeaseHolder;
  store: SimLeaseStore;
  /** After the writer's look at its lease, before the write reaches the store: a pause or a death may come here. */
  beforeStore: () => Promise<void>;
  /** After the write landed at the store, before the writer hears back: a death may come here. */
  afterStore: () => Promise<void>;
  /** A broken store that skips the lease check (to show the single-writer invariant catches it). */
  unfenced: boolean;
  /** Told of every write that landed, with the token it was fenced by. */
  onLanded: (what: string) => void;
  counts: { staleRefused: number };
}

export function fencedLog(log: EngineLog, hooks: FenceHooks): EngineLog {
  const { holder, store } = hooks;
  const fenced = async <T>(what: string, write: () => Promise<T>): Promise<T> => {
    const value = holder.current();
    if (value === null) throw new StaleLeaseError(simLeaseKey, 'the lease is not held');
    await hooks.beforeStore();
    if (!hooks.unfenced && store.current() !== value) {
      hooks.counts.staleRefused += 1;
      const error = new StaleLeaseError(simLeaseKey, `STALE_LEASE held by ${store.current()}`);
      holder.refused(error);
      throw error;
    }
    // Atomic with the check: nothing runs between them (the store's script).
    hooks.onLanded(what);
    const result = await write();
    await hooks.afterStore();
    return result;
  };
  return {
    ...log,
    commit: (batch) => fenced('commit', () => log.commit(batch)),
    saveSnapshot: (snapshot) => fenced('snapshot', () => log.saveSnapshot(snapshot)),
    close: async () => undefined, // the shared log outlives every worker
  };
}
