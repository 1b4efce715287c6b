import { createClient } from '@redis/client';
import { describe, expect, it } from 'vitest';
import { partitionKeys } from '../../src/log/partition.js';
import type { CommitBatch } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import { StaleLeaseError } from '../../src/log/redis-fence.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';

// The Redis log lands commits in the order they were called, or not at all (EngineLog.ordersCommits): each commit names
// how many commits landed before it (the commit script's count), so one sent behind a commit that failed is refused
// instead of landing events decided from the failed one's state. The engine relies on it to send a step's commit while
// the one before it is still on its way (engine.ts maxStepsCommitting).

const batch = (event: string): CommitBatch => ({ wal: [event], outbound: [], ack: [], deadLetters: [] });

describe('Redis commit order', () => {
  it('refuses a commit sent behind one that failed, then lands the next from the count it reads again', async () => {
    const prefix = uniquePrefix('order');
    const keys = partitionKeys(prefix, 0);
    const raw = createClient({ url: redisUrl });
    await raw.connect();
    await raw.set(keys.lease, 'mine');
    // The writer's view of its lease: stale for the first commit only, so Redis refuses that one (nothing written).
    let views = 0;
    const log = await openRedisLog({
      url: redisUrl,
      prefix,
      partition: 0,
      fence: { current: () => (views++ === 0 ? 'stale' : 'mine'), refused: () => undefined },
    });
    try {
      await log.init();
      expect(log.ordersCommits).toBe(true);
      // Both sent before either is answered, as the engine's pipelined steps are.
      const first = log.commit(batch('first'));
      const second = log.commit(batch('second'));
      await expect(first).rejects.toBeInstanceOf(StaleLeaseError);
      await expect(second).rejects.toThrow(/COMMIT_OUT_OF_ORDER/);
      expect(await log.readWal(null, 10)).toEqual([]);
      const third = await log.commit(batch('third'));
      expect((await log.readWal(null, 10)).map((r) => r.data)).toEqual(['third']);
      expect(third).toHaveLength(1);
      expect(await raw.get(keys.commitSeq)).toBe('1');
    } finally {
      await raw.close();
      await log.close();
      await deletePrefix(prefix);
    }
  });

  it('counts the commits another writer of the partition landed before this one opened', async () => {
    const prefix = uniquePrefix('order2');
    const before = await openRedisLog({ url: redisUrl, prefix });
    const after = await openRedisLog({ url: redisUrl, prefix });
    try {
      await before.init();
      await before.commit(batch('a'));
      await before.commit(batch('b'));
      await before.close();
      await after.init();
      await after.commit(batch('c'));
      expect((await after.readWal(null, 10)).map((r) => r.data)).toEqual(['a', 'b', 'c']);
    } finally {
      await after.close();
      await deletePrefix(prefix);
    }
  });
});
