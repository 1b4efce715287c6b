// Exact decimal arithmetic for what goes to the exchange. Prices and quantities are computed in floating
// point (they come from ratios), then snapped to the symbol's grid with integer arithmetic on scaled
// values, so the string sent is always an exact multiple of tick/step size, never 0.30000000000000004.

function decimalsOf(step: string): number {
  const dot = step.indexOf('.');
  if (dot < 0) return 0;
  return step.length - dot - 1 - (/0*$/.exec(step.slice(dot + 1))?.[0].length ?? 0);
}

function toScaled(value: string, decimals: number): bigint {
  const negative = value.startsWith('-');
  const body = negative ? value.slice(1) : value;
  const [whole = '0', frac = ''] = body.split('.');
  const padded = (frac + '0'.repeat(decimals)).slice(0, decimals);
  const scaled = BigInt(whole + padded);
  return negative ? -scaled : scaled;
}

function fromScaled(scaled: bigint, decimals: number): string {
  const negative = scaled < 0n;
  const abs = negative ? -scaled : scaled;
  const digits = abs.toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const frac = decimals > 0 ? digits.slice(digits.length - decimals) : '';
  const text = frac.length > 0 ? `${whole}.${frac}` : whole;
  return negative && abs !== 0n ? `-${text}` : text;
}

/** Number → exact decimal string with at most `decimals` places (no exponent notation). */
function numberToPlain(value: number, decimals: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  // toFixed with a few guard digits then truncation keeps 0.1+0.2 style noise out of the grid snap.
  return value.toFixed(Math.min(decimals + 9, 100));
}

export type Rounding = 'down' | 'up';

/**
 * Snaps a non-negative value to a multiple of `step`, rounding toward zero ('down') or away ('up').
 * Values within float noise of a grid point (see tolerance) snap to it so noise never costs a whole step.
 */
export function snapToStep(value: number, step: string, rounding: Rounding): string {
  if (value < 0) throw new Error(`snapToStep expects a non-negative value, got ${value}`);
  const decimals = Math.max(decimalsOf(step), 0);
  const guard = decimals + 9;
  const stepScaled = toScaled(step, guard);
  if (stepScaled <= 0n) throw new Error(`invalid step ${step}`);
  const valueScaled = toScaled(numberToPlain(value, decimals), guard);
  // Float noise is a few ulps of the value (~2.2e-16 relative): allow 10 guard units or 2e-14 of the value,
  // whichever is larger, still far below half a step for any realistic price or quantity.
  const relativeUnits = BigInt(Math.ceil(value * 2e-14 * 10 ** guard));
  const tolerance = relativeUnits > 10n ? relativeUnits : 10n;
  let units = valueScaled / stepScaled;
  const remainder = valueScaled - units * stepScaled;
  if (remainder > 0n) {
    if (stepScaled - remainder <= tolerance) units += 1n; // just under a grid point: float noise
    else if (rounding === 'up' && remainder > tolerance) units += 1n;
  }
  return fromScaled(units * stepScaled / 10n ** BigInt(guard - decimals), decimals);
}

/** True when `value` (decimal string) is an exact multiple of `step`. */
export function isMultipleOf(value: string, step: string): boolean {
  const decimals = Math.max(decimalsOf(step), decimalsOf(value.includes('.') ? value : `${value}.0`));
  const stepScaled = toScaled(step, decimals);
  return stepScaled > 0n && toScaled(value, decimals) % stepScaled === 0n;
}

export function compareDecimal(a: string, b: string): number {
  const decimals = Math.max(decimalsOf(a.includes('.') ? a : `${a}.0`), decimalsOf(b.includes('.') ? b : `${b}.0`));
  const x = toScaled(a, decimals);
  const y = toScaled(b, decimals);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Rounds float arithmetic results on positions to 1e-9 so sums of fills do not drift. */
export function roundQty(value: number): number {
  const rounded = Math.round(value * 1e9) / 1e9;
  return Object.is(rounded, -0) ? 0 : rounded;
}
