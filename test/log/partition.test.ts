import { describe, expect, it } from 'vitest';
import { assertPartitionCount, fnv1a32, maxPartitionCount, partitionKeys, partitionOfUser } from '../../src/log/partition.js';

describe('partitions', () => {
  it('hashes with 32-bit FNV-1a over UTF-8 (the published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('maps a user to the same partition in every process and version (pinned)', () => {
    // Changing any of these moves users between partitions of a running deployment: never without a migration.
    expect([partitionOfUser('demo', 16), partitionOfUser('operator', 16), partitionOfUser('tg123456', 16), partitionOfUser('é', 16)]).toEqual([6, 13, 11, 1]);
    expect(partitionOfUser('anyone', 1)).toBe(0);
  });

  it('spreads users over every partition', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i += 1) {
      const p = partitionOfUser(`user-${i}`, 16);
      counts[p] = (counts[p] ?? 0) + 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(800); // 1 000 expected each
  });

  it('refuses partition counts outside 1..maxPartitionCount', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, maxPartitionCount + 1]) expect(() => assertPartitionCount(bad)).toThrow(/partition count/);
    expect(() => partitionOfUser('u', 0)).toThrow(/partition count/);
  });

  it("keeps today's keys without a partition, and tags every key of a partition with {pN}", () => {
    expect(partitionKeys('qe:', undefined).wal).toBe('qe:wal:exec');
    const keys = partitionKeys('qe:', 7);
    for (const k of Object.values(keys)) expect(k.startsWith('qe:{p7}:')).toBe(true);
    expect(() => partitionKeys('a{b}:', 0)).toThrow(/must not contain/);
  });
});
