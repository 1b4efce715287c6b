import type { Lane } from '../model/lane.js';

// Per-session readiness after a restart. A session is ready once boot has read its stops, open orders and
// positions from the exchange and fed them to the engine (or given up on the read after its attempts, as boot
// always has). Until then a command for it waits: it is neither decided on the replayed view nor answered
// "not ready" (a producer that does not retry would lose a session.stop). Asking for a session moves its
// reconciliation to the front of the queue, so one waiting command never waits for the whole fleet.

interface Waiting {
  promise: Promise<void>;
  resolve: () => void;
}

export class SessionReadiness {
  private readonly waiting = new Map<string, Waiting>();
  private readonly settled: Promise<void>;
  private resolveSettled: () => void = () => undefined;

  /** `onWanted` hears of a session someone waits for (boot reconciles it next; `urgent`: for a control command). */
  constructor(
    userIds: Iterable<string>,
    private readonly onWanted: (userId: string, urgent: boolean) => void = () => undefined,
  ) {
    for (const userId of userIds) {
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiting.set(userId, { promise, resolve });
    }
    this.settled = new Promise<void>((r) => (this.resolveSettled = r));
    if (this.waiting.size === 0) this.resolveSettled();
  }

  isReady(userId: string): boolean {
    return !this.waiting.has(userId);
  }

  /** Sessions whose reconciliation has not finished yet. */
  get unreadySessions(): number {
    return this.waiting.size;
  }

  /**
   * Resolves once this session is ready (at once for a session boot had nothing to reconcile for). `urgent`: a
   * control command (a stop, a tighter stop-loss, a pause) waits, so its reads may draw on the weight kept for
   * risk-reducing requests.
   */
  whenReady(userId: string, urgent = false): Promise<void> {
    const waiting = this.waiting.get(userId);
    if (!waiting) return Promise.resolve();
    this.onWanted(userId, urgent);
    return waiting.promise;
  }

  /** Resolves once every session is ready. */
  whenAllReady(): Promise<void> {
    return this.settled;
  }

  markReady(userId: string): void {
    const waiting = this.waiting.get(userId);
    if (!waiting) return;
    this.waiting.delete(userId);
    waiting.resolve();
    if (this.waiting.size === 0) this.resolveSettled();
  }
}

/**
 * Sessions to reconcile in order, each once; a wanted one jumps the queue. A session a control command waits for
 * is read on the priority lane: with a thousand sessions holding positions, their periodic protective-stop checks
 * alone ask for more than the normal lane's weight, and a stop must not wait minutes behind them for its reads.
 */
export class ReconcileQueue {
  private readonly order: string[];
  private nextIndex = 0;
  private readonly wanted: string[] = [];
  /** Wanted by a control command and not started yet, oldest first. */
  private readonly urgentWaiting: string[] = [];
  private readonly started = new Set<string>();
  private readonly urgent = new Set<string>();
  private cancelled = false;
  /** Hears of a session newly wanted by a control command (drainQueue starts it without waiting for a worker). */
  onUrgent: () => void = () => undefined;

  constructor(userIds: readonly string[]) {
    this.order = [...userIds];
  }

  want(userId: string, urgent = false): void {
    if (this.cancelled || this.started.has(userId)) {
      if (urgent && !this.cancelled) this.urgent.add(userId); // already being read: its remaining reads hurry
      return;
    }
    if (urgent && !this.urgent.has(userId)) {
      this.urgent.add(userId);
      this.urgentWaiting.push(userId);
      this.onUrgent();
    } else this.wanted.push(userId);
  }

  /** The lane the session's reads ask the request-weight budget on (asked again before each admission). */
  laneOf(userId: string): Lane {
    return this.urgent.has(userId) ? 'priority' : 'normal';
  }

  /** Gives out no further session. */
  cancel(): void {
    this.cancelled = true;
    this.nextIndex = this.order.length;
    this.wanted.length = 0;
    this.urgentWaiting.length = 0;
  }

  /** The next session to reconcile, or null when all have started. */
  take(): string | null {
    for (;;) {
      const userId = this.urgentWaiting.shift() ?? this.wanted.shift() ?? this.order[this.nextIndex++];
      if (userId === undefined) return null;
      if (this.started.has(userId)) continue;
      this.started.add(userId);
      return userId;
    }
  }

  /** The next session a control command waits for, or null when none waits unstarted. */
  takeUrgent(): string | null {
    for (let userId = this.urgentWaiting.shift(); userId !== undefined; userId = this.urgentWaiting.shift()) {
      if (this.started.has(userId)) continue;
      this.started.add(userId);
      return userId;
    }
    return null;
  }
}

/**
 * Extra reconciliations run at once for sessions control commands wait for, beside the `concurrency` workers:
 * those may all be waiting for the normal lane's weight, and a stop must not wait for one of them to finish.
 */
export const maxUrgentReconciles = 4;

/**
 * Runs `work` on every session the queue gives out, at most `concurrency` at a time, plus up to
 * maxUrgentReconciles for sessions a control command waits for.
 */
export async function drainQueue(queue: ReconcileQueue, concurrency: number, work: (userId: string) => Promise<void>): Promise<void> {
  const worker = async (): Promise<void> => {
    for (let userId = queue.take(); userId !== null; userId = queue.take()) await work(userId);
  };
  const urgentRuns = new Set<Promise<void>>();
  const urgentWorker = async (): Promise<void> => {
    for (let userId = queue.takeUrgent(); userId !== null; userId = queue.takeUrgent()) await work(userId);
  };
  queue.onUrgent = () => {
    if (urgentRuns.size >= maxUrgentReconciles) return;
    const run: Promise<void> = urgentWorker().finally(() => urgentRuns.delete(run));
    urgentRuns.add(run);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  while (urgentRuns.size > 0) await Promise.all([...urgentRuns]);
  queue.onUrgent = () => undefined;
}
