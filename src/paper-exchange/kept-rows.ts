// An account's kept lists (its income history, its trade list) in the paper exchange's store: append-only lists in
// the order of their ids, their oldest records dropped a block at a time (income-history.ts, trade-history.ts). A
// commit writes the records appended since the last one and deletes the rows below the oldest record still kept,
// so a commit costs the records it adds, however long the list (issue 17's rule: a fill's cost does not grow with
// the history).

/** The kept lists, each with its own table (state-store.ts). */
export const keptLists = ['income', 'trades'] as const;
export type KeptList = (typeof keptLists)[number];

/** The ids of the newest and the oldest records of one account's kept list that the store holds. */
export interface StoredRange {
  newestId: number;
  oldestId: number;
}

/** One kept list's changes in a commit: rows to write (JSON, by id) and, per account, the id below which rows go. */
export interface KeptRowChanges {
  rows: { id: number; accountKey: string; data: string }[];
  droppedBelow: Map<string, number>;
}

/**
 * Adds to `changes` the records of `list` (one account's) appended since `stored`, found from the newest end, and the
 * delete of the rows the list no longer keeps; returns what the store holds of the list after the commit.
 */
export function addKeptRowChanges<T>(
  changes: KeptRowChanges,
  accountKey: string,
  list: readonly T[],
  idOf: (record: T) => number,
  rowOf: (record: T) => string,
  stored: StoredRange | undefined,
): StoredRange | undefined {
  let first = list.length;
  while (first > 0 && (stored === undefined || idOf(list[first - 1] as T) > stored.newestId)) first -= 1;
  for (let i = first; i < list.length; i += 1) {
    const record = list[i] as T;
    changes.rows.push({ id: idOf(record), accountKey, data: rowOf(record) });
  }
  const oldest = list[0];
  const newest = list[list.length - 1];
  if (oldest === undefined || newest === undefined) return stored;
  if (stored !== undefined && idOf(oldest) > stored.oldestId) changes.droppedBelow.set(accountKey, idOf(oldest));
  return { newestId: idOf(newest), oldestId: idOf(oldest) };
}

/** Notes a restored record's id in the account's stored range (rows are read back oldest first). */
export function noteRestored(ranges: Map<string, StoredRange>, accountKey: string, id: number): void {
  const range = ranges.get(accountKey);
  if (range === undefined) ranges.set(accountKey, { newestId: id, oldestId: id });
  else range.newestId = id;
}
