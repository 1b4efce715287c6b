import type { Answer, CallId, ThreadedLimits, ToWorker } from './protocol.js';
import { fromWireError } from './wire-error.js';

// The engine thread's side of the calls it makes to the adapter's thread: each waits here for its answer, within a
// bound (ThreadedLimits.maxCallsInFlight), and every one is answered even if the thread dies (a failure the caller's
// method turns into its port's answer: an outcome, or a rejection).

/** Why a call got no answer from the worker: never sent (over the bound), or sent and lost with the worker. */
export interface Failure {
  kind: 'not_sent' | 'lost';
  reason: string;
}

/** What a method answers for a failure: its port's outcome for it (`value`), or a rejection (`error`). */
export type FailureAnswer<T> = { value: T } | { error: Error };

interface Pending {
  answer(answer: Answer): void;
  fail(failure: Failure): void;
}

export class WorkerCalls {
  private nextId = 0;
  private readonly pending = new Map<CallId, Pending>();
  /** Set once the worker is gone (died or closed): every call from then on is answered at once as lost. */
  private lostBecause: string | null = null;

  constructor(
    private readonly limits: ThreadedLimits,
    private readonly post: (message: ToWorker) => void,
    /** Told when the first call starts waiting and when the last is answered (the worker is kept referenced meanwhile). */
    private readonly onWaiting: (waiting: boolean) => void,
  ) {}

  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends `make(id)` and resolves with the worker's answer, or with `onFailure`'s answer when there can be none. */
  send<T>(make: (id: CallId) => ToWorker, onFailure: (failure: Failure) => FailureAnswer<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (failure: Failure): void => {
        const answer = onFailure(failure);
        if ('error' in answer) reject(answer.error);
        else resolve(answer.value);
      };
      if (this.lostBecause !== null) return fail({ kind: 'lost', reason: this.lostBecause });
      if (this.pending.size >= this.limits.maxCallsInFlight)
        return fail({ kind: 'not_sent', reason: `${this.limits.maxCallsInFlight} calls already wait for the exchange thread` });
      this.nextId += 1;
      const id = this.nextId;
      const message = make(id);
      this.pending.set(id, { answer: (a) => (a.ok ? resolve(a.value as T) : reject(fromWireError(a.error))), fail });
      if (this.pending.size === 1) this.onWaiting(true);
      this.post(message);
    });
  }

  answer(id: CallId, answer: Answer): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.onWaiting(false);
    pending.answer(answer);
  }

  /** The worker is gone: every waiting call, and every later one, is answered as lost. */
  loseAll(reason: string): void {
    this.lostBecause ??= reason;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    if (waiting.length > 0) this.onWaiting(false);
    for (const pending of waiting) pending.fail({ kind: 'lost', reason });
  }
}
