import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decimal, DivRounding } from '../../src/model/decimal.js';
import {
  abs,
  add,
  cmp,
  compareDecimal,
  decimalAndExactOfNumber,
  exactOfNumber,
  div,
  eq,
  exactEquals,
  exactOf,
  exactOfText,
  isDecimal,
  isMultipleOf,
  isZero,
  lt,
  lte,
  max,
  min,
  movePoint,
  mul,
  neg,
  sign,
  snapToStep,
  sub,
  toDecimal,
  toQty,
} from '../../src/model/decimal.js';

// Exact decimal snapping: every price and quantity sent to the exchange is an exact multiple of its grid.

const steps = ['1', '0.1', '0.10', '0.01', '0.001', '0.0001', '0.00001', '0.00000001', '0.5', '0.25', '0.005', '2.5', '5', '10'];

function decimalsOf(step: string): number {
  return (step.split('.')[1] ?? '').replace(/0+$/, '').length;
}

/** Documented snapping slack: 1e-9 relative, or within 1e-(decimals+8) of a grid point (float noise), plus half a digit of printing. */
function slack(value: number, step: string): number {
  return Math.max(value * 1e-9, 1.5 * 10 ** -(decimalsOf(step) + 8));
}

const valueArb = fc.oneof(
  fc.double({ min: 0, max: 1e9, noNaN: true }),
  fc.double({ min: 0, max: 10, noNaN: true }),
  // Values on or next to a grid point, where float noise matters most.
  fc.tuple(fc.integer({ min: 0, max: 10_000_000 }), fc.constantFrom(...steps)).map(([n, step]) => n * Number(step)),
  fc
    .tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(0.1, 0.01, 0.001), fc.constantFrom(-1e-12, 1e-12, 3e-10))
    .map(([n, s, e]) => Math.max(0, n * s + e)),
);

describe('snapToStep', () => {
  it('always lands exactly on the grid; down never above the value, up never below (within float slack)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...steps), valueArb, (step, value) => {
        const down = snapToStep(value, step, 'down');
        const up = snapToStep(value, step, 'up');
        expect(isMultipleOf(down, step)).toBe(true);
        expect(isMultipleOf(up, step)).toBe(true);
        // Plain decimal text, never exponent notation, with no more places than the step.
        expect(down).toMatch(/^\d+(\.\d+)?$/);
        expect(up).toMatch(/^\d+(\.\d+)?$/);
        expect((down.split('.')[1] ?? '').length).toBe(decimalsOf(step));
        const tolerance = slack(value, step);
        expect(Number(down)).toBeLessThanOrEqual(value + tolerance);
        expect(Number(up)).toBeGreaterThanOrEqual(value - tolerance);
        // At most one step apart, and never more than a step away from the value.
        expect(compareDecimal(down, up)).toBeLessThanOrEqual(0);
        expect(Number(down)).toBeGreaterThan(value - Number(step) - tolerance);
        expect(Number(up)).toBeLessThan(value + Number(step) + tolerance);
      }),
      { numRuns: 200 },
    );
  });

  it('is the identity on grid points given as exact decimals', () => {
    fc.assert(
      fc.property(fc.constantFrom(...steps), fc.integer({ min: 0, max: 10_000_000 }), (step, n) => {
        // n × step computed exactly in integers, printed with the step's places.
        const raw = (step.split('.')[1] ?? '').length;
        const product = (BigInt(n) * BigInt(step.replace('.', ''))).toString().padStart(raw + 1, '0');
        const exact = raw > 0 ? `${product.slice(0, -raw)}.${product.slice(-raw)}` : product;
        const text = Number(exact).toFixed(decimalsOf(step));
        expect(snapToStep(Number(exact), step, 'down')).toBe(text);
        expect(snapToStep(Number(exact), step, 'up')).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('known cases', () => {
    expect(snapToStep(0.1 + 0.2, '0.1', 'down')).toBe('0.3');
    expect(snapToStep(0.1 + 0.2, '0.1', 'up')).toBe('0.3');
    expect(snapToStep(2.9999999999, '0.01', 'down')).toBe('3.00');
    expect(snapToStep(60000.05 * 1.0015, '0.10', 'down')).toBe('60090.0');
    expect(snapToStep(1.23456, '0.001', 'up')).toBe('1.235');
    expect(snapToStep(1.23456, '0.001', 'down')).toBe('1.234');
    expect(snapToStep(0.0009, '0.001', 'down')).toBe('0.000');
    expect(snapToStep(0.0009, '0.001', 'up')).toBe('0.001');
    expect(snapToStep(7, '5', 'down')).toBe('5');
    expect(snapToStep(7, '5', 'up')).toBe('10');
    expect(snapToStep(1.3, '0.25', 'down')).toBe('1.25');
    expect(snapToStep(1.3, '0.25', 'up')).toBe('1.50');
    expect(snapToStep(0, '0.01', 'up')).toBe('0.00');
    expect(snapToStep(123456.789, '0.001', 'down')).toBe('123456.789');
    expect(snapToStep(0.12345678, '0.00000001', 'down')).toBe('0.12345678');
  });

  // Regression (fixed in 054b5e9): the float-noise guard was an absolute 1e-(decimals+8), but float noise is
  // relative (~1e-16 × value), so beyond ~5e7 grid units a value exactly on the grid lost a whole step on 'down'.
  it('does not lose a step to float noise on large grid counts', () => {
    expect(snapToStep(131074.156, '0.001', 'down')).toBe('131074.156');
    expect(snapToStep(Number('38018.9396'), '0.0001', 'down')).toBe('38018.9396');
    expect(snapToStep(16779455.9, '0.1', 'down')).toBe('16779455.9');
    expect(snapToStep(1026.37027, '0.00001', 'down')).toBe('1026.37027');
    // ...and the wider tolerance never rounds a bounded price up by a tick.
    expect(snapToStep(9.995 * 1.0015, '0.01', 'down')).toBe('10.00');
    expect(snapToStep(131074.1559, '0.001', 'down')).toBe('131074.155');
    expect(snapToStep(131074.1561, '0.001', 'up')).toBe('131074.157');
  });

  it('rejects negative values and non-positive steps', () => {
    expect(() => snapToStep(-1, '0.1', 'down')).toThrow(/non-negative/);
    expect(() => snapToStep(1, '0', 'down')).toThrow(/invalid step/);
  });
});

describe('isMultipleOf / compareDecimal', () => {
  it('isMultipleOf is exact', () => {
    expect(isMultipleOf('0.003', '0.001')).toBe(true);
    expect(isMultipleOf('0.0035', '0.001')).toBe(false);
    expect(isMultipleOf('60090.0', '0.10')).toBe(true);
    expect(isMultipleOf('60090.05', '0.10')).toBe(false);
    expect(isMultipleOf('10', '5')).toBe(true);
    expect(isMultipleOf('12', '5')).toBe(false);
    expect(isMultipleOf('1.50', '0.25')).toBe(true);
  });

  it('compareDecimal agrees with exact integer comparison', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        (a, b, da, db) => {
          const text = (v: bigint, d: number): string => {
            const abs = (v < 0n ? -v : v).toString().padStart(d + 1, '0');
            const body = d > 0 ? `${abs.slice(0, abs.length - d)}.${abs.slice(abs.length - d)}` : abs;
            return v < 0n ? `-${body}` : body;
          };
          // Compare a / 10^da with b / 10^db exactly.
          const x = a * 10n ** BigInt(db);
          const y = b * 10n ** BigInt(da);
          expect(compareDecimal(text(a, da), text(b, db))).toBe(x < y ? -1 : x > y ? 1 : 0);
        },
      ),
      { numRuns: 200 },
    );
    expect(compareDecimal('0.001', '0.0010')).toBe(0);
    expect(compareDecimal('5', '4.99')).toBe(1);
    expect(compareDecimal('-1', '0')).toBe(-1);
  });

  it('compareDecimal reads exponent notation and rejects garbage', () => {
    expect(compareDecimal('1e-7', '0.0000001')).toBe(0);
    expect(() => compareDecimal('abc', '1')).toThrow();
  });
});

/** a / 10^d as a plain decimal string (possibly with trailing zeros), the ground truth for the arithmetic. */
function plain(units: bigint, d: number): string {
  const digits = (units < 0n ? -units : units).toString().padStart(d + 1, '0');
  const body = d > 0 ? `${digits.slice(0, digits.length - d)}.${digits.slice(digits.length - d)}` : digits;
  return units < 0n ? `-${body}` : body;
}

const unitsArb = fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n });
const scaleArb = fc.integer({ min: 0, max: 12 });
const decimalArb = fc.tuple(unitsArb, scaleArb).map(([u, d]) => toDecimal(plain(u, d)));
const nonZeroArb = decimalArb.filter((x) => !isZero(x));
/** The exact value of a decimal as a fraction units / 10^scale, for checking results against bigint arithmetic. */
function units(x: string, scale: number): bigint {
  const [w = '0', f = ''] = x.replace('-', '').split('.');
  const u = BigInt(w + f.padEnd(scale, '0'));
  if (f.length > scale) throw new Error(`${x} has more than ${scale} decimals`);
  return x.startsWith('-') ? -u : u;
}

describe('exact decimals (Qty / Price / Usd)', () => {
  it('parse/format round trip: canonical, idempotent, equal in value to the input', () => {
    fc.assert(
      fc.property(unitsArb, scaleArb, (u, d) => {
        const text = plain(u, d);
        const x = toDecimal(text);
        expect(toDecimal(x)).toBe(x);
        expect(x).toMatch(/^-?(0|[1-9]\d*)(\.\d*[1-9])?$/);
        expect(x).not.toBe('-0');
        expect(units(x, 12)).toBe(u * 10n ** BigInt(12 - d));
      }),
      { numRuns: 300 },
    );
  });

  it('a number reads as the exact decimal of its shortest form, exponents included', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const x = toDecimal(n);
        expect(x).not.toMatch(/e/i);
        expect(Number(x)).toBe(n === 0 ? 0 : n);
      }),
      { numRuns: 300 },
    );
    expect(toDecimal(1e-7)).toBe('0.0000001');
    expect(toDecimal(1.5e21)).toBe('1500000000000000000000');
    expect(toDecimal(-0)).toBe('0');
    expect(toDecimal(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(toDecimal('1.2300E-2')).toBe('0.0123');
    expect(toDecimal('-.5')).toBe('-0.5');
    expect(toDecimal('007.500')).toBe('7.5');
  });

  it('rejects what is not a decimal', () => {
    for (const bad of ['', ' 1', '1 ', 'abc', '0x10', '1.2.3', '--1', '1e', 'NaN', 'Infinity', '1e999', '1,5']) {
      expect(() => toDecimal(bad), bad).toThrow();
      expect(isDecimal(bad), bad).toBe(false);
    }
    expect(() => toDecimal(Number.NaN)).toThrow();
    expect(() => toDecimal(Number.POSITIVE_INFINITY)).toThrow();
  });

  it('a number reads as the decimal String() writes of it, on the fast path as on the text path, whatever the number', () => {
    // The text path (unchanged): the number written by String, read as a decimal string.
    const check = (v: number): void => {
      const viaText = toDecimal(String(v));
      expect(toDecimal(v), String(v)).toBe(viaText);
      expect(decimalAndExactOfNumber(v).decimal, String(v)).toBe(viaText);
      expect(decimalAndExactOfNumber(v).exact, String(v)).toEqual(exactOf(viaText));
      expect(exactOfNumber(v), String(v)).toEqual(exactOf(viaText));
    };
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), check), { numRuns: 20_000 });
    // Prices and quantities as a feed and a planner make them: ticks and steps times an integer, scaled down.
    const ticks = [1, 0.5, 0.1, 0.01, 0.001, 0.0001, 1e-5, 1e-6, 1e-7, 1e-8];
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.constantFrom(...ticks), (n, tick) => check(n * tick)),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: -(10 ** 15), max: 10 ** 15 }), fc.integer({ min: 0, max: 16 }), (n, k) => check(n / 10 ** k)),
      { numRuns: 20_000 },
    );
    for (const v of [0, -0, 0.1, 0.2 + 0.1, 96123.4, 1e15, 1e15 - 1, 999999999999999.9, 1e-7, 1.5e-7, 5e-324, 1e21, 123456.789012345, -42.5, 0.000001])
      check(v);
  });

  it('an exchange amount read once (exactOfText) is what isDecimal and toDecimal make of it, and compares as eq does', () => {
    for (const bad of ['', ' 1', 'abc', '0x10', '1.2.3', '1e', 'NaN', '1e999']) expect(exactOfText(bad), bad).toBeNull();
    const texts = ['0', '0.000', '-0.0', '1.500', '1.5', '-0.001', '1e-3', '12345.678900', '0.1', '100'];
    for (const a of texts) {
      const x = exactOfText(a);
      expect(x, a).not.toBeNull();
      if (x === null) continue;
      expect(exactEquals(x, exactOf(toDecimal(a))), a).toBe(true);
      expect(x.units === 0n, a).toBe(isZero(toDecimal(a)));
      for (const b of texts) expect(exactEquals(x, exactOf(toDecimal(b))), `${a} = ${b}`).toBe(eq(toDecimal(a), toDecimal(b)));
    }
  });

  it('a plain amount read on its characters has the units and scale of its digits, at every length and form', () => {
    // The reference: the digits without the point as one integer, the scale the digits after the point.
    const reference = (text: string): { units: bigint; scale: number } | null => {
      if (!/^-?\d+(?:\.\d+)?$/.test(text)) return null;
      const dot = text.indexOf('.');
      return { units: BigInt(dot < 0 ? text : text.slice(0, dot) + text.slice(dot + 1)), scale: dot < 0 ? 0 : text.length - dot - 1 };
    };
    const digitText = fc.stringMatching(/^[0-9]{1,20}$/);
    const plain = fc
      .tuple(fc.boolean(), digitText, fc.option(digitText, { nil: undefined }))
      .map(([minus, whole, frac]) => `${minus ? '-' : ''}${whole}${frac === undefined ? '' : `.${frac}`}`);
    fc.assert(
      fc.property(plain, (text) => {
        const read = exactOfText(text);
        const expected = reference(text);
        expect(read, text).not.toBeNull();
        expect(read?.units, text).toBe(expected?.units);
        expect(read?.scale, text).toBe(expected?.scale);
      }),
      { numRuns: 20_000 },
    );
    // The edges of the fast path: 15 and 16 digits (the double stops being exact past 15), a minus zero, leading
    // zeros, and the near-plain forms it must leave to the patterns (read by them, or refused).
    const edges = ['999999999999999', '-999999999999999', '9999999999999999', '99999999.99999999', '0.000000000000001', '-0', '-0.000', '007.50'];
    for (const text of edges) expect(exactOfText(text), text).toEqual(reference(text));
    expect(exactOfText('1.')).toEqual({ units: 1n, scale: 0 });
    expect(exactOfText('.5')).toEqual({ units: 5n, scale: 1 });
    expect(exactOfText('+1.5')).toEqual({ units: 15n, scale: 1 });
    for (const bad of ['-', '--1', '1.2.3', '1-2', '-.', '.']) expect(exactOfText(bad), bad).toBeNull();
  });

  it('add is commutative and associative; sub is its inverse; neg and abs agree with sign', () => {
    fc.assert(
      fc.property(decimalArb, decimalArb, decimalArb, (a, b, c) => {
        expect(add(a, b)).toBe(add(b, a));
        expect(add(add(a, b), c)).toBe(add(a, add(b, c)));
        expect(add(sub(a, b), b)).toBe(a);
        expect(sub(a, a)).toBe('0');
        expect(add(a, neg(a))).toBe('0');
        expect(units(add(a, b), 12)).toBe(units(a, 12) + units(b, 12));
        expect(sign(abs(a))).toBe(isZero(a) ? 0 : 1);
        expect(cmp(a, b) + cmp(b, a)).toBe(0); // antisymmetric (and no -0 from negating an equal comparison)
        expect(eq(min(a, b), a) || eq(min(a, b), b)).toBe(true);
        expect(lte(min(a, b), max(a, b))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('mul is exact; div then mul comes back within the rounding bound, in the rounding direction', () => {
    fc.assert(
      fc.property(
        decimalArb,
        nonZeroArb,
        fc.integer({ min: 0, max: 14 }),
        fc.constantFrom<DivRounding>('half-even', 'toward-zero', 'floor', 'ceil'),
        (a, b, s, rounding) => {
          expect(mul(a, b)).toBe(mul(b, a));
          expect(units(mul(a, b), 24)).toBe(units(a, 12) * units(b, 12));
          const q = div(a, b, s, rounding);
          // error = q × b − a, exactly; bounded by one unit of 10^-s times |b| (half a unit for half-even).
          const error = sub(mul(q, b), a);
          const unit = mul(abs(b), toDecimal(`1e-${s}`));
          expect(lte(abs(error), rounding === 'half-even' ? mul(unit, toDecimal('0.5')) : unit)).toBe(true);
          // Direction: floor never above a/b, ceil never below, toward-zero never farther from zero.
          const above = sign(b) > 0 ? sign(error) > 0 : sign(error) < 0; // q > a/b
          if (rounding === 'floor') expect(above).toBe(false);
          if (rounding === 'ceil') expect(sign(error) === 0 || above).toBe(true);
          if (rounding === 'toward-zero') expect(lte(abs(q), abs(div(a, b, s + 2, 'ceil'))) || isZero(q)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    expect(div(toDecimal(1), toDecimal(8), 2, 'half-even')).toBe('0.12');
    expect(div(toDecimal(3), toDecimal(8), 2, 'half-even')).toBe('0.38');
    expect(div(toDecimal(-1), toDecimal(8), 2, 'half-even')).toBe('-0.12');
    expect(div(toDecimal(5), toDecimal(2), 0, 'half-even')).toBe('2');
    expect(div(toDecimal(7), toDecimal(2), 0, 'half-even')).toBe('4');
    expect(div(toDecimal(-7), toDecimal(2), 0, 'floor')).toBe('-4');
    expect(div(toDecimal(-7), toDecimal(2), 0, 'toward-zero')).toBe('-3');
    expect(() => div(toDecimal(1), toDecimal(0), 2, 'half-even')).toThrow();
  });

  it('no float drift: 0.1 + 0.2 is 0.3, and movePoint shifts exactly', () => {
    expect(add(toQty('0.1'), toQty('0.2'))).toBe('0.3');
    expect(sub(sub(toQty('0.3'), toQty('0.1')), toQty('0.2'))).toBe('0');
    expect(movePoint(toDecimal('12.5'), -2)).toBe('0.125');
    expect(movePoint(toDecimal('0.0125'), 4)).toBe('125');
  });

  it('snaps a Decimal to the grid exactly (no float tolerance)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), scaleArb, fc.constantFrom(...steps), (u, d, step) => {
        const value = toDecimal(plain(u, d));
        const down = snapToStep(value, step, 'down');
        const up = snapToStep(value, step, 'up');
        expect(isMultipleOf(down, step) && isMultipleOf(up, step)).toBe(true);
        expect(compareDecimal(down, value)).toBeLessThanOrEqual(0);
        expect(compareDecimal(up, value)).toBeGreaterThanOrEqual(0);
        expect(lt(sub(toDecimal(up), toDecimal(down)), add(toDecimal(step), toDecimal('1e-30')))).toBe(true);
        if (isMultipleOf(value, step)) expect(compareDecimal(down, up)).toBe(0);
      }),
      { numRuns: 300 },
    );
    expect(snapToStep(toDecimal('0.0015'), '0.001', 'up')).toBe('0.002');
    expect(snapToStep(toDecimal('0.0015'), '0.001', 'down')).toBe('0.001');
    expect(snapToStep(toDecimal('0.0030000000000001'), '0.001', 'down')).toBe('0.003');
    expect(snapToStep(toDecimal('0.0030000000000001'), '0.001', 'up')).toBe('0.004');
  });
});

describe('isZero', () => {
  it('agrees with comparing the value to zero, for canonical decimals and for plain-digit ones', () => {
    const plain = fc
      .tuple(fc.boolean(), fc.nat({ max: 3 }), fc.nat({ max: 999 }), fc.nat({ max: 4 }))
      .map(([negative, zeros, digits, fracZeros]) => `${negative ? '-' : ''}${'0'.repeat(zeros + 1)}${digits === 0 ? '' : digits}.${'0'.repeat(fracZeros)}`);
    fc.assert(
      fc.property(fc.oneof(decimalArb, plain), (text) => {
        const decimal = text as Decimal;
        const zeroValued = /[1-9]/.test(text) === false;
        expect(isZero(decimal)).toBe(zeroValued);
        if (/^-?\d/.test(text)) expect(isZero(decimal)).toBe(cmp(toDecimal(text), toDecimal('0')) === 0);
      }),
    );
    for (const [text, zero] of [
      ['0', true],
      ['-0', true],
      ['0.000', true],
      ['.0', true],
      ['0.002', false],
      ['-0.5', false],
      ['10', false],
      ['100', false],
    ] as const)
      expect(isZero(text as Decimal)).toBe(zero);
  });

  it('is zero for exactly the texts of plain zeros, every text of up to 6 characters of 0 . - 1 tried', () => {
    const plainZeroPattern = /^-?(?:0+\.?0*|\.0+)$/;
    const texts = [''];
    for (let length = 1; length <= 6; length += 1)
      for (const prefix of texts.filter((t) => t.length === length - 1)) for (const c of ['0', '.', '-', '1']) texts.push(prefix + c);
    for (const text of texts) expect([text, isZero(text as Decimal)]).toEqual([text, plainZeroPattern.test(text)]);
  });
});

/** The general parse and canonical format as they were before the fast paths (reference for the property below). */
function referenceCanonical(text: string): string {
  const m = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-]?)\.(\d+)(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new Error('not a decimal');
  const whole = m[2] ?? '0';
  const frac = m[3] ?? m[6] ?? '';
  const exponent = Number(m[4] ?? m[7] ?? '0');
  let u = BigInt(whole + frac);
  let s = frac.length - exponent;
  if (s < 0) {
    u *= 10n ** BigInt(-s);
    s = 0;
  }
  if ((m[1] ?? m[5]) === '-') u = -u;
  while (s > 0 && u % 10n === 0n) {
    u /= 10n;
    s -= 1;
  }
  const negative = u < 0n;
  const digits = (negative ? -u : u).toString().padStart(s + 1, '0');
  const body = s > 0 ? `${digits.slice(0, digits.length - s)}.${digits.slice(digits.length - s)}` : digits.slice(0, digits.length - s);
  return negative ? `-${body}` : body;
}

describe('decimal fast paths (plain parse, parse cache, digit-wise format, numbers without exponent)', () => {
  const plainText = fc
    .tuple(fc.boolean(), fc.stringMatching(/^\d{1,25}$/), fc.option(fc.stringMatching(/^\d{1,20}$/), { nil: undefined }))
    .map(([negative, whole, frac]) => `${negative ? '-' : ''}${whole}${frac === undefined ? '' : `.${frac}`}`);

  it('canonical forms equal the general algorithm for plain texts, twice (the second from the cache)', () => {
    fc.assert(
      fc.property(plainText, (text) => {
        expect(toDecimal(text)).toBe(referenceCanonical(text));
        expect(toDecimal(text)).toBe(referenceCanonical(text));
      }),
      { numRuns: 2_000 },
    );
  });

  it('sums, differences and products equal the general algorithm', () => {
    fc.assert(
      fc.property(plainText, plainText, (a, b) => {
        const [x, y] = [toDecimal(a), toDecimal(b)];
        const units = (t: string): [bigint, number] => {
          const [w = '', f = ''] = t.replace('-', '').split('.');
          const u = BigInt(w + f);
          return [t.startsWith('-') ? -u : u, f.length];
        };
        const [xu, xs] = units(x);
        const [yu, ys] = units(y);
        const at = (u: bigint, from: number, to: number): bigint => u * 10n ** BigInt(to - from);
        const s = Math.max(xs, ys);
        const fixed = (u: bigint, scale: number): string => {
          const negative = u < 0n;
          const digits = (negative ? -u : u).toString().padStart(scale + 1, '0');
          return `${negative ? '-' : ''}${digits.slice(0, digits.length - scale)}${scale > 0 ? `.${digits.slice(digits.length - scale)}` : ''}`;
        };
        expect(add(x, y)).toBe(referenceCanonical(fixed(at(xu, xs, s) + at(yu, ys, s), s)));
        expect(sub(x, y)).toBe(referenceCanonical(fixed(at(xu, xs, s) - at(yu, ys, s), s)));
        expect(mul(x, y)).toBe(referenceCanonical(fixed(xu * yu, xs + ys)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('a finite number reads as its shortest form, exponent or not', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(toDecimal(n)).toBe(referenceCanonical(String(n).replace('e+', 'e')));
      }),
      { numRuns: 2_000 },
    );
  });

  it('exponent forms and malformed texts still take the general path', () => {
    expect(toDecimal('1.50e3')).toBe('1500');
    expect(toDecimal('-.5E-2')).toBe('-0.005');
    expect(toDecimal('+7.10')).toBe('7.1');
    expect(toDecimal('-0.000')).toBe('0');
    expect(() => toDecimal('1.')).not.toThrow();
    expect(() => toDecimal('12a')).toThrow();
    expect(() => toDecimal('12a')).toThrow(); // an error is never cached as a value
    expect(movePoint(toDecimal('1.5'), -70)).toBe(`0.${'0'.repeat(69)}15`);
    expect(movePoint(toDecimal('1.5'), 70)).toBe(`15${'0'.repeat(69)}`);
  });
});

describe('decimalAndExactOfNumber', () => {
  // An equity sample reads a quote's price once as both (mtm.ts valuePositionExact): it must give what toDecimal and
  // exactOfNumber give, exponent forms included, and refuse what they refuse.
  it('is toDecimal and exactOfNumber of the number', () => {
    for (const value of [86937.4, 0.1, 1e-7, 1.5e-9, 1e21, 2.5e22, 123456789.123, 0, -3.25]) {
      const { decimal, exact } = decimalAndExactOfNumber(value);
      expect(decimal).toBe(toDecimal(value));
      expect(exact).toEqual(exactOfNumber(value));
    }
  });

  it('refuses what is not a finite number', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) expect(() => decimalAndExactOfNumber(value)).toThrow('not a finite number');
  });
});
