import { describe, expect, it } from 'vitest';
import { plainUnits } from '../../src/backtest/data/quotes.js';
import { parseDecimal } from '../../src/model/decimal.js';

// Quote prices are read on their characters (data/quotes.ts, plainUnits) rather than through parseDecimal: whatever
// the fast read answers must be parseDecimal's units, and what it cannot read exactly it must leave to parseDecimal.

const samples = [
  '86944.4',
  '86944.40',
  '86944',
  '0.1',
  '007.5',
  '0',
  '0.00',
  '1.5',
  '1.505',
  '1.500',
  '.5',
  '5.',
  '-1.5',
  '1e5',
  '1.2.3',
  ' 1.5',
  '',
  '123456789012.34',
  '1234567890123.4',
  '999999999999999',
  '9999999999999999',
  '3036.27',
  '0.0001',
];

describe('plainUnits', () => {
  for (const scale of [0, 1, 2, 3, 4, 8]) {
    it(`at scale ${scale}: parseDecimal's units, or null where it cannot read exactly`, () => {
      for (const text of samples) {
        const fast = plainUnits(text, scale);
        const parsed = parseDecimal(text, scale);
        if (fast !== null) expect(parsed.ok ? parsed.units : parsed.reason, text).toBe(fast);
      }
    });
  }

  it('reads the plain prices of an archive (a point and at most the scale of decimals, up to 15 digits)', () => {
    expect(plainUnits('86944.4', 2)).toBe(8_694_440n);
    expect(plainUnits('86944', 1)).toBe(869_440n);
    expect(plainUnits('0.01', 2)).toBe(1n);
    expect(plainUnits('9999999999999.9', 2)).toBe(999_999_999_999_990n); // 15 digits at the scale: exact in a double
    expect(plainUnits('99999999999999.9', 2)).toBeNull(); // 16 digits at the scale: left to parseDecimal
    expect(plainUnits('1.505', 2)).toBeNull(); // more decimals than the scale: parseDecimal says too precise (or not)
  });

  it('agrees with parseDecimal on random prices', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let i = 0; i < 5_000; i += 1) {
      const intDigits = 1 + Math.floor(random() * 14);
      const decimals = Math.floor(random() * 5);
      let text = '';
      for (let d = 0; d < intDigits; d += 1) text += String(Math.floor(random() * 10));
      if (decimals > 0) text += '.';
      for (let d = 0; d < decimals; d += 1) text += String(Math.floor(random() * 10));
      const scale = Math.floor(random() * 5);
      const fast = plainUnits(text, scale);
      const parsed = parseDecimal(text, scale);
      if (fast !== null) expect(parsed.ok ? parsed.units : parsed.reason, `${text} at ${scale}`).toBe(fast);
      else expect(decimals > scale || intDigits + scale > 15, `${text} at ${scale} is plain and short: read fast`).toBe(true);
    }
  });
});
