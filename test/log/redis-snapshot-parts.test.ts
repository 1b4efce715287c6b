import { createClient } from '@redis/client';
import { afterEach, describe, expect, it } from 'vitest';
import { partitionKeys } from '../../src/log/partition.js';
import { saveSnapshotFenced, snapshotOfFields, snapshotStagingTtlMs, walTrimEntriesPerCommand } from '../../src/log/redis-commit.js';
import type { ScriptRunner } from '../../src/log/redis-fence.js';
import { StaleLeaseError } from '../../src/log/redis-fence.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';

// A snapshot went to Redis as one script carrying all of it: at 10 000 sessions 6 MB, which Redis took 49–55 ms to
// run while every commit waited behind it. A snapshot longer than a part is now written part by part, a command
// each, to a staging hash that the save's last (fenced) script renames over the snapshot.

type Raw = ReturnType<typeof createClient>;

let prefix = '';
let raw: Raw | null = null;
afterEach(async () => {
  await raw?.close();
  raw = null;
  if (prefix) await deletePrefix(prefix);
});

async function rawClient(): Promise<Raw> {
  raw = createClient({ url: redisUrl });
  await raw.connect();
  return raw;
}

/**
 * The client's script calls that ran: the longest argument of each (what one command made Redis copy at once). A
 * call refused as NOSCRIPT (the script not loaded yet) is sent again as EVAL: only the one that ran is counted.
 */
function recording(client: Raw): { runner: ScriptRunner; longestArgs: number[] } {
  const longestArgs: number[] = [];
  const ran = async (options: { arguments: string[] }, call: Promise<unknown>): Promise<unknown> => {
    const result = await call;
    longestArgs.push(Math.max(0, ...options.arguments.map((a) => a.length)));
    return result;
  };
  return {
    longestArgs,
    runner: {
      evalSha: (sha, options) => ran(options, client.evalSha(sha, options)),
      eval: (text, options) => ran(options, client.eval(text, options)),
    },
  };
}

/** 10 500 characters, none like its neighbours: a part misplaced or lost changes the text. */
const bigData = JSON.stringify(Array.from({ length: 1_500 }, (_, i) => i.toString(36).padStart(4, '0')));

describe('the WAL a snapshot covers', () => {
  it('is trimmed in commands of at most walTrimEntriesPerCommand entries, up to and including its id', async () => {
    prefix = uniquePrefix('snaptrim');
    const client = await rawClient();
    const keys = partitionKeys(prefix, undefined);
    const multi = client.multi();
    for (let i = 0; i < 2_500; i += 1) multi.xAdd(keys.wal, '*', { data: `{"i":${i}}` });
    const ids = (await multi.exec()) as unknown as string[];
    const log = await openRedisLog({ url: redisUrl, prefix });
    try {
      const { runner, longestArgs } = recording(client);
      await saveSnapshotFenced(runner, keys, { walId: ids[2_399] ?? '', data: '{}' }, `${ids[2_400]}`, null);
      // One call stores the snapshot; the trims follow, each of at most walTrimEntriesPerCommand entries (old: one XTRIM
      // of all 2 400 inside the snapshot's script, a single call).
      expect(longestArgs.length - 1).toBeGreaterThanOrEqual(Math.ceil(2_400 / walTrimEntriesPerCommand) + 1);
      expect((await log.readWal(null, 200)).map((r) => r.id)).toEqual(ids.slice(2_400));
    } finally {
      await log.close();
    }
  });
});

describe('a snapshot longer than a part', () => {
  it('is sent in commands of at most a part each, and loads whole', async () => {
    prefix = uniquePrefix('snapparts');
    const client = await rawClient();
    const keys = partitionKeys(prefix, undefined);
    const walId = await client.xAdd(keys.wal, '*', { data: '{}' });
    const { runner, longestArgs } = recording(client);
    await saveSnapshotFenced(runner, keys, { walId, data: bigData }, `${walId}`, null, 1_000);
    // Old: one script carrying all 10 500 characters.
    expect(Math.max(...longestArgs)).toBeLessThanOrEqual(1_000);
    const stored = await client.hGetAll(keys.snapshot);
    expect(stored.parts).toBe(String(Math.ceil(bigData.length / 1_000)));
    expect(await client.pTTL(keys.snapshot)).toBe(-1); // the staging hash's expiry does not follow it
    expect(await client.keys(`${prefix}*staging*`)).toEqual([]);
    expect(snapshotOfFields(stored)).toEqual({ walId, data: bigData });
    const log = await openRedisLog({ url: redisUrl, prefix });
    try {
      expect(await log.loadSnapshot()).toEqual({ walId, data: bigData });
      // A one-part snapshot after it leaves none of its parts behind.
      await log.saveSnapshot({ walId, data: '{"n":1}' });
      expect(await client.hGetAll(keys.snapshot)).toEqual({ walId, parts: '1', 'part:0': '{"n":1}' });
    } finally {
      await log.close();
    }
  });

  it('never cuts a character written as two UTF-16 units (an emoji in a reason, say) across two parts', async () => {
    prefix = uniquePrefix('snapparts');
    const client = await rawClient();
    const keys = partitionKeys(prefix, undefined);
    // A pair straddling the 1 000-unit boundary of the first part (the JSON's 11 characters, then 988), and more later.
    const data = JSON.stringify({ reason: `${'a'.repeat(988)}😀${'b'.repeat(998)}😀${'c'.repeat(998)}😀` });
    expect(data.charCodeAt(999)).toBeGreaterThanOrEqual(0xd800);
    await saveSnapshotFenced(client, keys, { walId: '1-1', data }, '1-2', null, 1_000);
    // Old: the pair cut in two, each half stored as U+FFFD.
    expect(snapshotOfFields(await client.hGetAll(keys.snapshot))).toEqual({ walId: '1-1', data });
  });

  it('under a stale lease replaces nothing, and its staging hash expires', async () => {
    prefix = uniquePrefix('snapparts');
    const client = await rawClient();
    const keys = partitionKeys(prefix, undefined);
    await client.set(keys.lease, 'successor');
    await client.hSet(keys.snapshot, { walId: '1-1', parts: '1', 'part:0': 'theirs' });
    const fence = { leaseKey: keys.lease, value: 'stale' };
    await expect(saveSnapshotFenced(client, keys, { walId: '2-1', data: bigData }, '2-2', fence, 1_000)).rejects.toBeInstanceOf(StaleLeaseError);
    expect(snapshotOfFields(await client.hGetAll(keys.snapshot))).toEqual({ walId: '1-1', data: 'theirs' });
    const [staging] = await client.keys(`${prefix}*staging*`);
    expect(staging).toBeDefined();
    const ttl = await client.pTTL(staging ?? '');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(snapshotStagingTtlMs);
  });

  it('loads a snapshot saved before parts existed (one data field), and refuses one missing a part', async () => {
    prefix = uniquePrefix('snapparts');
    const client = await rawClient();
    const keys = partitionKeys(prefix, undefined);
    await client.hSet(keys.snapshot, { walId: '5-0', data: '{"old":true}' });
    const log = await openRedisLog({ url: redisUrl, prefix });
    try {
      expect(await log.loadSnapshot()).toEqual({ walId: '5-0', data: '{"old":true}' });
      await client.del(keys.snapshot);
      await client.hSet(keys.snapshot, { walId: '6-0', parts: '3', 'part:0': 'a', 'part:2': 'c' });
      await expect(log.loadSnapshot()).rejects.toThrow('part 1 of 3 is missing');
    } finally {
      await log.close();
    }
  });
});
