import { describe, expect, it } from 'vitest';
import { pushKeepingNewest, trimBlockOf } from '../../src/util/keep-newest.js';

// A bounded list cut back a block at a time: it always holds the newest items in order, never fewer than its bound
// once that many came, never a block more; and it is cut once a block, not at every append (a splice of the whole
// list per append was a tenth of a month-long backtest, in the paper exchange's trade list).

describe('pushKeepingNewest', () => {
  it('keeps the newest items, in order, between the bound and a block more, and cuts once a block', () => {
    for (const max of [1, 2, 7, 8, 100, 1_000]) {
      const list: number[] = [];
      const cutOff: number[] = [];
      let cuts = 0;
      const appends = 5 * max + 13;
      for (let i = 0; i < appends; i += 1) {
        const cut = pushKeepingNewest(list, i, max);
        if (cut.length > 0) cuts += 1;
        cutOff.push(...cut);
        // The newest, in order: exactly the items appended after those cut off.
        expect(list[list.length - 1]).toBe(i);
        expect(list[0]).toBe(cutOff.length);
        expect(list.length).toBe(i + 1 - cutOff.length);
        if (i + 1 >= max) expect(list.length).toBeGreaterThanOrEqual(max);
        expect(list.length).toBeLessThan(max + trimBlockOf(max));
      }
      expect(cutOff).toEqual(Array.from({ length: cutOff.length }, (_, i) => i));
      // One cut a block of appends past the bound, not one an append.
      expect(cuts).toBeLessThanOrEqual(Math.ceil((appends - max) / trimBlockOf(max)));
      if (trimBlockOf(max) > 1) expect(cuts).toBeLessThan((appends - max) / 2);
    }
  });

  it('refuses a bound that keeps nothing', () => {
    expect(() => pushKeepingNewest([], 1, 0)).toThrow(/bound/);
    expect(() => pushKeepingNewest([], 1, 2.5)).toThrow(/bound/);
  });
});
