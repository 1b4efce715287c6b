import { dictFrom, dictMerge } from './dict.js';
import type { ProcessedGeneration } from './state.js';

// Remembered command ids, immutable and cheap to extend. A new id goes into a one-id generation; while the
// newest generation is at least as large as the one before it, the two merge (a binary counter), so there are
// O(log n) generations, a lookup checks O(log n) objects and each id is copied O(log n) times in total.
// When more than `maxIds` are held, the oldest generation (about half of them) is forgotten, so between
// maxIds / 2 and maxIds of the most recent ids are always remembered.

export function rememberId(generations: readonly ProcessedGeneration[], id: string, maxIds: number): ProcessedGeneration[] {
  const next: ProcessedGeneration[] = [...generations, { size: 1, ids: dictFrom<true>([[id, true]]) }];
  for (;;) {
    const last = next[next.length - 1];
    const before = next[next.length - 2];
    if (!last || !before || last.size < before.size) break;
    next.splice(next.length - 2, 2, { size: before.size + last.size, ids: dictMerge(before.ids, last.ids) });
  }
  let total = next.reduce((sum, g) => sum + g.size, 0);
  while (total > maxIds && next.length > 1) {
    total -= next.shift()?.size ?? 0;
  }
  return next;
}
