/**
 * A binary heap of distinct items, each with a number, the highest on top (or the lowest): each item's place in the
 * array is kept, so an item can be re-keyed or taken out in O(log n) wherever it is. The simulator's liquidation
 * bands (breach-bands.ts) re-key an account's edge at every change of it, and a heap with lazy deletion instead would
 * grow with every change of an account whose old edge the price never reaches.
 */
export class PlacedHeap<T> {
  private readonly items: T[] = [];
  private readonly keys: number[] = [];
  private readonly placeOf = new Map<T, number>();

  constructor(private readonly highestFirst: boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The key on top; undefined when empty. */
  topKey(): number | undefined {
    return this.keys[0];
  }

  /** Puts `item` in with `key`, or moves it to `key` if it is in already. */
  set(item: T, key: number): void {
    if (Number.isNaN(key)) throw new Error('PlacedHeap: a NaN key has no place in an order');
    const at = this.placeOf.get(item);
    if (at === undefined) {
      this.items.push(item);
      this.keys.push(key);
      this.placeOf.set(item, this.items.length - 1);
      this.up(this.items.length - 1);
      return;
    }
    this.keys[at] = key;
    this.down(this.up(at));
  }

  delete(item: T): boolean {
    const at = this.placeOf.get(item);
    if (at === undefined) return false;
    this.removeAt(at);
    return true;
  }

  /** Takes the top item out; undefined when empty. */
  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.removeAt(0);
    return top;
  }

  private removeAt(at: number): void {
    const item = this.items[at] as T;
    const lastItem = this.items.pop() as T;
    const lastKey = this.keys.pop() as number;
    this.placeOf.delete(item);
    if (at === this.items.length) return; // it was the last
    this.items[at] = lastItem;
    this.keys[at] = lastKey;
    this.placeOf.set(lastItem, at);
    this.down(this.up(at));
  }

  private above(a: number, b: number): boolean {
    return this.highestFirst ? a > b : a < b;
  }

  /** Moves the item at `at` up while it belongs above its parent; returns where it ends. */
  private up(at: number): number {
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(this.keys[i] as number, this.keys[parent] as number)) break;
      this.swap(i, parent);
      i = parent;
    }
    return i;
  }

  private down(at: number): void {
    const n = this.items.length;
    let i = at;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.above(this.keys[right] as number, this.keys[left] as number) ? right : left;
      if (!this.above(this.keys[child] as number, this.keys[i] as number)) return;
      this.swap(i, child);
      i = child;
    }
  }

  private swap(a: number, b: number): void {
    const itemA = this.items[a] as T;
    const itemB = this.items[b] as T;
    const keyA = this.keys[a] as number;
    this.items[a] = itemB;
    this.items[b] = itemA;
    this.keys[a] = this.keys[b] as number;
    this.keys[b] = keyA;
    this.placeOf.set(itemB, a);
    this.placeOf.set(itemA, b);
  }
}
