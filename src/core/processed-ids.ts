import { dictFrom } from './dict.js';

// Remembered command ids, O(1) to remember and to look up. The ids live in one log shared by successive states:
// a Map from id to its sequence number, and the ids in sequence order (FIFO). A state holds a view of it, the
// sequence numbers [from, count): later states' ids (count and above) and forgotten ones (below from) are not
// its. Remembering an id appends to the log when the view is its newest; a view that is not (a state reused
// after a later one was made from it: a decision that threw) first copies its own window, so no state ever
// sees another's ids. The newest `maxIds` ids are remembered; older ones stay in the log for another `maxIds`
// (so an older view reads right) and are then dropped.
// In snapshots the view is written as the former format (a list of generations, here a single one, oldest id
// first), which older engines read too; any list of generations reads back (see fromGenerations).

/** The format of snapshots: generations of ids, oldest first (see state.ts). */
export interface ProcessedGeneration {
  size: number;
  ids: Readonly<Record<string, true>>;
}

class ProcessedIdLog {
  readonly seqOf = new Map<string, number>();
  /** ids[i - dropped] has sequence number i (fronts are dropped in blocks, not one shift per id). */
  ids: string[] = [];
  dropped = 0;

  get end(): number {
    return this.dropped + this.ids.length;
  }

  append(id: string): void {
    this.seqOf.set(id, this.end);
    this.ids.push(id);
  }

  /** Drops ids below sequence number `below` (in blocks, so each id is moved O(1) times on average). */
  dropBelow(below: number): void {
    const count = below - this.dropped;
    if (count < 1_024 || count < this.ids.length / 2) return;
    for (let seq = this.dropped; seq < below; seq += 1) {
      const id = this.ids[seq - this.dropped];
      if (id !== undefined && this.seqOf.get(id) === seq) this.seqOf.delete(id);
    }
    this.ids = this.ids.slice(count);
    this.dropped = below;
  }
}

export class ProcessedIds {
  private constructor(
    private readonly log: ProcessedIdLog,
    /** Sequence numbers [from, count) are this view's ids. */
    private readonly from: number,
    private readonly count: number,
  ) {}

  static empty(): ProcessedIds {
    return new ProcessedIds(new ProcessedIdLog(), 0, 0);
  }

  /** A view of these ids, oldest first (a snapshot's generations flattened). */
  static of(ids: Iterable<string>): ProcessedIds {
    const log = new ProcessedIdLog();
    for (const id of ids) if (!log.seqOf.has(id)) log.append(id);
    return new ProcessedIds(log, 0, log.end);
  }

  /** A snapshot's generations, oldest first; each generation's ids in the order they were written. */
  static fromGenerations(generations: readonly ProcessedGeneration[]): ProcessedIds {
    return ProcessedIds.of(generations.flatMap((g) => Object.keys(g.ids)));
  }

  get size(): number {
    return this.count - this.from;
  }

  has(id: string): boolean {
    const seq = this.log.seqOf.get(id);
    return seq !== undefined && seq >= this.from && seq < this.count;
  }

  /** This view's ids, oldest first. */
  ids(): string[] {
    const start = Math.max(this.from, this.log.dropped);
    return this.log.ids.slice(start - this.log.dropped, this.count - this.log.dropped);
  }

  /** A new view that also remembers `id` (at most `maxIds` kept); this view is unchanged. */
  with(id: string, maxIds: number): ProcessedIds {
    const log = this.log.end === this.count ? this.log : ProcessedIds.of(this.ids()).log;
    const from = log === this.log ? this.from : 0;
    log.append(id);
    const count = log.end;
    const keptFrom = Math.max(from, count - maxIds);
    log.dropBelow(keptFrom - maxIds);
    return new ProcessedIds(log, keptFrom, count);
  }

  /** Snapshot form: one generation, oldest id first (none when empty). */
  toJSON(): ProcessedGeneration[] {
    const ids = this.ids();
    return ids.length === 0 ? [] : [{ size: ids.length, ids: dictFrom(ids.map((id): [string, true] => [id, true])) }];
  }

  /**
   * JSON.stringify(this), written directly: the same text without building an object of up to 100 000 keys first,
   * which made a snapshot's processed ids most of its cost (and a tenth of the engine's time per command). A view's ids
   * are distinct (the fold remembers only an id it does not hold), so each is one member.
   */
  toJsonText(): string {
    const ids = this.ids();
    if (ids.length === 0) return '[]';
    return `${idsJsonOpen(ids.length)}${idsJsonMembers(ids, 0, ids.length)}${idsJsonClose}`;
  }
}

// toJsonText in three parts, so a snapshot can write the members of a long list in slices (contract/snapshot.ts).

/** The text before the members of a non-empty list of `count` ids. */
export function idsJsonOpen(count: number): string {
  return `[{"size":${count},"ids":{`;
}

/** The members for ids[start, end), comma-separated (no leading or trailing comma). */
export function idsJsonMembers(ids: readonly string[], start: number, end: number): string {
  const members: string[] = [];
  for (let i = start; i < end; i += 1) members.push(`${JSON.stringify(ids[i])}:true`);
  return members.join(',');
}

export const idsJsonClose = '}}]';
