// Membership in a session's booked trade keys (Session.bookedTradeIds: up to maxBookedTradeIdsKept keys, a list in the
// state and in snapshots) in constant time. Every fee, exchange fill and listed trade asks whether its trade is booked:
// a scan of the list compared up to 1 024 keys each time, about 5 % of a two-day backtest (bench/backtest.ts, the long
// run, ~1 500 trades). Each list gets a Set of its keys, made on first ask; a list made by appending one key to
// another (withBookedKey) takes its Set over, updated by that key and the ones the bound dropped, so the fold does not
// build one per trade. A list asked again after its Set moved on (a state reused after a newer one was folded from it:
// a decision that threw) builds its own: always exact. Nothing here is impure: the Sets are a cache of the lists.

/** Lists shorter than this are scanned: a Set is not worth making for a handful of keys. */
const scannedListLength = 16;

const keySets = new WeakMap<readonly string[], Set<string>>();

/** Whether `key` is in `list` (a session's booked trade keys; undefined: none). */
export function hasBookedKey(list: readonly string[] | undefined, key: string): boolean {
  if (list === undefined || list.length === 0) return false;
  if (list.length < scannedListLength) return list.includes(key);
  let keys = keySets.get(list);
  if (keys === undefined) {
    keys = new Set(list);
    keySets.set(list, keys);
  }
  return keys.has(key);
}

/**
 * `list` with `key` appended, the oldest dropped beyond `maxKeys`: a new list (the old one is state, never written). The
 * caller has asked hasBookedKey first: a key already there is not appended twice.
 */
export function withBookedKey(list: readonly string[] | undefined, key: string, maxKeys: number): string[] {
  const before = list ?? [];
  const drop = Math.max(0, before.length + 1 - maxKeys);
  const next = drop === 0 ? [...before, key] : [...before.slice(drop), key];
  const keys = keySets.get(before);
  // The Set moves on only when it matches its list key for key (no repeats): then dropping a key from the list drops
  // it from the Set. A list with a repeat (none is made here) is left to build its own on its first ask.
  if (keys !== undefined && keys.size === before.length) {
    keySets.delete(before);
    for (let i = 0; i < drop; i += 1) keys.delete(before[i] as string);
    keys.add(key);
    if (keys.size === next.length) keySets.set(next, keys);
  }
  return next;
}
