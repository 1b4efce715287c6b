import { describe, expect, it } from 'vitest';
import { hasBookedKey, withBookedKey } from '../../src/core/booked-trade-keys.js';
import { createPrng } from '../../src/paper-exchange/price-process.js';

// A session's booked trade keys answer membership from a Set that moves from list to list as keys are appended: every
// answer must be what a scan of that very list gives, for the newest list and for any older one asked again later.

describe('booked trade keys', () => {
  it('answer as a scan of the list does, through appends past the bound and asks of older lists', () => {
    const random = createPrng(7);
    const maxKeys = 40;
    const lists: string[][] = [[]];
    let list: string[] = [];
    for (let n = 0; n < 400; n += 1) {
      const key = `BTCUSDT:${Math.floor(random() * 120)}`;
      // As the fold does: a key already booked is not appended again.
      if (!hasBookedKey(list, key)) list = withBookedKey(list, key, maxKeys);
      expect(list.length).toBeLessThanOrEqual(maxKeys);
      expect(new Set(list).size).toBe(list.length);
      lists.push(list);
      // The newest list, and now and then an older one (a state reused after a newer one was folded from it).
      const asked = random() < 0.2 ? (lists[Math.floor(random() * lists.length)] as string[]) : list;
      for (let probe = 0; probe < 8; probe += 1) {
        const k = `BTCUSDT:${Math.floor(random() * 120)}`;
        expect(hasBookedKey(asked, k), `${k} in a list of ${asked.length}`).toBe(asked.includes(k));
      }
    }
  });

  it('forget a key the bound dropped, and keep the older list as it was', () => {
    const first = Array.from({ length: 20 }, (_, i) => `ETHUSDT:${i}`);
    expect(hasBookedKey(first, 'ETHUSDT:0')).toBe(true); // its Set is made
    const next = withBookedKey(first, 'ETHUSDT:20', 20);
    expect(next[0]).toBe('ETHUSDT:1');
    expect(hasBookedKey(next, 'ETHUSDT:0')).toBe(false);
    expect(hasBookedKey(next, 'ETHUSDT:20')).toBe(true);
    // The older list still holds its first key and not the new one.
    expect(first).toHaveLength(20);
    expect(hasBookedKey(first, 'ETHUSDT:0')).toBe(true);
    expect(hasBookedKey(first, 'ETHUSDT:20')).toBe(false);
    expect(hasBookedKey(undefined, 'ETHUSDT:0')).toBe(false);
  });
});
