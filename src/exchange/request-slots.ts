import type { Lane } from '../model/lane.js';
import { Fifo } from '../util/fifo.js';
import { RequestNotSentError } from './sign-guard.js';

// How many REST requests of one venue connection are on the wire at once. The request budget bounds weight per
// minute, not concurrency: a 10 000-session setup with a budget that let it through sent thousands of requests at
// the same instant, one socket each, and the engine's process ran out of file descriptors (EMFILE) at 20 000
// open files; every order that failed to connect became an "unknown" outcome and a GET /fapi/v1/order to resolve
// it. Requests beyond the bound wait here, before they are signed, so their timestamp is taken when they leave and
// a wait cannot push them outside recvWindow (-1021). A freed slot goes to the priority lane (flatten, cancel,
// protective stop, the query that resolves an order) before the normal one.

export interface RequestSlotLimits {
  /** Requests of one connector in flight at once (each holds a socket until answered). */
  maxRestRequestsInFlight: number;
  /** Requests waiting for a slot, both lanes together; past it a request is refused as not sent. */
  maxRestRequestsWaiting: number;
}

export const defaultRequestSlotLimits: RequestSlotLimits = {
  // At Binance's 2 400 weight a minute (40 a second) and round trips of 10–300 ms, 256 in flight never slows
  // traffic the budget admits; a thousand simultaneous flattens leave in four round trips.
  maxRestRequestsInFlight: 256,
  maxRestRequestsWaiting: 20_000,
};

export class RequestSlots {
  private inFlight = 0;
  private readonly waiting: Record<Lane, Fifo<() => void>> = { priority: new Fifo(), normal: new Fifo() };

  constructor(private readonly limits: RequestSlotLimits = defaultRequestSlotLimits) {
    if (!(limits.maxRestRequestsInFlight >= 1)) throw new Error('maxRestRequestsInFlight must be at least 1');
  }

  /** Requests on the wire now. */
  get active(): number {
    return this.inFlight;
  }

  /** Requests waiting for a slot now. */
  get queued(): number {
    return this.waiting.priority.length + this.waiting.normal.length;
  }

  /**
   * Runs `send` once a slot is free (at once if one is), and frees the slot when it settles. Throws
   * RequestNotSentError, without calling `send`, when maxRestRequestsWaiting requests already wait.
   */
  async run<T>(lane: Lane, send: () => Promise<T>): Promise<T> {
    if (this.inFlight < this.limits.maxRestRequestsInFlight) this.inFlight += 1;
    else {
      if (this.queued >= this.limits.maxRestRequestsWaiting)
        throw new RequestNotSentError(`${this.limits.maxRestRequestsWaiting} requests already wait for one of ${this.limits.maxRestRequestsInFlight} slots`);
      // The slot is handed over by release(): inFlight stays counted for this request.
      await new Promise<void>((resolve) => this.waiting[lane].push(resolve));
    }
    try {
      return await send();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.priority.shift() ?? this.waiting.normal.shift();
    if (next) next();
    else this.inFlight -= 1;
    if (this.inFlight < 0) throw new Error('request slots released more often than taken');
  }
}
