import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ownedDicts } from '../../src/core/dict.js';
import { SharedDict, shardOfKey } from '../../src/core/shared-dict.js';

// SharedDict against a model: every version must read as the plain map it stands for, whatever was written to the
// versions made from it after, with or without an owner writing in place.

type Op = { kind: 'set'; key: string; value: number } | { kind: 'delete'; keys: string[] } | { kind: 'decision' };

const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', '0', '1', 'u1', 'u2'), fc.string({ maxLength: 6 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), keys: fc.array(key, { maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'decision' as const }) },
);

function readsAs(dict: SharedDict<number>, model: ReadonlyMap<string, number>): void {
  expect(dict.size).toBe(model.size);
  expect(new Map(dict.entries())).toEqual(model);
  expect(dict.keys().sort()).toEqual([...model.keys()].sort());
  for (const [k, v] of model) {
    expect(dict.get(k)).toBe(v);
    expect(dict.has(k)).toBe(true);
  }
  expect(JSON.parse(JSON.stringify(dict)) as unknown).toEqual(Object.fromEntries(model));
}

describe('SharedDict', () => {
  it('every version keeps reading as it was written, with writes in place only within one owner', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        let dict = SharedDict.empty<number>();
        const model = new Map<string, number>();
        let owned = ownedDicts();
        /** Versions handed out at each decision's end (as the engine's committed states are), with what they held. */
        const kept: [SharedDict<number>, Map<string, number>][] = [[dict, new Map(model)]];
        for (const o of ops) {
          if (o.kind === 'decision') {
            kept.push([dict, new Map(model)]);
            owned = ownedDicts();
          } else if (o.kind === 'set') {
            dict = dict.set(o.key, o.value, owned);
            model.set(o.key, o.value);
          } else {
            dict = dict.delete(o.keys, owned);
            for (const k of o.keys) model.delete(k);
          }
        }
        readsAs(dict, model);
        for (const [version, held] of kept) readsAs(version, held);
      }),
    );
  });

  it('a write without an owner leaves the version written to as it was', () => {
    const before = SharedDict.from({ a: 1, b: 2 });
    const after = before.set('a', 3).delete(['b']);
    expect(before.toJSON()).toEqual({ a: 1, b: 2 });
    expect(after.toJSON()).toEqual({ a: 3 });
  });

  it('enumerates shard by shard in insertion order, and the same after a round trip through its JSON', () => {
    const keys = Array.from({ length: 2_000 }, (_, i) => `user-${(i * 7_919) % 2_000}`);
    let dict = SharedDict.empty<number>();
    for (const [i, k] of keys.entries()) dict = dict.set(k, i);
    const order = dict.keys();
    const ranks = order.map((k) => shardOfKey(k) * 1e6 + keys.indexOf(k));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(SharedDict.from(dict.toJSON()).keys()).toEqual(order);
  });

  it('a write copies only the shard it changes: the other shards are shared with the version before', () => {
    const before = SharedDict.from(Array.from({ length: 10_000 }, (_, i) => [`u${i}`, i] as const));
    const after = before.set('u42', -1);
    const shardsOf = (d: SharedDict<number>): unknown[] => (d as unknown as { slots: unknown[] }).slots;
    const changed = shardsOf(after).filter((shard, i) => shard !== shardsOf(before)[i]);
    expect(changed).toHaveLength(1);
    expect(before.get('u42')).toBe(42);
    expect(after.get('u42')).toBe(-1);
  });

  it('a small map keeps its shards in a short list, enumerating as the slots would, and takes the slots past 16', () => {
    const internals = (d: SharedDict<number>): { slots: unknown[] | null; at: number[] } => d as unknown as { slots: unknown[] | null; at: number[] };
    const owner = ownedDicts();
    let dict = SharedDict.empty<number>();
    const written: string[] = [];
    for (let i = 0; i < 60; i += 1) {
      const key = `user-${(i * 7_919) % 1_000}`;
      const before = dict;
      // Every third write in place (an owner's), the rest as new versions: both paths fill the list.
      dict = i % 3 === 0 ? dict.set(key, i, owner) : dict.set(key, i);
      written.push(key);
      const { slots, at } = internals(dict);
      const inUse = new Set(written.map(shardOfKey)).size;
      // Sparse while at most 16 shards are in use: a write copied a list of them, not 256 slots (old code: slots always).
      expect(slots === null).toBe(inUse <= 16);
      if (slots === null) expect(at).toEqual([...new Set(written.map(shardOfKey))].sort((a, b) => a - b));
      // Shard by shard, in insertion order, as the slots enumerate; the version before is unchanged (unless owned).
      const ranks = dict.keys().map((k) => shardOfKey(k) * 1e6 + written.indexOf(k));
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      expect(SharedDict.from(dict.toJSON()).keys()).toEqual(dict.keys());
      if (i % 3 !== 0) expect(before.has(key)).toBe(written.indexOf(key) < written.length - 1);
    }
    // Deleting keeps the order of what is left, sparse or not.
    const left = dict.delete(written.slice(0, 50));
    expect(left.keys()).toEqual(dict.keys().filter((k) => !written.slice(0, 50).includes(k)));
    expect(left.size).toBe(10);
  });
});
