import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { PartitionWriter, PartitionWriterOptions } from '../../src/cluster/partition-writer.js';
import { openPartitionWriter } from '../../src/cluster/partition-writer.js';
import { lastLeaseToken, readLease } from '../../src/cluster/lease.js';
import { ManualClock } from '../../src/engine/clock.js';
import { partitionKeys } from '../../src/log/partition.js';
import { StaleLeaseError } from '../../src/log/redis-fence.js';
import { connectRedis } from '../../src/log/redis-connection.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';
import { clusterUrls, deleteClusterKeys } from '../support/redis-cluster.js';
import { useClusterConnection } from '../support/cluster-connection.js';
import { waitFor } from '../support/wait.js';

// Leases with fencing (issue 13), on the real three-master cluster: a writer whose lease expired and was taken
// over cannot commit anything, drops the partition, and tokens only grow.

/** A short real TTL for a writer that is to lose its lease: a test waits for a real expiry in Redis. */
const shortLease = { leaseTtlMs: 300, leaseRenewEveryMs: 60, leaseSafetyMarginMs: 30 };
/** A writer kept alive by renewals across several TTLs; roomy enough for late timers on a loaded machine. */
const renewingLease = { leaseTtlMs: 1_000, leaseRenewEveryMs: 200, leaseSafetyMarginMs: 100 };
// Every other writer (the successors) has the default bounds: a late timer on a loaded machine must not cost it
// its lease in the middle of a test.
const partition = 2;

const cluster = useClusterConnection();

describe('partition leases on the Redis Cluster', () => {
  let prefix = '';
  const writers: PartitionWriter[] = [];
  afterEach(async () => {
    for (const w of writers.splice(0)) await w.close().catch(() => undefined);
    if (prefix) await deleteClusterKeys(prefix);
    prefix = '';
  });

  /** A writer of the partition; `dropped` resolves with the reason once it has dropped the partition. */
  async function writer(owner: string, extra: Partial<PartitionWriterOptions> = {}) {
    let onDropped: (reason: string) => void = () => undefined;
    const dropped = new Promise<string>((resolve) => (onDropped = resolve));
    const w = await openPartitionWriter({ clusterUrls, prefix, partition, owner, onDropped, ...extra });
    if (w) {
      writers.push(w);
      await w.log.init();
    }
    return { w, dropped };
  }

  /** A writer paused past its lease: its clock does not move and it does not renew, so it believes it still holds it. */
  const paused = (owner: string) => writer(owner, { clock: new ManualClock(0), autoRenew: false, leaseBounds: shortLease });
  const keys = () => partitionKeys(prefix, partition);
  const leaseGone = () => waitFor('the lease to expire in Redis', async () => (await readLease(cluster(), keys())) === null, 10_000, 10);

  it('lets one writer hold a partition: a second claim is refused while the first renews, for many TTLs', async () => {
    prefix = uniquePrefix('lease');
    const { w: a } = await writer('a', { leaseBounds: renewingLease });
    if (!a) throw new Error('a could not claim a free partition');
    for (let i = 0; i < 5; i += 1) {
      await sleep(renewingLease.leaseTtlMs / 2);
      expect((await writer(`b${i}`)).w).toBeNull();
    }
    expect(await readLease(cluster(), keys())).toMatchObject({ token: a.lease.token, owner: 'a' });
    expect(a.lease.isLost()).toBe(false);
    await a.log.commit({ wal: ['still mine'], outbound: [], ack: [], deadLetters: [] });
    expect((await a.log.readWal(null, 10)).map((r) => r.data)).toEqual(['still mine']);
  });

  it("refuses a stale writer's commit after a successor claimed: nothing of it lands, and it drops the partition", async () => {
    prefix = uniquePrefix('lease');
    const { w: a, dropped } = await paused('a');
    if (!a) throw new Error('a could not claim');
    const cmd = await a.log.appendCommand('{"cmd":1}');
    await a.log.readCommands('a', 10, 10);
    await a.log.commit({ wal: ['a-before'], outbound: ['a-out-before'], ack: [], deadLetters: [] });
    await leaseGone();
    const { w: b } = await writer('b');
    if (!b) throw new Error('b could not claim an expired lease');
    expect(b.lease.token).toBeGreaterThan(a.lease.token);
    expect(a.lease.current()).not.toBeNull(); // A's own view: still the owner

    const stale = a.log.commit({ wal: ['a-after'], outbound: ['a-out-after'], ack: [cmd], deadLetters: [{ entryId: cmd, raw: 'x', reason: 'r' }] });
    await expect(stale).rejects.toBeInstanceOf(StaleLeaseError);
    expect(await dropped).toMatch(/stale lease/);
    expect(a.lease.current()).toBeNull();
    await expect(a.log.readWal(null, 10)).rejects.toThrow(); // closed: the partition is dropped

    await b.log.commit({ wal: ['b'], outbound: ['b-out'], ack: [], deadLetters: [] });
    expect((await b.log.readWal(null, 10)).map((r) => r.data)).toEqual(['a-before', 'b']);
    expect((await b.log.tailOutbound('0', 10, 10)).map((r) => r.data)).toEqual(['a-out-before', 'b-out']);
    expect(await b.log.pendingCommandCount()).toBe(1); // A's ack did not land
    expect(await b.log.deadLetterCount()).toBe(0);
  });

  it("refuses a stale writer's snapshot: the successor's snapshot and WAL stay as they are", async () => {
    prefix = uniquePrefix('lease');
    const { w: a, dropped } = await paused('a');
    if (!a) throw new Error('a could not claim');
    const [first] = await a.log.commit({ wal: ['a1'], outbound: [], ack: [], deadLetters: [] });
    await leaseGone();
    const { w: b } = await writer('b');
    if (!b) throw new Error('b could not claim');
    const [second] = await b.log.commit({ wal: ['b1'], outbound: [], ack: [], deadLetters: [] });
    await b.log.saveSnapshot({ walId: first ?? '', data: 'b-snapshot' });
    await expect(a.log.saveSnapshot({ walId: second ?? '', data: 'a-stale-snapshot' })).rejects.toBeInstanceOf(StaleLeaseError);
    await dropped;
    expect(await b.log.loadSnapshot()).toEqual({ walId: first, data: 'b-snapshot' });
    expect((await b.log.readWal(null, 10)).map((r) => r.data)).toEqual(['b1']);
  });

  it('refuses the commit of a writer whose lease expired even when nobody claimed it since', async () => {
    prefix = uniquePrefix('lease');
    const { w: a, dropped } = await paused('a');
    if (!a) throw new Error('a could not claim');
    await leaseGone();
    await expect(a.log.commit({ wal: ['late'], outbound: [], ack: [], deadLetters: [] })).rejects.toBeInstanceOf(StaleLeaseError);
    await dropped;
    const { w: b } = await writer('b');
    expect((await b?.log.readWal(null, 10))?.map((r) => r.data)).toEqual([]);
  });

  it('drops the partition when a renewal finds the lease taken over', async () => {
    prefix = uniquePrefix('lease');
    // Paused, so its own view has not ended: the renewal itself must find out.
    const { w: a, dropped } = await paused('a');
    if (!a) throw new Error('a could not claim');
    await leaseGone();
    expect((await writer('b')).w).not.toBeNull();
    expect(await a.lease.renew()).toBe(false);
    expect(await dropped).toMatch(/held by another writer or expired/);
  });

  it('stops on its own once its local view of the lease ends, without asking Redis', async () => {
    prefix = uniquePrefix('lease');
    const clock = new ManualClock(0);
    const { w: a, dropped } = await writer('a', { clock, autoRenew: false, leaseBounds: shortLease });
    if (!a) throw new Error('a could not claim');
    expect(a.lease.remainingMs()).toBe(shortLease.leaseTtlMs - shortLease.leaseSafetyMarginMs);
    clock.advance(shortLease.leaseTtlMs - shortLease.leaseSafetyMarginMs);
    expect(a.lease.remainingMs()).toBe(0);
    await expect(a.log.commit({ wal: ['late'], outbound: [], ack: [], deadLetters: [] })).rejects.toThrow(/not held/);
    expect(await dropped).toMatch(/ran out/);
    expect(await lastLeaseToken(cluster(), keys())).toBe(a.lease.token);
  });

  it('hands out tokens that only grow, across expiries and releases', async () => {
    prefix = uniquePrefix('lease');
    const tokens: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const { w } = await writer(`w${i}`, { autoRenew: false, leaseBounds: shortLease });
      if (!w) throw new Error(`w${i} could not claim`);
      tokens.push(w.lease.token);
      if (i % 2 === 0)
        await w.close(); // released at once
      else await leaseGone(); // left to expire
    }
    expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(await lastLeaseToken(cluster(), keys())).toBe(tokens[tokens.length - 1]);
  });
});

describe('a fenced partition on a single Redis (P = 1)', () => {
  it("refuses the stale writer's commit there too", async () => {
    const prefix = uniquePrefix('lease1');
    const opened: PartitionWriter[] = [];
    try {
      const open = async (owner: string, clock?: ManualClock) => {
        const w = await openPartitionWriter({
          url: redisUrl,
          prefix,
          partition: 0,
          owner,
          autoRenew: false,
          onDropped: () => undefined,
          ...(clock && { clock, leaseBounds: shortLease }), // a paused writer; the successor has the default bounds
        });
        if (w) opened.push(w);
        return w;
      };
      const a = await open('a', new ManualClock(0));
      const single = await connectRedis({ url: redisUrl });
      await waitFor('expiry', async () => (await readLease(single, partitionKeys(prefix, 0))) === null, 10_000, 10);
      single.destroy();
      const b = await open('b');
      expect(b?.lease.token).toBe((a?.lease.token ?? 0) + 1);
      await expect(a?.log.commit({ wal: ['a'], outbound: [], ack: [], deadLetters: [] })).rejects.toBeInstanceOf(StaleLeaseError);
      await b?.log.commit({ wal: ['b'], outbound: [], ack: [], deadLetters: [] });
      expect((await b?.log.readWal(null, 10))?.map((r) => r.data)).toEqual(['b']);
    } finally {
      for (const w of opened) await w.close().catch(() => undefined);
      await deletePrefix(prefix);
    }
  });
});
