import type { OwnedDicts } from './dict.js';
import { partitionPoint } from '../model/partition.js';

// A string-keyed map whose versions share structure: the big records of the state (sessions, orders, and the
// market's per-user and per-order clocks). A Dict (dict.ts) is one object, so the first write of a decision copied it
// whole: at 10 000 sessions that copy of the sessions record was 76 % of a /stop's decision (4.5 ms of 6.4) and
// ran once per engine step, whatever the step touched. Here the entries are spread over `shardCount` shards by a
// hash of their key; a write copies the shard list (shardCount pointers) and the one shard it changes, about
// size / shardCount entries: ~40 at 10 000, and a write within one decision to a shard it already copied is in place
// (its OwnedDicts, dict.ts). Every version handed out stays as it was, so a committed state can be snapshotted in
// slices while later steps go on (contract/snapshot.ts).
//
// Keys are any strings (shards are Maps: "__proto__" or "constructor" are keys like any other). Entries enumerate
// shard by shard, each shard in insertion order: a fixed order for a given history of writes, and the same after a
// snapshot is read back (each key falls in the same shard, in the order it was written). Code that needs an order
// (user ids for signals.route) sorts. Plain values in, plain values out: nothing here is impure.
//
// A map with few shards in use keeps them as a short sorted list instead of the 256 slots (`sparse`): most maps of
// the market's per-user and per-order clocks hold a handful of keys (one session in a backtest, the few orders live),
// and every first write of a decision copied the 256-slot list (about 2 kB: the biggest allocation of a backtest's
// equity sample or stop check) and every scan walked it. The list is in shard order, so entries enumerate exactly as
// in the slots; past maxSparseShards the map takes the slots for good.
//
// An empty map's scans (keys, values, entries, forEach, find, some) return at once rather than walk its shardCount
// empty slots: every watchdog beat scans the market's per-order clocks (maintainOrders) and owed trade reads, which
// are empty while nothing is live or owed, and those walks were a third of a quiet beat's cost (bench/backtest.ts).

/** Shards per map: a power of two. 256 keeps a shard at ~40 entries for 10 000 sessions, and the list copy at 256 pointers. */
const shardCount = 256;
const shardMask = shardCount - 1;

/**
 * The last two keys hashed and their shards: a decision asks for the same session (and order) again and again, each a
 * walk over the key's characters (~3 % of a backtest's held quote). Two, not one: a fill's decision turns between its
 * user's records and its order's, and with one the two pushed each other out (the hash loop was 1 % of a crossover
 * backtest). Another key costs two string comparisons more.
 */
let lastKey: string | null = null;
let lastShard = 0;
let olderKey: string | null = null;
let olderShard = 0;

/** FNV-1a over the key's UTF-16 code units: cheap for the short ids used as keys, and spreads them evenly. */
export function shardOfKey(key: string): number {
  if (key === lastKey) return lastShard;
  const shard = key === olderKey ? olderShard : hashToShard(key);
  olderKey = lastKey;
  olderShard = lastShard;
  lastKey = key;
  lastShard = shard;
  return shard;
}

function hashToShard(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash ^ (hash >>> 16)) & shardMask;
}

type Shard<V> = Map<string, V>;

/**
 * A copy of a shard, entry by entry: `new Map(shard)` went through the iterator protocol (an iterator result per
 * entry, allocated) and took 1.5× as long, for one entry as for forty.
 */
function copyOfShard<V>(shard: Shard<V>): Shard<V> {
  const copy = new Map<string, V>();
  shard.forEach((value, key) => copy.set(key, value));
  return copy;
}

/** Shards in use up to which a map keeps them as a sorted list (a copy and a scan cost this many, not shardCount). */
const maxSparseShards = 16;

/** Bits of a made-shards word: 16, so every word stays a small integer (never a heap number). */
const madeBitsPerWord = 16;
const madeWords = shardCount / madeBitsPerWord;

/** No shard made: copied (a literal's copy is one allocation of small integers; `new Array(n).fill(0)` was two and holey). */
function noShardsMade(): number[] {
  return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
}
if (noShardsMade().length !== madeWords) throw new Error('noShardsMade has a word per madeBitsPerWord shards');

function isMade(made: readonly number[], at: number): boolean {
  return (((made[(at / madeBitsPerWord) | 0] as number) >> (at % madeBitsPerWord)) & 1) === 1;
}

function markMade(made: number[], at: number): void {
  const word = (at / madeBitsPerWord) | 0;
  made[word] = (made[word] as number) | (1 << (at % madeBitsPerWord));
}

export class SharedDict<V> {
  /**
   * The OwnedDicts (one decision's, or one replay's) that made this version and may write it in place; null: none.
   * An identity check, not a WeakSet lookup per write (private fields: not compared by equality, not enumerated).
   */
  #owner: OwnedDicts | null;
  /**
   * Shards this version made itself, which its owner may write in place (the others are shared with older versions):
   * a bit per shard, madeBitsPerWord to a small integer. Not a Uint8Array(shardCount): allocating one took about
   * 0.5 µs, paid by every first write of a decision to a map (each equity sample and stop check, bench/backtest.ts).
   * Null until this version makes its first shard (an owned version that only writes shards it made needs none; a
   * version with no owner never makes one it may write again): its words were 0.8 % of a crossover backtest, allocated
   * for every version an owner made.
   */
  #madeShards: number[] | null = null;

  private constructor(
    /**
     * Entries by shardOfKey(key), undefined while a shard has none; or null while the map is sparse (`at`, `maps`).
     * Written only in a version the writer owns.
     */
    private slots: (Shard<V> | undefined)[] | null,
    /** Sparse: the shards in use, ascending, and their entries (`maps[i]` is shard `at[i]`); empty once dense. */
    private at: number[],
    private maps: Shard<V>[],
    private count: number,
    owner: OwnedDicts | null,
  ) {
    this.#owner = owner;
  }

  /** Notes that this version made shard `at` itself: its owner may write it in place from now on. */
  private noteMade(at: number): void {
    if (this.#owner === null) return;
    this.#madeShards ??= noShardsMade();
    markMade(this.#madeShards, at);
  }

  static empty<V>(): SharedDict<V> {
    return new SharedDict<V>(null, [], [], 0, null);
  }

  /** A SharedDict of `source`'s own enumerable entries (a parsed snapshot, a plain object) or of entries, in their order. */
  static from<V>(source: Readonly<Record<string, V>> | Iterable<readonly [string, V]>): SharedDict<V> {
    // Nobody holds the version or its shards yet: they are written in place while it is built.
    const building: OwnedDicts = new WeakSet();
    const out = SharedDict.empty<V>().writable(building);
    const entries = Symbol.iterator in source ? (source as Iterable<readonly [string, V]>) : Object.entries(source as Readonly<Record<string, V>>);
    for (const [key, value] of entries) out.put(key, value);
    return out;
  }

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.shard(shardOfKey(key))?.get(key);
  }

  has(key: string): boolean {
    return this.shard(shardOfKey(key))?.has(key) === true;
  }

  /** A version with `key` set to `value`; in place when `owned` made this version (see dict.ts OwnedDicts). */
  set(key: string, value: V, owned: OwnedDicts | null = null): SharedDict<V> {
    const out = this.writable(owned);
    out.put(key, value);
    return out;
  }

  /** A version without `keys` (this one when it holds none of them); in place when `owned` made this version. */
  delete(keys: readonly string[], owned: OwnedDicts | null = null): SharedDict<V> {
    if (!keys.some((key) => this.has(key))) return this;
    const out = this.writable(owned);
    for (const key of keys) {
      const at = shardOfKey(key);
      const shard = out.shard(at);
      if (shard === undefined || !shard.has(key)) continue;
      const copy = out.ownShard(at, shard);
      copy.delete(key);
      out.count -= 1;
    }
    return out;
  }

  /** The keys, as an array (a snapshot of this version: writing the map after does not change it). */
  keys(): string[] {
    const out: string[] = [];
    if (this.count === 0) return out;
    for (const shard of this.inUse()) if (shard !== undefined) for (const key of shard.keys()) out.push(key);
    return out;
  }

  values(): V[] {
    const out: V[] = [];
    if (this.count === 0) return out;
    for (const shard of this.inUse()) if (shard !== undefined) for (const value of shard.values()) out.push(value);
    return out;
  }

  entries(): [string, V][] {
    const out: [string, V][] = [];
    if (this.count === 0) return out;
    for (const shard of this.inUse()) if (shard !== undefined) for (const entry of shard.entries()) out.push(entry);
    return out;
  }

  /** Calls `visit` for each entry without building an array (the hot scans). */
  forEach(visit: (value: V, key: string) => void): void {
    if (this.count === 0) return;
    for (const shard of this.inUse()) if (shard !== undefined) shard.forEach(visit);
  }

  /** The first value `test` accepts, in entry order. */
  find(test: (value: V, key: string) => boolean): V | undefined {
    if (this.count === 0) return undefined;
    for (const shard of this.inUse()) {
      if (shard === undefined) continue;
      for (const [key, value] of shard) if (test(value, key)) return value;
    }
    return undefined;
  }

  /** Whether `test` accepts any value. */
  some(test: (value: V, key: string) => boolean): boolean {
    if (this.count === 0) return false;
    for (const shard of this.inUse()) {
      if (shard === undefined) continue;
      for (const [key, value] of shard) if (test(value, key)) return true;
    }
    return false;
  }

  /** The values `test` accepts, in entry order. */
  filter(test: (value: V, key: string) => boolean): V[] {
    const out: V[] = [];
    this.forEach((value, key) => {
      if (test(value, key)) out.push(value);
    });
    return out;
  }

  /** JSON as a record of the entries, in entry order: what JSON.stringify writes for it (snapshots, replies). */
  toJSON(): Record<string, V> {
    const out = Object.create(null) as Record<string, V>;
    this.forEach((value, key) => {
      out[key] = value;
    });
    return out;
  }

  /** The shards in shard order: the slots (some undefined), or the sparse list. */
  private inUse(): readonly (Shard<V> | undefined)[] {
    return this.slots ?? this.maps;
  }

  /** Shard `at`'s entries, if it has any. */
  private shard(at: number): Shard<V> | undefined {
    if (this.slots !== null) return this.slots[at];
    const i = this.at.indexOf(at);
    return i < 0 ? undefined : this.maps[i];
  }

  /** Makes `shard` shard `at` of this (writable) version: in its slot, or in the sparse list (taking slots when full). */
  private setShard(at: number, shard: Shard<V>): void {
    if (this.slots !== null) {
      this.slots[at] = shard;
      return;
    }
    const i = partitionPoint(this.at.length, (k) => (this.at[k] as number) < at);
    if (this.at[i] === at) {
      this.maps[i] = shard;
      return;
    }
    if (this.at.length < maxSparseShards) {
      this.at.splice(i, 0, at);
      this.maps.splice(i, 0, shard);
      return;
    }
    const slots = new Array<Shard<V> | undefined>(shardCount).fill(undefined);
    for (let k = 0; k < this.at.length; k += 1) slots[this.at[k] as number] = this.maps[k];
    slots[at] = shard;
    this.slots = slots;
    this.at = [];
    this.maps = [];
  }

  /** This version when `owned` made it, else a new version sharing every shard, which `owned` may write from now on. */
  private writable(owned: OwnedDicts | null): SharedDict<V> {
    if (owned !== null && this.#owner === owned) return this;
    return this.slots !== null
      ? new SharedDict<V>(this.slots.slice(), [], [], this.count, owned)
      : new SharedDict<V>(null, this.at.slice(), this.maps.slice(), this.count, owned);
  }

  /** Shard `at` of this (writable) version, copied first unless this version made it. */
  private ownShard(at: number, shard: Shard<V>): Shard<V> {
    const made = this.#madeShards;
    if (made !== null && isMade(made, at)) return shard;
    const copy = copyOfShard(shard);
    this.noteMade(at);
    this.setShard(at, copy);
    return copy;
  }

  /** Sets `key` in this version, which the caller may write (writable()). */
  private put(key: string, value: V): void {
    const at = shardOfKey(key);
    const shard = this.shard(at);
    if (shard === undefined) {
      this.setShard(at, new Map<string, V>().set(key, value));
      this.noteMade(at);
      this.count += 1;
      return;
    }
    const target = this.ownShard(at, shard);
    const before = target.size;
    target.set(key, value);
    this.count += target.size - before;
  }
}
