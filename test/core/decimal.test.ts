import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDecimal, isMultipleOf, snapToStep } from '../../src/core/decimal.js';

const steps = ['1', '0.1', '0.10', '0.01', '0.001', '0.0001', '0.5', '0.25', '5', '0.00001'];

describe('snapToStep', () => {
  it('always lands on the grid, down never above and up never below the value', () => {
    fc.assert(
      fc.property(fc.constantFrom(...steps), fc.double({ min: 0, max: 1e6, noNaN: true }), (step, value) => {
        const down = snapToStep(value, step, 'down');
        const up = snapToStep(value, step, 'up');
        expect(isMultipleOf(down, step)).toBe(true);
        expect(isMultipleOf(up, step)).toBe(true);
        const tolerance = Number(step) * 1e-3;
        expect(Number(down)).toBeLessThanOrEqual(value + tolerance);
        expect(Number(up)).toBeGreaterThanOrEqual(value - tolerance);
        expect(Number(up) - Number(down)).toBeLessThanOrEqual(Number(step) * 1.000001 + value * 1e-12); // float subtraction noise
      }),
      { numRuns: 200 },
    );
  });

  it('does not lose a step to float noise', () => {
    expect(snapToStep(0.1 + 0.2, '0.1', 'down')).toBe('0.3');
    expect(snapToStep(2.9999999999, '0.01', 'down')).toBe('3.00');
    expect(snapToStep(60000.05 * 1.0015, '0.10', 'down')).toBe('60090.0');
    expect(snapToStep(1.23456, '0.001', 'up')).toBe('1.235');
    // Large values carry more absolute float noise (found by a property probe): still exact.
    expect(snapToStep(131074.156, '0.001', 'down')).toBe('131074.156');
    expect(snapToStep(Number('38018.9396'), '0.0001', 'down')).toBe('38018.9396');
    // ...and the tolerance never rounds a bounded price up by a tick.
    expect(snapToStep(9.995 * 1.0015, '0.01', 'down')).toBe('10.00');
  });

  it('compares decimals exactly', () => {
    expect(compareDecimal('0.001', '0.0010')).toBe(0);
    expect(compareDecimal('5', '4.99')).toBe(1);
    expect(compareDecimal('-1', '0')).toBe(-1);
  });
});
