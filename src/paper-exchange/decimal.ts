// Exact decimal handling for exchange filters. Prices and quantities are kept as bigint counts of the
// smallest displayed unit (10^-scale) so tick/step/notional checks never suffer float rounding.

const decimalPattern = /^-?\d+(\.\d+)?$/;

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
  if (!decimalPattern.test(text)) return { ok: false, reason: 'malformed' };
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
