import type { WalEvent } from './events.js';
import type { DurableState, EngineState, MarketState, Session } from './state.js';
import { inSessionOrder } from './state-index.js';

// Which sessions the timer-driven passes must look at, so a timer beat, a funding payment or any input costs
// what it touches and what is due, not the number of sessions. Three passes use it:
// - `risk`: the stop-loss/horizon/stale-feed check outside ticks (checkRiskRules with no feed);
// - `stops`: the protective-stop pass (maintainProtectiveStops) run after most inputs;
// - `equity`: the equity samples of the timer beat (sampleEquity).
// Each pass keeps the users whose records changed since it last ran (`dirty`, from the WAL events decided) and a
// due-time queue of when it must look at a user again although nothing changed (a horizon deadline, a periodic
// stop check, a placement retry, the next equity sample). A pass visits dirty ∪ due users, in session order,
// exactly as a full scan would enumerate them; a full scan would act on no other session (the simulation checks
// this after every step by deciding a timer both ways, see scheduleMisses).
//
// Not persisted and not part of the state's value: a side structure that belongs to one (durable, market) pair.
// decide() takes it from the state it starts from and hands it to the state it makes, like the fold's index
// (state-index.ts). A state without one (after a restart, a state reused after a decision threw, a market or
// durable state put together outside decide) gets a full scan for each pass, which builds it again: a stale
// schedule is never used. A change of halt, epoch or a venue's filters wakes every session for the stop pass.

type Pass = 'risk' | 'stops' | 'equity';
export const passes: readonly Pass[] = ['risk', 'stops', 'equity'];

/**
 * A lazy-deletion binary min-heap of (dueMs, userId), ordered by dueMs then userId (a total order, so two queues
 * holding the same entries give them up in the same order); `dueMs` holds each user's one live entry.
 */
export class DueQueue {
  private heap: Array<readonly [number, string]> = [];
  private readonly dueMs = new Map<string, number>();

  /** Stale entries (superseded by a later push) kept beyond this many per live entry trigger a rebuild. */
  static readonly maxStaleEntriesPerLive = 2;

  at(userId: string, dueMs: number): void {
    this.dueMs.set(userId, dueMs);
    this.heap.push([dueMs, userId]);
    this.up(this.heap.length - 1);
    if (this.heap.length > DueQueue.maxStaleEntriesPerLive * this.dueMs.size + 64) this.rebuild();
  }

  /** Forgets the user's entry, if any. */
  drop(userId: string): void {
    this.dueMs.delete(userId);
  }

  has(userId: string): boolean {
    return this.dueMs.has(userId);
  }

  /** Users queued. */
  get size(): number {
    return this.dueMs.size;
  }

  /**
   * No entry is due before this (ms; Infinity when empty). The heap's top may be an entry a later push superseded or
   * a drop forgot: then the live entries are due no earlier, so the answer is never late, at worst early.
   */
  firstDueMs(): number {
    return this.heap[0]?.[0] ?? Number.POSITIVE_INFINITY;
  }

  /** Removes and returns up to `limit` users, smallest key first. */
  takeFirst(limit: number): string[] {
    const out: string[] = [];
    while (out.length < limit) {
      const top = this.heap[0];
      if (top === undefined) break;
      this.pop();
      if (this.dueMs.get(top[1]) === top[0]) {
        this.dueMs.delete(top[1]);
        out.push(top[1]);
      }
    }
    return out;
  }

  /** Removes and returns the users due at or before `nowMs`, earliest first, at most `limit` of them. */
  takeDue(nowMs: number, into: Set<string>, limit = Number.POSITIVE_INFINITY): void {
    for (let taken = 0; taken < limit;) {
      const top = this.heap[0];
      if (top === undefined || top[0] > nowMs) return;
      this.pop();
      if (this.dueMs.get(top[1]) === top[0]) {
        this.dueMs.delete(top[1]);
        into.add(top[1]);
        taken += 1;
      }
    }
  }

  clone(): DueQueue {
    const copy = new DueQueue();
    copy.heap = [...this.heap];
    for (const [k, v] of this.dueMs) copy.dueMs.set(k, v);
    return copy;
  }

  private rebuild(): void {
    this.heap = [];
    for (const [userId, due] of this.dueMs) {
      this.heap.push([due, userId]);
      this.up(this.heap.length - 1);
    }
  }

  private pop(): void {
    const last = this.heap.pop();
    if (last === undefined || this.heap.length === 0) return;
    this.heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.heap.length && this.before(l, m)) m = l;
      if (r < this.heap.length && this.before(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private up(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a];
    const y = this.heap[b];
    if (x === undefined || y === undefined) return false;
    return x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]);
  }

  private swap(a: number, b: number): void {
    const x = this.heap[a];
    const y = this.heap[b];
    if (x === undefined || y === undefined) return;
    this.heap[a] = y;
    this.heap[b] = x;
  }
}

interface PassSchedule {
  /** Users whose records changed since the pass last ran (WAL events up to `walMark` of the current decision). */
  dirty: Set<string>;
  due: DueQueue;
  /**
   * Users waiting for a rationed action of the pass (the stop pass's periodic checks, bounded per minute), keyed
   * by when they last had it: the longest-waiting go first. A full scan rebuilds it with everything else.
   */
  waiting: DueQueue;
  /**
   * Sessions a bounded visit left for later, in session order, the next to be visited. Kept sorted, not put back in
   * `dirty`: sorting 10 000 users again at each decision of a backlog cost more than visiting 500 of them.
   */
  backlog: string[];
}

/** What the stop pass depends on besides each session: any change wakes every session. */
interface StopGlobals {
  halted: boolean;
  epoch: string | null;
  paperFilters: object;
  liveFilters: object;
}

export class Schedule {
  durable: DurableState;
  /** Per pass; absent until the pass has run once as a full scan. */
  readonly passes = new Map<Pass, PassSchedule>();
  stopGlobals: StopGlobals | null = null;
  /**
   * Per pass, the first WAL event of the current decision not yet absorbed into its dirty set. A record, not a
   * Map: every decision reads and resets the three marks (a Map's get/set on each was a tenth of handOn's cost).
   */
  walMark: Record<Pass, number> = { risk: 0, stops: 0, equity: 0 };

  constructor(durable: DurableState) {
    this.durable = durable;
  }

  clone(): Schedule {
    const copy = new Schedule(this.durable);
    for (const [pass, s] of this.passes) copy.passes.set(pass, { dirty: new Set(s.dirty), due: s.due.clone(), waiting: s.waiting.clone(), backlog: s.backlog });
    copy.stopGlobals = this.stopGlobals;
    return copy;
  }
}

/**
 * Which market state holds which schedule: the newest hand-on in newestMarket/newestSchedule, every other in `older`. Nearly every
 * decision takes the schedule the decision before it handed on (the engine's steps form a chain), so that pair never
 * reaches the WeakMap: a WeakMap set, get and delete on every decision, a quiet tick's included, were most of
 * handOn's cost (bench/backtest.ts). `older` never holds newestMarket, so the two together are one map.
 */
const older = new WeakMap<MarketState, Schedule>();
let newestMarket: MarketState | null = null;
let newestSchedule: Schedule | null = null;
/** Whether a pair ever moved to `older` (until then it is empty and needs no look-up). */
let olderUsed = false;

function keptFor(market: MarketState): Schedule | undefined {
  if (market === newestMarket) return newestSchedule ?? undefined;
  return olderUsed ? older.get(market) : undefined;
}

function forget(market: MarketState): void {
  if (market === newestMarket) {
    newestMarket = null;
    newestSchedule = null;
  } else if (olderUsed) older.delete(market);
}

function keep(market: MarketState, schedule: Schedule): void {
  if (newestMarket !== null && newestSchedule !== null && newestMarket !== market) {
    older.set(newestMarket, newestSchedule);
    olderUsed = true;
  }
  if (olderUsed && newestMarket !== market) older.delete(market);
  newestMarket = market;
  newestSchedule = schedule;
}

/**
 * The schedule the next decision from `state` will take, to read without taking it; null when it has none (that
 * decision's passes scan every session).
 */
export function peekSchedule(state: EngineState): Schedule | null {
  const kept = keptFor(state.market);
  return kept !== undefined && kept.durable === state.durable ? kept : null;
}

/**
 * The schedule of `state` for a decision starting from it. `take`: the decision will hand it on (the state
 * loses it); otherwise a copy (a scratch decision must not disturb it).
 */
export function scheduleFor(state: EngineState, take: boolean): Schedule {
  const kept = keptFor(state.market);
  if (!kept || kept.durable !== state.durable) return new Schedule(state.durable);
  if (!take) return kept.clone();
  forget(state.market);
  return kept;
}

/** Hands the decision's schedule to the state it made, first absorbing the users its later events touched. */
export function handOn(schedule: Schedule, state: EngineState, wal: readonly WalEvent[]): void {
  // Spelt out, not looped over `passes`: this runs after every decision, and the loop's keyed stores cost ~2 % of a
  // backtest quote. A decision that wrote no event has nothing to absorb (every mark is still 0).
  if (wal.length > 0) {
    absorb(schedule, 'risk', state.durable, wal);
    absorb(schedule, 'stops', state.durable, wal);
    absorb(schedule, 'equity', state.durable, wal);
  }
  schedule.walMark = { risk: 0, stops: 0, equity: 0 };
  schedule.durable = state.durable;
  keep(state.market, schedule);
}

/** The user an event is about, if any (an order's events by the order's user). */
function userOf(event: WalEvent, durable: DurableState): string | null {
  if ('userId' in event && typeof event.userId === 'string') return event.userId;
  if (event.type === 'order.planned') return event.order.userId;
  if ('clientOrderId' in event) return durable.orders.get(event.clientOrderId)?.userId ?? null;
  return null;
}

function absorb(schedule: Schedule, pass: Pass, durable: DurableState, wal: readonly WalEvent[]): void {
  const from = schedule.walMark[pass];
  if (from === wal.length) return; // nothing decided since the last look (most decisions write no event)
  const s = schedule.passes.get(pass);
  if (s) {
    for (let i = from; i < wal.length; i += 1) {
      const event = wal[i];
      const userId = event === undefined ? null : userOf(event, durable);
      if (userId !== null) s.dirty.add(userId);
    }
  }
  schedule.walMark[pass] = wal.length;
}

/** No sessions besides the dirty and due ones (sessionsToVisit's `extra`): one shared empty list, not one a call. */
export const noExtraSessions: readonly string[] = Object.freeze([]);

/**
 * The sessions a pass must visit now, in the order the state's sessions enumerate: every session when the pass
 * has no schedule yet (or `wakeAll`), else the dirty and the due ones plus `extra`. Clears what it returns:
 * the pass must re-queue (`dueAgain`) each visited session that needs a later look.
 */
export function sessionsToVisit(
  schedule: Schedule,
  pass: Pass,
  durable: DurableState,
  wal: readonly WalEvent[],
  nowMs: number,
  wakeAll: boolean,
  extra: Iterable<string> = noExtraSessions,
  /** Of the sessions due by time, at most this many (earliest first); the rest stay queued for the next decision. */
  maxDue = Number.POSITIVE_INFINITY,
  /**
   * Of all the sessions to visit (an earlier visit's backlog, then the dirty, due and extra ones in session order), at
   * most this many; the rest are the pass's backlog, for its next visit (see `leftOver`). A pass's first run (no
   * schedule yet) is not bounded; a wakeAll with more sessions than this is.
   */
  maxVisits = Number.POSITIVE_INFINITY,
): Session[] {
  absorb(schedule, pass, durable, wal);
  const s = schedule.passes.get(pass);
  if (!s || wakeAll) {
    const fresh: PassSchedule = { dirty: new Set(), due: new DueQueue(), waiting: new DueQueue(), backlog: [] };
    schedule.passes.set(pass, fresh);
    const all = durable.sessions.values();
    // The pass's first run (at boot) sees every session at once; a wake-up of every session (the stop pass, when halt,
    // epoch or filters change: an hourly filter refresh at 10 000 sessions was a 114 ms step) queues them all, in
    // session order, to be visited maxVisits a decision like any other backlog.
    if (!s || all.length <= maxVisits) return all;
    fresh.backlog = all.map((session) => session.userId);
    return visitNext(fresh, durable, fresh.backlog, maxVisits);
  }
  const users = s.dirty;
  s.due.takeDue(nowMs, users, maxDue);
  if (extra !== noExtraSessions) for (const u of extra) users.add(u);
  // Nobody to visit (most inputs, for most passes): the empty dirty set serves on, no new one is made.
  if (users.size === 0 && s.backlog.length === 0) return [];
  if (users.size === 0) return visitNext(s, durable, s.backlog, maxVisits);
  s.dirty = new Set();
  const fresh = inSessionOrder(durable, users);
  // The backlog first (it waited longest), less the users named again now.
  return visitNext(s, durable, s.backlog.length === 0 ? fresh : [...s.backlog.filter((u) => !users.has(u)), ...fresh], maxVisits);
}

/** The first maxVisits of `ordered` (their sessions), the rest left as the pass's backlog. */
function visitNext(s: PassSchedule, durable: DurableState, ordered: readonly string[], maxVisits: number): Session[] {
  const count = Math.min(ordered.length, maxVisits);
  s.backlog = count < ordered.length ? ordered.slice(count) : [];
  const out: Session[] = [];
  for (let i = 0; i < count; i += 1) {
    const session = durable.sessions.get(ordered[i] as string);
    if (session) out.push(session);
  }
  return out;
}

/** Whether the pass has sessions left to visit now (a bounded visit's backlog, or sessions changed since), as of its last visit. */
export function leftOver(schedule: Schedule, pass: Pass): boolean {
  const s = schedule.passes.get(pass);
  return s !== undefined && (s.dirty.size > 0 || s.backlog.length > 0);
}

/**
 * Whether the pass has a session due at or before `nowMs` still queued (a bounded visit left it). May answer true for
 * an entry a later push superseded (DueQueue.firstDueMs): the visit that follows drops it.
 */
export function dueBy(schedule: Schedule, pass: Pass, nowMs: number): boolean {
  return (schedule.passes.get(pass)?.due.firstDueMs() ?? Number.POSITIVE_INFINITY) <= nowMs;
}

/** Queues a look at the user's session by `pass` at `dueMs` (replacing an earlier-queued one). */
export function dueAgain(schedule: Schedule, pass: Pass, userId: string, dueMs: number): void {
  schedule.passes.get(pass)?.due.at(userId, dueMs);
}

/** The queue of users waiting for the pass's rationed action (a throwaway one before the pass first ran). */
export function waitingFor(schedule: Schedule, pass: Pass): DueQueue {
  return schedule.passes.get(pass)?.waiting ?? new DueQueue();
}

/** Whether what the stop pass reads beyond each session is as when it last ran. */
export function stopGlobalsSame(schedule: Schedule, durable: DurableState, market: MarketState): boolean {
  const before = schedule.stopGlobals;
  return (
    before !== null &&
    before.halted === durable.halted &&
    before.epoch === durable.epoch &&
    before.paperFilters === market.venues.paper.filters &&
    before.liveFilters === market.venues.live.filters
  );
}

/** True when what the stop pass reads beyond each session changed since it last ran (then it wakes all). */
export function stopGlobalsChanged(schedule: Schedule, durable: DurableState, market: MarketState): boolean {
  // Unchanged (nearly every input): the record kept holds the same values, so none is made.
  if (stopGlobalsSame(schedule, durable, market)) return false;
  schedule.stopGlobals = { halted: durable.halted, epoch: durable.epoch, paperFilters: market.venues.paper.filters, liveFilters: market.venues.live.filters };
  return true;
}
