// The heap under the liquidation bands: items re-keyed and taken out anywhere must leave the top always the best
// key, as a plain list of (item, key) sorted each time says.
import { describe, expect, it } from 'vitest';
import { PlacedHeap } from '../../src/paper-exchange/placed-heap.js';
import { createPrng } from '../../src/paper-exchange/price-process.js';

describe('PlacedHeap', () => {
  for (const highestFirst of [true, false]) {
    it(`keeps the ${highestFirst ? 'highest' : 'lowest'} key on top through sets, re-keys, deletes and pops`, () => {
      const random = createPrng(highestFirst ? 5 : 6);
      const heap = new PlacedHeap<number>(highestFirst);
      const model = new Map<number, number>();
      const best = (): number | undefined => {
        const keys = [...model.values()];
        if (keys.length === 0) return undefined;
        return highestFirst ? Math.max(...keys) : Math.min(...keys);
      };
      for (let step = 0; step < 20_000; step++) {
        const item = Math.floor(random() * 300);
        const r = random();
        if (r < 0.55) {
          // Few distinct keys, infinities among them: ties and the bands' "check at every change" edges.
          const key = random() < 0.05 ? (random() < 0.5 ? -Infinity : Infinity) : Math.floor(random() * 50);
          heap.set(item, key);
          model.set(item, key);
        } else if (r < 0.8) {
          expect(heap.delete(item)).toBe(model.delete(item));
        } else {
          const top = heap.topKey();
          const popped = heap.pop();
          expect(top).toBe(best());
          if (popped !== undefined) {
            expect(model.get(popped)).toBe(top);
            model.delete(popped);
          }
        }
        expect(heap.size).toBe(model.size);
        expect(heap.topKey()).toBe(best());
      }
    });
  }

  it('refuses a NaN key, which has no place in an order', () => {
    expect(() => new PlacedHeap<string>(true).set('a', Number.NaN)).toThrow(/NaN/);
  });
});
