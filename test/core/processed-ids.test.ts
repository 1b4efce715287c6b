import { describe, expect, it } from 'vitest';
import { ProcessedIds } from '../../src/core/processed-ids.js';

// Processed command ids: O(1) views of one shared log. Each state must see exactly its own ids.

describe('processed command ids', () => {
  it('remembers the newest maxIds ids and forgets older ones', () => {
    let ids = ProcessedIds.empty();
    for (let i = 0; i < 5_000; i += 1) ids = ids.with(`c${i}`, 1_000);
    expect(ids.size).toBe(1_000);
    expect(ids.has('c4999')).toBe(true);
    expect(ids.has('c4000')).toBe(true);
    expect(ids.has('c3999')).toBe(false);
  });

  it('keeps every older view exact: a state reused after a newer one was made sees none of its ids', () => {
    const base = ProcessedIds.empty().with('a', 10).with('b', 10);
    const newer = base.with('c', 10);
    const fork = base.with('d', 10);
    expect(base.has('c')).toBe(false);
    expect(base.has('d')).toBe(false);
    expect(newer.has('c')).toBe(true);
    expect(newer.has('d')).toBe(false);
    expect(fork.has('d')).toBe(true);
    expect(fork.has('c')).toBe(false);
    expect(fork.ids()).toEqual(['a', 'b', 'd']);
  });

  it('writes its snapshot text exactly as JSON.stringify of its generations, whatever the ids', () => {
    expect(ProcessedIds.empty().toJsonText()).toBe(JSON.stringify(ProcessedIds.empty()));
    let ids = ProcessedIds.empty();
    for (const id of ['a', '__proto__', 'quote"d', 'back\\slash', 'ünï', 'line\nbreak', 'c:1']) ids = ids.with(id, 100);
    expect(ids.toJsonText()).toBe(JSON.stringify(ids));
    expect(ProcessedIds.fromGenerations(JSON.parse(ids.toJsonText()) as []).ids()).toEqual(ids.ids());
  });

  it('round-trips through the snapshot format (generations), and reads the former multi-generation form', () => {
    const ids = ProcessedIds.empty().with('x', 10).with('y', 10);
    const json = JSON.parse(JSON.stringify(ids)) as { size: number; ids: Record<string, true> }[];
    expect(json).toEqual([{ size: 2, ids: { x: true, y: true } }]);
    expect(ProcessedIds.fromGenerations(json).ids()).toEqual(['x', 'y']);
    const old = ProcessedIds.fromGenerations([
      { size: 2, ids: { a: true, b: true } },
      { size: 1, ids: { c: true } },
    ]);
    expect(old.ids()).toEqual(['a', 'b', 'c']);
    expect(old.with('d', 3).ids()).toEqual(['b', 'c', 'd']);
  });
});
