import { partitionPoint } from '../model/partition.js';

// Which holders of a symbol a tick must look at (issue 12: work per input proportional to what it touches).
// A tick runs the risk rules over the sessions holding its symbol (risk-rules.ts). At 10 000 sessions over three
// symbols that was 3 333 sessions on every tick, 6.5 ms a tick (bench/core-scale.ts), ~20 % of the engine's time
// at ten ticks a second per symbol, while a tick almost never changes anything for almost any of them.
// Most holders are "simple": they hold exactly one position, on this symbol, and nothing on any other symbol. For
// such a session a quote can do only two things: cross its stop-loss bound (mtm.ts onePositionTest: exit ≤ bound
// for a long, ≥ for a short), or arrive after its horizon. So the watch keeps them sorted by bound and by horizon,
// and a tick takes only those its bid/ask reaches (with a margin wider than the float test's, so the exact test
// decides every case the float test would not) and those whose horizon passed. Every other holder ("complex": two
// symbols, an order on another symbol, a position of several parts, a bound that is not a finite number) is looked
// at on every tick, as before. The risk rules then run unchanged over the candidates, in session order: a tick
// decides exactly what the scan over every holder decided (test/core/tick-watch.test.ts compares them).
// Derived, never persisted: kept by the state index (state-index.ts), checked against a full build by the
// simulation (indexDifferences).

/** What a tick needs to know of a simple holder. */
export interface TickWatchEntry {
  /** `${mode}\u0000${symbol}`: the venue and symbol whose ticks reach it. */
  key: string;
  /** The stop-loss bound of its one position (null: no stop-loss), and which way it breaches. */
  bound: { long: boolean; price: number } | null;
  /** Its horizon (ms), or null. */
  horizonMs: number | null;
}

/**
 * Relative distance of a quote from a bound within which the holder is a candidate: ten times the float test's own
 * tolerance (mtm.ts floatCompareMargin, 1e-9), so that a holder left out is one the float test clearly clears.
 */
export const tickCandidateMargin = 1e-8;

export const tickWatchKey = (mode: string, symbol: string): string => `${mode}\u0000${symbol}`;

/** The mode and symbol a tickWatchKey was made of. */
function splitTickWatchKey(key: string): [string, string] {
  const at = key.indexOf('\u0000');
  if (at < 0) throw new Error(`tick watch: ${JSON.stringify(key)} is not a tick watch key`);
  return [key.slice(0, at), key.slice(at + 1)];
}

/** What candidates() answers for a symbol nobody is watched on: never written (its callers only read it). */
const noCandidates: ReadonlySet<string> = new Set<string>();

/** (value, user) pairs in ascending order (value, then user id): one binary search to insert, remove or cut. */
class SortedPairs {
  private readonly values: number[] = [];
  private readonly users: string[] = [];

  get size(): number {
    return this.values.length;
  }

  /** The first position whose pair is not below (value, userId). */
  private lowerBound(value: number, userId: string): number {
    return partitionPoint(this.values.length, (i) => {
      const v = this.values[i] as number;
      return v < value || (v === value && (this.users[i] as string) < userId);
    });
  }

  insert(value: number, userId: string): void {
    const at = this.lowerBound(value, userId);
    this.values.splice(at, 0, value);
    this.users.splice(at, 0, userId);
  }

  remove(value: number, userId: string): void {
    const at = this.lowerBound(value, userId);
    if (this.values[at] !== value || this.users[at] !== userId) throw new Error(`tick watch: ${userId} at ${value} is not where it was put`);
    this.values.splice(at, 1);
    this.users.splice(at, 1);
  }

  /** Users whose value is ≥ `value` (ascending from there). */
  addFrom(value: number, out: Set<string>): void {
    for (let i = this.lowerBound(value, ''); i < this.values.length; i += 1) out.add(this.users[i] as string);
  }

  /** Users whose value is ≤ `value`. */
  addUpTo(value: number, out: Set<string>): void {
    for (let i = 0; i < this.values.length && (this.values[i] as number) <= value; i += 1) out.add(this.users[i] as string);
  }
}

function sameEntry(a: TickWatchEntry | undefined, b: TickWatchEntry | null): boolean {
  if (a === undefined || b === null) return a === undefined && b === null;
  if (a.key !== b.key || a.horizonMs !== b.horizonMs) return false;
  if (a.bound === null || b.bound === null) return a.bound === b.bound;
  return a.bound.long === b.bound.long && a.bound.price === b.bound.price;
}

function sameSymbols(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | null): boolean {
  if (a === undefined || b === null || b.size === 0) return a === undefined && (b === null || b.size === 0);
  if (a.size !== b.size) return false;
  for (const symbol of a) if (!b.has(symbol)) return false;
  return true;
}

interface Band {
  longs: SortedPairs;
  shorts: SortedPairs;
  horizons: SortedPairs;
}

export class TickWatch {
  private readonly entries = new Map<string, TickWatchEntry>();
  /**
   * The bands by mode, then symbol (an entry's `key` split once when its band is made or dropped). Keyed by `key`, a
   * tick made the key string anew and hashed it (a concatenation is hashed at each lookup): about 2 % of a backtest
   * quote holding nothing.
   */
  private readonly bandsByMode = new Map<string, Map<string, Band>>();
  /** Per symbol, the holders that are not simple (not closed, kill switch not engaged): every tick looks at them. */
  private readonly complex = new Map<string, Set<string>>();
  private readonly complexOf = new Map<string, ReadonlySet<string>>();

  /** The user's part in the watch: a simple holder's entry, or the symbols it holds as a complex holder, or neither. */
  set(userId: string, entry: TickWatchEntry | null, complexSymbols: ReadonlySet<string> | null): void {
    // Most session events (an intent, a setting, a fee) move neither its bound nor what it holds: nothing to re-sort.
    if (sameEntry(this.entries.get(userId), entry) && sameSymbols(this.complexOf.get(userId), complexSymbols)) return;
    this.removeEntry(userId);
    for (const symbol of this.complexOf.get(userId) ?? []) {
      const users = this.complex.get(symbol);
      users?.delete(userId);
      if (users?.size === 0) this.complex.delete(symbol);
    }
    this.complexOf.delete(userId);
    if (entry) this.addEntry(userId, entry);
    if (complexSymbols && complexSymbols.size > 0) {
      this.complexOf.set(userId, complexSymbols);
      for (const symbol of complexSymbols) {
        const users = this.complex.get(symbol);
        if (users) users.add(userId);
        else this.complex.set(symbol, new Set([userId]));
      }
    }
  }

  /**
   * The users a tick of `symbol` on `mode` at this bid/ask must look at: the complex holders of the symbol (of any
   * mode: the rules skip the others), the simple ones whose bound the quote reaches, and those whose horizon passed;
   * null when the quote is not finite (then every holder must be looked at).
   */
  candidates(mode: string, symbol: string, bid: number, ask: number, nowMs: number): ReadonlySet<string> | null {
    // Not a price the sorted bounds can be cut at: every holder is looked at (null), as the scan did.
    if (!Number.isFinite(bid) || !Number.isFinite(ask)) return null;
    const complex = this.complex.get(symbol);
    const band = this.bandsByMode.get(mode)?.get(symbol);
    // Nobody watched on the symbol (most ticks of a backtest, every tick of a symbol nobody holds): no set is made.
    if (!band && (complex === undefined || complex.size === 0)) return noCandidates;
    const out = new Set<string>(complex);
    if (!band) return out;
    band.longs.addFrom(bid - tickCandidateMargin * Math.abs(bid), out);
    band.shorts.addUpTo(ask + tickCandidateMargin * Math.abs(ask), out);
    band.horizons.addUpTo(nowMs, out);
    return out;
  }

  /** The watch as one canonical string (what the simulation compares between a kept index and a fresh one). */
  describe(): string {
    const byKey = <V>(m: Map<string, V>): [string, V][] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return JSON.stringify({
      entries: byKey(this.entries),
      complex: byKey(this.complex).map(([symbol, users]) => [symbol, [...users].sort()]),
    });
  }

  private addEntry(userId: string, entry: TickWatchEntry): void {
    this.entries.set(userId, entry);
    // No stop-loss and no horizon: no tick can change anything for it.
    if (!entry.bound && entry.horizonMs === null) return;
    const [mode, symbol] = splitTickWatchKey(entry.key);
    let bySymbol = this.bandsByMode.get(mode);
    if (!bySymbol) {
      bySymbol = new Map();
      this.bandsByMode.set(mode, bySymbol);
    }
    let band = bySymbol.get(symbol);
    if (!band) {
      band = { longs: new SortedPairs(), shorts: new SortedPairs(), horizons: new SortedPairs() };
      bySymbol.set(symbol, band);
    }
    if (entry.bound) (entry.bound.long ? band.longs : band.shorts).insert(entry.bound.price, userId);
    if (entry.horizonMs !== null) band.horizons.insert(entry.horizonMs, userId);
  }

  private removeEntry(userId: string): void {
    const entry = this.entries.get(userId);
    if (!entry) return;
    this.entries.delete(userId);
    if (!entry.bound && entry.horizonMs === null) return;
    const [mode, symbol] = splitTickWatchKey(entry.key);
    const bySymbol = this.bandsByMode.get(mode);
    const band = bySymbol?.get(symbol);
    if (!bySymbol || !band) throw new Error(`tick watch: no band ${entry.key} for ${userId}`);
    if (entry.bound) (entry.bound.long ? band.longs : band.shorts).remove(entry.bound.price, userId);
    if (entry.horizonMs !== null) band.horizons.remove(entry.horizonMs, userId);
    if (band.longs.size + band.shorts.size + band.horizons.size === 0) {
      bySymbol.delete(symbol);
      if (bySymbol.size === 0) this.bandsByMode.delete(mode);
    }
  }
}
