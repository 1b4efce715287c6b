import { describe, expect, it } from 'vitest';
import { decimalPlaces, formatUnits, parseDecimal } from '../../src/model/decimal.js';

describe('simulator decimal helpers', () => {
  it('parses exactly at a scale, allowing only zero digits beyond it', () => {
    expect(parseDecimal('60000.1', 2)).toEqual({ ok: true, units: 6000010n });
    expect(parseDecimal('0.0100', 2)).toEqual({ ok: true, units: 1n });
    expect(parseDecimal('-1.5', 1)).toEqual({ ok: true, units: -15n });
    expect(parseDecimal('0.015', 2)).toEqual({ ok: false, reason: 'too_precise' });
    expect(parseDecimal('1e3', 2)).toEqual({ ok: false, reason: 'malformed' });
    expect(parseDecimal('.5', 2)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('formats with a fixed number of decimals', () => {
    expect(formatUnits(6000010n, 2)).toBe('60000.10');
    expect(formatUnits(1n, 3)).toBe('0.001');
    expect(formatUnits(-1500n, 3)).toBe('-1.500');
    expect(formatUnits(42n, 0)).toBe('42');
    expect(decimalPlaces('0.0100')).toBe(4);
    expect(decimalPlaces('10')).toBe(0);
  });
});
