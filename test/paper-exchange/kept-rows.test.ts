import { describe, expect, it } from 'vitest';
import { addKeptRowChanges, type KeptRowChanges, noteRestored, type StoredRange } from '../../src/paper-exchange/kept-rows.js';
import { pushKeepingNewest } from '../../src/util/keep-newest.js';

// A kept list (an account's income or trades) written to its store commit by commit: after each commit the store's
// rows are exactly the records the list keeps, whatever was appended and cut off in between; and a store read back
// (a restart) gives the ranges the next commits go on from.

interface Item {
  id: number;
}

/** A store of one list's rows (by id), as state-store.ts applies a commit's changes. */
function apply(rows: Map<number, string>, changes: KeptRowChanges, accountKey: string): void {
  for (const row of changes.rows) rows.set(row.id, row.data);
  const below = changes.droppedBelow.get(accountKey);
  if (below !== undefined) for (const id of rows.keys()) if (id < below) rows.delete(id);
}

describe('kept rows', () => {
  it('leaves the store holding exactly what the list keeps, commit after commit, across a restart', () => {
    let seed = 11;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let c = 0; c < 40; c += 1) {
      const max = 1 + Math.floor(random() * 50);
      let list: Item[] = [];
      const rows = new Map<number, string>();
      let stored: StoredRange | undefined;
      let nextId = 1 + Math.floor(random() * 100);
      const written = new Set<number>();
      for (let commit = 0; commit < 60; commit += 1) {
        // Some appends (ids increase, with gaps: other accounts take ids too), then a commit.
        for (let n = Math.floor(random() * 3 * max); n > 0; n -= 1) pushKeepingNewest(list, { id: (nextId += 1 + Math.floor(random() * 3)) }, max);
        const changes: KeptRowChanges = { rows: [], droppedBelow: new Map() };
        stored = addKeptRowChanges(
          changes,
          'a',
          list,
          (i) => i.id,
          (i) => `row ${i.id}`,
          stored,
        );
        apply(rows, changes, 'a');
        expect([...rows.keys()].sort((x, y) => x - y)).toEqual(list.map((i) => i.id));
        // Each record written once: a commit writes only what came since the last.
        for (const row of changes.rows) {
          expect(written.has(row.id)).toBe(false);
          written.add(row.id);
        }
        if (random() < 0.1) {
          // A restart: the list read back from the store, the ranges noted as the restore notes them.
          const ranges = new Map<string, StoredRange>();
          list = [];
          for (const id of [...rows.keys()].sort((x, y) => x - y)) {
            pushKeepingNewest(list, { id }, max);
            noteRestored(ranges, 'a', id);
          }
          stored = ranges.get('a');
        }
      }
    }
  });
});
