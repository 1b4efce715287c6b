import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digitsValue } from '../../src/backtest/data/binance-csv.js';

// The archive's integer columns (update ids, times, trade ids) are read by summing their digits as they are checked,
// instead of Number() of the text: the same value for every digit string, and -1 for anything else.

/** The reading it replaced: digits only, then Number(). */
const viaNumber = (text: string): number => (/^[0-9]+$/.test(text) ? Number(text) : -1);

const digitString = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 25 });

describe('digitsValue', () => {
  it('is Number() of any digit string, leading zeros and more digits than a double holds included', () => {
    fc.assert(
      fc.property(digitString, (text) => {
        expect(digitsValue(text)).toBe(viaNumber(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees around the exact-sum bound (15 digits) and beyond 2^53', () => {
    for (const text of [
      '0',
      '000',
      '999999999999999',
      '1000000000000000',
      '9007199254740993',
      '9007199254740995',
      '99999999999999999',
      '12345678901234567890',
    ]) {
      expect([text, digitsValue(text)]).toEqual([text, viaNumber(text)]);
    }
  });

  it('is -1 for anything that is not all digits', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        expect(digitsValue(text)).toBe(viaNumber(text));
      }),
      { numRuns: 5_000 },
    );
    for (const text of ['', ' 1', '1 ', '-1', '+1', '1.0', '1e3', '０', '١']) expect(digitsValue(text)).toBe(-1);
  });
});
