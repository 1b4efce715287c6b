import { orderFoundMs, unfilledFinalOrderFoundMs } from '../model/orders.js';

// The simulator server forgets the orders Binance no longer finds (order-retention.ts), plain and conditional alike
// (the Query Order and Query Algo Order pages give the same rule): a cancelled or expired order
// with no fill 3 days after its creation, any other one 90 days after, once it is no longer open. Before, it kept every
// order an account ever placed, in memory and in its store (and read them all back at every start): an order a minute
// is 130 000 a quarter per account. A query already answered "not found" for them; now they are gone too.
//
// Orders are looked at in the order they were placed (their creation times ascend, but for the wall clock's steps
// back, which only delay a forgetting): once past 3 days, each final one with no fill is forgotten; the others wait
// for 90 days, and those still open past either age are watched until they end.

/** Orders forgotten per call at most (one order is placed per call, so the queue still drains): a placement stays quick. */
export const maxOrdersForgottenPerCall = 256;

/** A queue in arrival order: taken from the front, its array cut once most of it was taken (amortised O(1)). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  shift(): void {
    this.head += 1;
    if (this.head >= fifoCutItems && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** Items a Fifo lets pass before it cuts its array (and then only once they are most of it). */
const fifoCutItems = 1_024;

/** What the queue asks of an order: whether it may still change (not final), whether a query finds it, its creation. */
export interface RetentionRule<T> {
  isOpen(order: T): boolean;
  found(order: T, nowMs: number): boolean;
  createdAtMs(order: T): number;
}

/** The orders of one exchange not yet forgotten, by when they can be. */
export class ForgettingQueue<T extends object> {
  /** Every order not yet 3 days old when last looked at, in placement order. */
  private readonly young = new Fifo<T>();
  /** Orders past 3 days kept for the 90-day rule (they filled, or were open then), in placement order. */
  private readonly old = new Fifo<T>();
  /** Orders past an age at which they would be forgotten once final, still open when last looked at. */
  private readonly openPast = new Set<T>();
  /** Orders already forgotten (an order past 3 days may sit in `old` and in `openPast` both). */
  private readonly forgotten = new WeakSet<T>();

  constructor(private readonly rule: RetentionRule<T>) {}

  /** A new (or restored) order, after every order added before it. */
  add(order: T): void {
    this.young.push(order);
  }

  /** The orders to forget at `nowMs`, at most maxOrdersForgottenPerCall: final ones the exchange no longer finds. */
  due(nowMs: number): T[] {
    const { isOpen, found, createdAtMs } = this.rule;
    const out: T[] = [];
    const forget = (order: T): void => {
      if (this.forgotten.has(order)) return;
      this.forgotten.add(order);
      out.push(order);
    };
    for (const order of this.openPast) {
      if (out.length >= maxOrdersForgottenPerCall) return out;
      if (isOpen(order)) continue;
      this.openPast.delete(order);
      if (!found(order, nowMs)) forget(order);
    }
    for (let order = this.young.peek(); order !== undefined && out.length < maxOrdersForgottenPerCall; order = this.young.peek()) {
      if (nowMs - createdAtMs(order) <= unfilledFinalOrderFoundMs) break;
      this.young.shift();
      if (!isOpen(order) && !found(order, nowMs)) {
        forget(order);
        continue;
      }
      // Open: it may end unfilled, and be forgotten then. Filled: it waits for 90 days.
      if (isOpen(order)) this.openPast.add(order);
      this.old.push(order);
    }
    for (let order = this.old.peek(); order !== undefined && out.length < maxOrdersForgottenPerCall; order = this.old.peek()) {
      if (nowMs - createdAtMs(order) <= orderFoundMs) break;
      this.old.shift();
      // Still open (a GTC order resting 90 days), it is watched since its third day (openPast) and forgotten as it ends.
      if (!isOpen(order)) forget(order);
    }
    return out;
  }
}
