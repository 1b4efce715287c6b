// The project's one decimal module. Money (prices, quantities, fees, PnL) is exact: a canonical decimal
// string (branded Qty / Price / Usd) computed with bigint fixed-point arithmetic, never a float compared with
// an epsilon. Strings keep WAL events and snapshots plain JSON and make replay exact. The same module holds
// the grid snapping for what goes to the exchange and the paper exchange's integer-unit helpers.

declare const decimalBrand: unique symbol;
declare const unitBrand: unique symbol;

/** A canonical decimal string: no exponent, no leading zeros, no trailing fractional zeros, no "-0". */
export type Decimal = string & { readonly [decimalBrand]: true };
/** A quantity of the base asset (signed for positions: > 0 long, < 0 short). */
export type Qty = Decimal & { readonly [unitBrand]: 'Qty' };
/** A price in the quote asset (USDT) per unit. */
export type Price = Decimal & { readonly [unitBrand]: 'Price' };
/** An amount of USD(T): capital, PnL, fees, notional, equity. */
export type Usd = Decimal & { readonly [unitBrand]: 'Usd' };

/**
 * Decimals kept by a division whose result is stored (average entry prices, a fill's marginal price). 12 is
 * far finer than any tick (Binance ticks are >= 1e-8), so the error it adds to PnL is below 1e-12 × quantity,
 * far below a cent, while stored strings stay bounded in length over any number of fills.
 */
export const entryPriceScale = 12;

/** toward-zero truncates; half-even (banker's rounding) is unbiased over many averages; floor/ceil are directed. */
export type DivRounding = 'half-even' | 'toward-zero' | 'floor' | 'ceil';

interface Fixed {
  readonly units: bigint;
  readonly scale: number;
}

const decimalSyntax = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-]?)\.(\d+)(?:[eE]([+-]?\d+))?$/;
/** Plain digits with an optional fraction and minus: what canonical decimals and the exchange's amounts look like. */
const plainSyntax = /^-?\d+(?:\.\d+)?$/;
/** Exponents beyond this are not amounts but garbage; refusing them bounds the work and the string length. */
const maxExponent = 400;

/**
 * Decimals parsed lately, by their text: a session's capital, PnL, fees and entry prices are the same strings on
 * every valuation (an equity sample parsed each a few times, a third of the sample's cost). A parse is a function
 * of the text alone and a Fixed is never written, so a cached one is the parse itself. Bounded: cleared when full.
 */
const parsedCache = new Map<string, Fixed>();
const maxParsedCacheEntries = 4_096;

function parseFixed(text: string): Fixed {
  const cached = parsedCache.get(text);
  if (cached !== undefined) return cached;
  const parsed = parseFixedText(text);
  if (parsedCache.size >= maxParsedCacheEntries) parsedCache.clear();
  parsedCache.set(text, parsed);
  return parsed;
}

/**
 * Digit strings up to this long sum exactly in a double, every partial sum included (10^15 < 2^53): the one bound of
 * every reader that sums a text's digits as a number (here, and the backtest's CSV and byte readers).
 */
export const maxExactDigits = 15;

/**
 * A plain decimal ("-12.50", "0.004": plainSyntax) of at most maxExactDigits digits, read on its characters: its
 * units summed as a double (exact at that length) and made a bigint once. null for any other text, which the
 * patterns then read. BigInt() of a spliced string behind a regex test was most of reading an exchange amount (every
 * reconcile's position reads a few) and of each decimal cache miss.
 */
function plainFixedOfText(text: string): Fixed | null {
  const length = text.length;
  const start = text.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  if (length - start > maxExactDigits + 1) return null;
  let units = 0;
  let digits = 0;
  let dot = -1;
  for (let i = start; i < length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      // One point, with digits on both sides: "1." and ".5" are not plain.
      if (dot >= 0 || digits === 0 || i === length - 1) return null;
      dot = i;
    } else if (c >= 48 && c <= 57) {
      units = units * 10 + (c - 48);
      digits += 1;
    } else return null;
  }
  if (digits === 0 || digits > maxExactDigits) return null;
  return { units: BigInt(start === 1 ? -units : units), scale: dot < 0 ? 0 : length - dot - 1 };
}

function parseFixedText(text: string): Fixed {
  const plain = plainFixedOfText(text);
  if (plain !== null) return plain;
  if (plainSyntax.test(text)) {
    // The common form, without the general pattern's captures: "-12.50" is -1250 at scale 2.
    const dot = text.indexOf('.');
    if (dot < 0) return { units: BigInt(text), scale: 0 };
    return { units: BigInt(text.slice(0, dot) + text.slice(dot + 1)), scale: text.length - dot - 1 };
  }
  const m = decimalSyntax.exec(text);
  if (!m) throw new Error(`not a decimal: ${JSON.stringify(text)}`);
  const sign = m[1] ?? m[5] ?? '';
  const whole = m[2] ?? '0';
  const frac = m[3] ?? m[6] ?? '';
  const exponent = Number(m[4] ?? m[7] ?? '0');
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > maxExponent) throw new Error(`decimal exponent out of range: ${text}`);
  let units = BigInt(whole + frac);
  let scale = frac.length - exponent;
  if (scale < 0) {
    units *= pow10(-scale);
    scale = 0;
  }
  return { units: sign === '-' ? -units : units, scale };
}

/** 10^0 .. 10^(powersKept − 1), made once: `10n ** BigInt(n)` on every rescale was a tenth of an addition's cost. */
const powersKept = 64;
const powers: bigint[] = Array.from({ length: powersKept }, (_, n) => 10n ** BigInt(n));

function pow10(n: number): bigint {
  return n >= 0 && n < powersKept ? (powers[n] as bigint) : 10n ** BigInt(n);
}

function formatFixed({ units, scale }: Fixed): Decimal {
  if (units === 0n) return '0' as Decimal;
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString();
  // Trailing fractional zeros dropped on the digits (a bigint division per zero before): not all digits are zeros.
  let s = scale;
  let end = digits.length;
  while (s > 0 && digits.charCodeAt(end - 1) === 48) {
    end -= 1;
    s -= 1;
  }
  if (end < digits.length) digits = digits.slice(0, end);
  digits = digits.padStart(s + 1, '0');
  const whole = digits.slice(0, digits.length - s);
  const text = s > 0 ? `${whole}.${digits.slice(digits.length - s)}` : whole;
  return (negative ? `-${text}` : text) as Decimal;
}

function rescale(x: Fixed, scale: number): bigint {
  return scale === x.scale ? x.units : x.units * pow10(scale - x.scale);
}

function aligned(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const x = parseFixed(a);
  const y = parseFixed(b);
  const scale = Math.max(x.scale, y.scale);
  return [rescale(x, scale), rescale(y, scale), scale];
}

/** 10^0 .. 10^plainMaxScale as doubles, each exact. */
const plainMaxScale = 12;
const tenPowers: readonly number[] = Array.from({ length: plainMaxScale + 1 }, (_, n) => 10 ** n);
/** Units below this (15 digits) are unique at their scale: two decimals of 15 digits never round to one double. */
const plainMaxUnits = 1e15;

/**
 * A finite number's shortest round-trip decimal (String(value), in plain notation) and its exact value, found on the
 * number itself when it has at most plainMaxScale decimals and 15 digits: the fewest decimals s whose integer
 * u = round(value × 10^s) divides back to the very number (u / 10^s is one correctly rounded division). With 15 digits
 * or fewer, no other decimal of as many digits gives that number, so it is the one String(value) writes. A quote's price
 * or a strategy's weight takes this path; writing the number (shortest-form search) and parsing that text again was
 * two thirds of a valuation's cost. Null: some other number (String's path then).
 */
function plainOfNumber(value: number): { decimal: Decimal; exact: Exact } | null {
  for (let s = 0; s <= plainMaxScale; s += 1) {
    const scale = tenPowers[s] as number;
    const u = Math.round(value * scale);
    if (!(Math.abs(u) < plainMaxUnits)) return null;
    if (u / scale !== value) continue;
    const negative = u < 0;
    const digits = String(negative ? -u : u);
    let text = digits;
    if (s > 0) {
      const padded = digits.length > s ? digits : '0'.repeat(s + 1 - digits.length) + digits;
      text = `${padded.slice(0, padded.length - s)}.${padded.slice(padded.length - s)}`;
    }
    return { decimal: (negative ? `-${text}` : text) as Decimal, exact: { units: BigInt(u), scale: s } };
  }
  return null;
}

/**
 * The exact decimal of `value`: a decimal string (plain or exponent notation, as Binance or an old log wrote
 * it) or a finite number, taken as its shortest round-trip form (0.1 → "0.1", 1e-7 → "0.0000001"). Throws on
 * anything else (NaN, Infinity, "", "abc", "0x10").
 */
export function toDecimal(value: string | number): Decimal {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    const plain = plainOfNumber(value);
    if (plain !== null) return plain.decimal;
    // A number's shortest form without an exponent is already canonical (no leading or trailing zeros, never "-0").
    const text = String(value);
    return text.includes('e') ? formatFixed(parseFixed(text)) : (text as Decimal);
  }
  return formatFixed(parseFixed(value));
}

export const toQty = (value: string | number): Qty => toDecimal(value) as Qty;
export const toPrice = (value: string | number): Price => toDecimal(value) as Price;
export const toUsd = (value: string | number): Usd => toDecimal(value) as Usd;

/** True when `text` parses as a decimal (see toDecimal). */
export function isDecimal(text: string): boolean {
  try {
    parseFixed(text);
    return true;
  } catch {
    return false;
  }
}

export const zero = '0' as Qty & Price & Usd;

export function add<T extends Decimal>(a: T, b: T): T {
  const [x, y, scale] = aligned(a, b);
  return formatFixed({ units: x + y, scale }) as T;
}

export function sub<T extends Decimal>(a: T, b: T): T {
  const [x, y, scale] = aligned(a, b);
  return formatFixed({ units: x - y, scale }) as T;
}

/**
 * The exact sum, written once: adding the strings one by one wrote and parsed again a decimal per value (a backtest's
 * totals over its ledger, each figure of its report).
 */
export function sum<T extends Decimal>(values: readonly T[]): T {
  let total: Exact = { units: 0n, scale: 0 };
  for (let i = 0; i < values.length; i += 1) total = exactAdd(total, parseFixed(values[i] as T));
  return formatFixed(total) as T;
}

export function neg<T extends Decimal>(a: T): T {
  const x = parseFixed(a);
  return formatFixed({ units: -x.units, scale: x.scale }) as T;
}

export function abs<T extends Decimal>(a: T): T {
  return (a.startsWith('-') ? a.slice(1) : a) as T;
}

/** Exact product; the result's unit is the caller's to name (e.g. Qty × Price → Usd: `mul(q, p) as Usd`). */
export function mul(a: Decimal, b: Decimal): Decimal {
  const x = parseFixed(a);
  const y = parseFixed(b);
  return formatFixed({ units: x.units * y.units, scale: x.scale + y.scale });
}

function divRound(n: bigint, d: bigint, rounding: DivRounding): bigint {
  const q = n / d; // truncates toward zero
  const r = n - q * d;
  if (r === 0n) return q;
  const negative = n < 0n !== d < 0n;
  switch (rounding) {
    case 'toward-zero':
      return q;
    case 'floor':
      return negative ? q - 1n : q;
    case 'ceil':
      return negative ? q : q + 1n;
    case 'half-even': {
      const twice = 2n * (r < 0n ? -r : r);
      const dAbs = d < 0n ? -d : d;
      const away = twice > dAbs || (twice === dAbs && q % 2n !== 0n);
      return away ? (negative ? q - 1n : q + 1n) : q;
    }
  }
}

/** a / b with `scale` decimals, rounded as asked (an exact quotient is returned as is). Throws on b = 0. */
export function div(a: Decimal, b: Decimal, scale: number, rounding: DivRounding): Decimal {
  const x = parseFixed(a);
  const y = parseFixed(b);
  if (y.units === 0n) throw new Error(`division by zero: ${a} / ${b}`);
  return formatFixed(exactDiv(x, y, scale, rounding));
}

/** a × 10^places, exact (movePoint(x, -2) divides by 100 for percentages). */
export function movePoint<T extends Decimal>(a: T, places: number): T {
  const x = parseFixed(a);
  return places >= 0 ? (formatFixed({ units: x.units * pow10(places), scale: x.scale }) as T) : (formatFixed({ units: x.units, scale: x.scale - places }) as T);
}

/** Rounds to `scale` decimals (for display-free storage bounds); exact values with fewer decimals are unchanged. */
export function round<T extends Decimal>(a: T, scale: number, rounding: DivRounding): T {
  return div(a, '1' as Decimal, scale, rounding) as T;
}

// ---- Exact values between steps: a chain of operations (a valuation's differences, products and sums) kept as
// parsed units, so each step neither formats its result nor parses it again; `decimalOf` writes the canonical
// string at the end. Exact arithmetic has one result whatever the path, so it equals the chain of string ops. ----

/** A decimal as units × 10^-scale, to be handed only to the functions below (never written). */
export type Exact = Fixed;

export const exactOf = (a: Decimal): Exact => parseFixed(a);

/**
 * The exact value of a decimal text from outside (an exchange's amount), or null when it is not one (isDecimal). Parsed
 * without the cache: an exchange's answers are new strings at every read (a position every periodic check), and each
 * kept in the cache, with its canonical form, pushed out the session's own decimals that every valuation reads.
 */
export function exactOfText(text: string): Exact | null {
  try {
    return parseFixedText(text);
  } catch {
    return null;
  }
}

/** x = y, exactly (eq of their decimals). */
export function exactEquals(x: Exact, y: Exact): boolean {
  return exactCompare(x, y) === 0;
}

/** The exact value of a finite number's shortest form, as toDecimal reads it. */
export function exactOfNumber(value: number): Exact {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return plainOfNumber(value)?.exact ?? parseFixed(String(value));
}

/**
 * toDecimal(value) and exactOfNumber(value) of one finite number, its shortest form written once and parsed without
 * the cache: a quote's price is valued at one equity sample and not again (each went into the cache and, every few
 * thousand, cleared the decimals of the session that are read every time).
 */
export function decimalAndExactOfNumber(value: number): { decimal: Decimal; exact: Exact } {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  const plain = plainOfNumber(value);
  if (plain !== null) return plain;
  const text = String(value);
  const exact = parseFixedText(text);
  // A number's shortest form without an exponent is already canonical (toDecimal).
  return { decimal: text.includes('e') ? formatFixed(exact) : (text as Decimal), exact };
}

export function exactAdd(x: Exact, y: Exact): Exact {
  const scale = Math.max(x.scale, y.scale);
  return { units: rescale(x, scale) + rescale(y, scale), scale };
}

export function exactSub(x: Exact, y: Exact): Exact {
  const scale = Math.max(x.scale, y.scale);
  return { units: rescale(x, scale) - rescale(y, scale), scale };
}

export function exactMul(x: Exact, y: Exact): Exact {
  return { units: x.units * y.units, scale: x.scale + y.scale };
}

export function exactAbs(x: Exact): Exact {
  return x.units < 0n ? { units: -x.units, scale: x.scale } : x;
}

export const exactSign = (x: Exact): -1 | 0 | 1 => (x.units < 0n ? -1 : x.units > 0n ? 1 : 0);

export function exactNeg(x: Exact): Exact {
  return { units: -x.units, scale: x.scale };
}

/** -1, 0 or 1 as x is below, equal to or above y (cmp of their decimals). */
export function exactCompare(x: Exact, y: Exact): -1 | 0 | 1 {
  const scale = Math.max(x.scale, y.scale);
  const u = rescale(x, scale);
  const v = rescale(y, scale);
  return u < v ? -1 : u > v ? 1 : 0;
}

/** div of exact values: x / y with `scale` decimals, rounded as asked. Throws on y = 0. */
export function exactDiv(x: Exact, y: Exact, scale: number, rounding: DivRounding): Exact {
  if (y.units === 0n) throw new Error(`division by zero: ${formatFixed(x)} / ${formatFixed(y)}`);
  // x/y = (xu / 10^xs) / (yu / 10^ys); scaled by 10^scale: xu × 10^(scale + ys − xs) / yu.
  const shift = scale + y.scale - x.scale;
  const n = shift >= 0 ? x.units * pow10(shift) : x.units;
  const d = shift >= 0 ? y.units : y.units * pow10(-shift);
  return { units: divRound(n, d, rounding), scale };
}

/** The canonical decimal string of an exact value. */
export const decimalOf = (x: Exact): Decimal => formatFixed(x);

export function cmp(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const [x, y] = aligned(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export const eq = (a: Decimal, b: Decimal): boolean => cmp(a, b) === 0;
export const lt = (a: Decimal, b: Decimal): boolean => cmp(a, b) < 0;
export const lte = (a: Decimal, b: Decimal): boolean => cmp(a, b) <= 0;
export const gt = (a: Decimal, b: Decimal): boolean => cmp(a, b) > 0;
export const gte = (a: Decimal, b: Decimal): boolean => cmp(a, b) >= 0;

/**
 * Whether `a` is zero, without parsing it: a canonical Decimal is zero only as "0", and a non-canonical one (an
 * exponent aside, which no Decimal has) only in plain zeros ("-0", "0.000", ".0": /^-?(?:0+\.?0*|\.0+)$/). Parsing
 * it to a bigint was a tenth of a tick's cost at 10 000 sessions (every holder's every position asks,
 * bench/core-scale.ts); that pattern is tested on the characters, as a regex test was most of what was left.
 */
export function isZero(a: Decimal): boolean {
  if (a === '0') return true;
  const n = a.length;
  let i = a.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  const intStart = i;
  while (i < n && a.charCodeAt(i) === 48 /* 0 */) i += 1;
  const intZeros = i - intStart;
  if (i === n) return intZeros > 0;
  if (a.charCodeAt(i) !== 46 /* . */) return false;
  i += 1;
  const fracStart = i;
  while (i < n && a.charCodeAt(i) === 48) i += 1;
  return i === n && (intZeros > 0 || i > fracStart);
}

export function sign(a: Decimal): -1 | 0 | 1 {
  const u = parseFixed(a).units;
  return u < 0n ? -1 : u > 0n ? 1 : 0;
}

export const min = <T extends Decimal>(a: T, b: T): T => (cmp(a, b) <= 0 ? a : b);
export const max = <T extends Decimal>(a: T, b: T): T => (cmp(a, b) >= 0 ? a : b);

/** Lossy: for display, and for ratios that become orders only after snapping to the grid. */
export function toNumber(a: Decimal): number {
  return Number(a);
}

// ---- The symbol grid: what goes to the exchange is an exact multiple of tick/step size ----

function decimalsOf(step: string): number {
  const dot = step.indexOf('.');
  if (dot < 0) return 0;
  return step.length - dot - 1 - (/0*$/.exec(step.slice(dot + 1))?.[0].length ?? 0);
}

/**
 * A tick or step size as the snaps use it: its decimals and its units at each scale asked for. A symbol has a handful
 * of sizes and every order snaps to them: parsing the size again on each snap (a regular expression, a split, a
 * bigint) was most of a snap's cost. A function of the size's text alone, so a kept one is the parse itself.
 */
interface StepGrid {
  decimals: number;
  unitsByScale: Map<number, bigint>;
}

const stepGrids = new Map<string, StepGrid>();
/** Sizes kept (a few per symbol traded); cleared when full. */
const maxStepGrids = 1_024;
/** Scales kept per size (a snap asks for the size's own decimals plus 9, or a value's scale); cleared when full. */
const maxScalesPerStepGrid = 64;

function stepGridOf(step: string): StepGrid {
  let grid = stepGrids.get(step);
  if (grid === undefined) {
    if (stepGrids.size >= maxStepGrids) stepGrids.clear();
    grid = { decimals: decimalsOf(step), unitsByScale: new Map() };
    stepGrids.set(step, grid);
  }
  return grid;
}

/** toScaled(step, scale), kept with the step's grid. */
function stepUnitsAt(grid: StepGrid, step: string, scale: number): bigint {
  let units = grid.unitsByScale.get(scale);
  if (units === undefined) {
    if (grid.unitsByScale.size >= maxScalesPerStepGrid) grid.unitsByScale.clear();
    units = toScaled(step, scale);
    grid.unitsByScale.set(scale, units);
  }
  return units;
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

/** Digits a number is written to past its step's decimals before it is snapped (numberToPlain). */
const snapGuardDigits = 9;

/** Number → exact decimal string with at most `decimals` places (no exponent notation). */
function numberToPlain(value: number, decimals: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  // toFixed with a few guard digits then truncation keeps 0.1+0.2 style noise out of the grid snap.
  return value.toFixed(Math.min(decimals + snapGuardDigits, 100));
}

export type Rounding = 'down' | 'up';

/**
 * Snaps a non-negative value to a multiple of `step`, rounding toward zero ('down') or away ('up'), as a
 * decimal string with the step's decimals. A Decimal is snapped exactly. A number is an estimate (a ratio such
 * as capital × weight / price): values within float noise of a grid point (see tolerance) snap to it, so noise
 * never costs a whole step; the grid makes the result exact.
 */
export function snapToStep(value: number | Decimal, step: string, rounding: Rounding): string {
  if (typeof value === 'string') return snapDecimal(value, step, rounding);
  if (value < 0) throw new Error(`snapToStep expects a non-negative value, got ${value}`);
  const grid = stepGridOf(step);
  const decimals = Math.max(grid.decimals, 0);
  const guard = decimals + snapGuardDigits;
  const stepScaled = stepUnitsAt(grid, step, guard);
  if (stepScaled <= 0n) throw new Error(`invalid step ${step}`);
  const valueScaled = plainToScaled(numberToPlain(value, decimals), guard);
  // Float noise is a few ulps of the value (~2.2e-16 relative): allow 10 guard units or 2e-14 of the value,
  // whichever is larger, still far below half a step for any realistic price or quantity.
  const relativeUnits = BigInt(Math.ceil(value * 2e-14 * 10 ** guard));
  const tolerance = relativeUnits > 10n ? relativeUnits : 10n;
  let units = valueScaled / stepScaled;
  const remainder = valueScaled - units * stepScaled;
  if (remainder > 0n) {
    if (stepScaled - remainder <= tolerance)
      units += 1n; // just under a grid point: float noise
    else if (rounding === 'up' && remainder > tolerance) units += 1n;
  }
  return fromScaled((units * stepScaled) / pow10(snapGuardDigits), decimals);
}

/**
 * numberToPlain's text at `scale` decimals as units: toFixed wrote exactly that many digits after the point, so the
 * units are its digits without the point (toScaled for anything else, such as toFixed's exponent form past 1e21).
 */
function plainToScaled(text: string, scale: number): bigint {
  const dot = text.indexOf('.');
  if (dot > 0 && text.length - dot - 1 === scale && text.charCodeAt(0) !== 45) return BigInt(text.slice(0, dot) + text.slice(dot + 1));
  return toScaled(text, scale);
}

function snapDecimal(value: Decimal, step: string, rounding: Rounding): string {
  if (sign(value) < 0) throw new Error(`snapToStep expects a non-negative value, got ${value}`);
  const x = parseFixed(value);
  const grid = stepGridOf(step);
  const decimals = Math.max(grid.decimals, x.scale);
  const stepScaled = stepUnitsAt(grid, step, decimals);
  if (stepScaled <= 0n) throw new Error(`invalid step ${step}`);
  const valueScaled = rescale(x, decimals);
  let units = valueScaled / stepScaled;
  if (rounding === 'up' && units * stepScaled !== valueScaled) units += 1n;
  return fromScaled((units * stepScaled) / pow10(decimals - grid.decimals), grid.decimals);
}

/** True when `value` (decimal string) is an exact multiple of `step`. */
export function isMultipleOf(value: string, step: string): boolean {
  const decimals = Math.max(decimalsOf(step), decimalsOf(value.includes('.') ? value : `${value}.0`));
  const stepScaled = toScaled(step, decimals);
  return stepScaled > 0n && toScaled(value, decimals) % stepScaled === 0n;
}

/**
 * Compares two plain decimal strings (exchange filters, order quantities) exactly: cmp of their toDecimal, from one
 * parse each (each toDecimal wrote a canonical string that cmp then parsed again: four parses and two strings a call,
 * on every fill's quantity and every order's filters).
 */
export function compareDecimal(a: string, b: string): number {
  return exactCompare(parseFixed(a), parseFixed(b));
}

// ---- Integer units at a fixed scale (the paper exchange keeps prices and quantities as bigint counts of
// 10^-scale so tick/step/notional checks never suffer float rounding) ----

/** A plain decimal string: digits, an optional fraction, a leading minus at most (no exponent, no plus sign). */
export const plainDecimalPattern = /^-?\d+(\.\d+)?$/;

/** Number of digits after the point in a decimal string ("0.10" -> 2, "1" -> 0). */
export function decimalPlaces(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

export type ParsedDecimal = { ok: true; units: bigint } | { ok: false; reason: 'malformed' | 'too_precise' };

/**
 * Parses `text` into integer units of 10^-scale. Extra fractional digits are allowed only if they
 * are zeros ("1.500" at scale 2 is fine, "1.505" is too precise), matching how Binance treats them.
 */
export function parseDecimal(text: string, scale: number): ParsedDecimal {
  if (!plainDecimalPattern.test(text)) return { ok: false, reason: 'malformed' };
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const [intPart = '0', fracPart = ''] = body.split('.');
  if (fracPart.length > scale && /[1-9]/.test(fracPart.slice(scale))) return { ok: false, reason: 'too_precise' };
  const frac = fracPart.slice(0, scale).padEnd(scale, '0');
  const units = BigInt(intPart + frac);
  return { ok: true, units: negative ? -units : units };
}

/** Parses a decimal we control (config values); throws on anything that is not exact at `scale`. */
export function mustParseDecimal(text: string, scale: number): bigint {
  const parsed = parseDecimal(text, scale);
  if (!parsed.ok) throw new Error(`invalid decimal "${text}" at scale ${scale}: ${parsed.reason}`);
  return parsed.units;
}

/** Formats integer units of 10^-scale as a fixed-point string with exactly `scale` decimals. */
export function formatUnits(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const intPart = digits.slice(0, digits.length - scale);
  const fracPart = digits.slice(digits.length - scale);
  const sign = negative ? '-' : '';
  return scale === 0 ? `${sign}${intPart}` : `${sign}${intPart}.${fracPart}`;
}

/** Lossy conversion for PnL/fee estimates only (never for validation). */
export function unitsToNumber(units: bigint, scale: number): number {
  return Number(units) / 10 ** scale;
}

export function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function absBigint(a: bigint): bigint {
  return a < 0n ? -a : a;
}
