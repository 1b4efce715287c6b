import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { partitionKeys, partitionOfUser } from '../../src/log/partition.js';
import type { EngineLog } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';
import type { ClusterUse } from '../support/redis-cluster.js';
import { clusterUrls, deleteClusterKeys, keysByNode, useRedisCluster } from '../support/redis-cluster.js';
import { contractLimits, logContract } from './contract.js';

// The log as one partition (issue 13): the whole contract on a three-master Redis Cluster and on a single
// Redis with the tagged keys (P = 1), then what partitions add: one slot per partition, commands landing in
// their user's partition, and a commit that is atomic there.

let cluster: ClusterUse | undefined;
beforeAll(async () => {
  cluster = await useRedisCluster();
});
afterAll(async () => {
  await cluster?.release();
});

logContract('Redis Cluster, one partition', async () => {
  const prefix = uniquePrefix('clog');
  const open = () => openRedisLog({ clusterUrls, prefix, partition: 5, limits: contractLimits });
  return { log: await open(), reopen: open, cleanup: () => deleteClusterKeys(prefix) };
});

logContract('single Redis, partition 0 of P = 1', async () => {
  const prefix = uniquePrefix('plog');
  const open = () => openRedisLog({ url: redisUrl, prefix, partition: 0, limits: contractLimits });
  return { log: await open(), reopen: open, cleanup: () => deletePrefix(prefix) };
});

describe('partitions on the Redis Cluster', () => {
  const partitionCount = 4;
  let prefix = '';
  const logs: EngineLog[] = [];
  async function openPartitions(): Promise<EngineLog[]> {
    prefix = uniquePrefix('parts');
    for (let p = 0; p < partitionCount; p += 1) {
      const log = await openRedisLog({ clusterUrls, prefix, partition: p });
      await log.init();
      logs.push(log);
    }
    return logs;
  }
  afterEach(async () => {
    for (const log of logs.splice(0)) await log.close();
    if (prefix) await deleteClusterKeys(prefix);
    prefix = '';
  });

  it('refuses to open the untagged keys on a cluster (they would fall in different slots)', async () => {
    await expect(openRedisLog({ clusterUrls, prefix: uniquePrefix('untagged') })).rejects.toThrow(/needs a partition/);
  });

  it("keeps every key of a partition in one slot, and the partitions' slots on more than one master", async () => {
    const logs = await openPartitions();
    for (const log of logs) {
      await log.appendCommand('{}');
      await log.commit({ wal: ['w'], outbound: ['o'], ack: [], deadLetters: [], ledger: [{ walIndex: 0, userId: 'u', sessionId: 's', data: 'l' }] });
      await log.saveSnapshot({ walId: '0-1', data: 'snap' });
    }
    const byNode = await keysByNode(`${prefix}*`);
    const slotOf = new Map<string, number>();
    const probe = createClient({ url: clusterUrls[0] });
    await probe.connect();
    try {
      for (const keys of byNode.values()) for (const k of keys) slotOf.set(k, Number(await probe.sendCommand(['CLUSTER', 'KEYSLOT', k])));
    } finally {
      probe.destroy();
    }
    const slots = new Set<number>();
    for (let p = 0; p < partitionCount; p += 1) {
      const keys = partitionKeys(prefix, p);
      const stored = [keys.commands, keys.wal, keys.ledger, keys.outbound, keys.snapshot];
      const partSlots = new Set(stored.map((k) => slotOf.get(k)));
      expect(partSlots.size, `partition ${p}: ${stored.join(', ')}`).toBe(1);
      slots.add([...partSlots][0] ?? -1);
    }
    expect(slots.size).toBe(partitionCount);
    const nodesUsed = [...byNode.values()].filter((keys) => keys.length > 0).length;
    expect(nodesUsed).toBeGreaterThan(1);
  });

  it("puts each user's commands in the stream of the user's partition, and only there", async () => {
    const logs = await openPartitions();
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    for (const user of users) await logs[partitionOfUser(user, partitionCount)]?.appendCommand(JSON.stringify({ user }));
    const seen: string[][] = [];
    for (const log of logs) seen.push((await log.readCommands('c', 100, 10)).map((d) => (JSON.parse(d.raw) as { user: string }).user));
    for (let p = 0; p < partitionCount; p += 1) {
      expect(seen[p]).toEqual(users.filter((u) => partitionOfUser(u, partitionCount) === p));
    }
    expect(seen.filter((s) => s.length > 0).length).toBeGreaterThan(1); // the hash spreads 40 users
  });

  it('commits atomically: a reader of the slot never sees a WAL event without its outbound event and its ack', async () => {
    const [log] = await openPartitions();
    if (!log) throw new Error('no partition');
    const keys = partitionKeys(prefix, 0);
    const commits = 200;
    for (let i = 0; i < commits; i += 1) await log.appendCommand(`c${i}`);
    const delivered = await log.readCommands('c', commits, 10);
    expect(delivered).toHaveLength(commits);
    // A plain client on the node that owns the slot: MULTI there reads the three counts at one instant.
    const owner = [...(await keysByNode(`${prefix}*`)).entries()].find(([, k]) => k.includes(keys.commands))?.[0];
    const onOwner = createClient({ url: `redis://127.0.0.1:${owner}` });
    await onOwner.connect();
    const torn: string[] = [];
    let done = false;
    const reads = (async () => {
      let observations = 0;
      while (!done || observations === 0) {
        const [wal, outbound, pending] = (await onOwner.multi().xLen(keys.wal).xLen(keys.outbound).xPending(keys.commands, 'exec').exec()) as unknown as [
          number,
          number,
          { pending: number },
        ];
        if (wal !== outbound || wal + Number(pending.pending) !== commits) torn.push(`wal ${wal} outbound ${outbound} pending ${pending.pending}`);
        observations += 1;
      }
      return observations;
    })();
    for (const d of delivered) await log.commit({ wal: [`w-${d.raw}`], outbound: [`o-${d.raw}`], ack: [d.entryId], deadLetters: [] });
    done = true;
    const observations = await reads;
    onOwner.destroy();
    expect(torn).toEqual([]);
    expect(observations).toBeGreaterThan(1);
    expect(await log.pendingCommandCount()).toBe(0);
  });

  it('writes nothing of a commit Redis refuses, even when the refusal is found after the first event', async () => {
    const [log] = await openPartitions();
    if (!log) throw new Error('no partition');
    const keys = partitionKeys(prefix, 0);
    const id = await log.appendCommand('x');
    await log.readCommands('c', 1, 10);
    const probe = await openRedisLog({ clusterUrls, prefix, partition: 0 });
    logs.push(probe);
    // The dead-letter key holds a string (a stray writer): its XADD would fail after the WAL's and outbound's.
    const owner = [...(await keysByNode(`${prefix}*`)).entries()].find(([, k]) => k.includes(keys.commands))?.[0];
    const onOwner = createClient({ url: `redis://127.0.0.1:${owner}` });
    await onOwner.connect();
    await onOwner.set(keys.deadLetters, 'not a stream');
    const batch = { wal: ['w'], outbound: ['o'], ack: [], deadLetters: [{ entryId: id, raw: 'x', reason: 'bad' }] };
    await expect(log.commit(batch)).rejects.toThrow(/WRONGTYPE/);
    expect(await log.readWal(null, 10)).toEqual([]);
    expect(await onOwner.xLen(keys.outbound)).toBe(0);
    expect(await log.pendingCommandCount()).toBe(1);
    onOwner.destroy();
  });
});
