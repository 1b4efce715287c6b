// Compares a payload the paper exchange produced with the one Binance documents: the same field set, and the same
// JSON type per field. Values are not compared (the sim's orders are not the docs' example orders).
import { readFileSync } from 'node:fs';
import { isDecimal } from '../../src/model/decimal.js';

export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

export interface ShapeDifference {
  path: string;
  kind: 'missing' | 'extra' | 'type';
  expected?: JsonType | 'decimal string';
  actual?: JsonType;
}

/** A difference we know of and accept for now, with the reason. `path` as sameShape reports it. */
export interface KnownDifference {
  path: string;
  kind: ShapeDifference['kind'];
  reason: string;
}

export function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean') return t;
  if (t === 'object') return 'object';
  throw new Error(`not a JSON value: ${t}`);
}

/**
 * Every difference between the shape of `fixture` and of `actual`, by path ("o.AP", "a.P[].bep", "[].adl"): a field
 * missing or extra, or of another JSON type (a decimal string where the docs show one counts as its own type).
 * Arrays: every element of `actual` is compared with the fixture's first element (an empty side is not compared).
 */
export function sameShape(fixture: unknown, actual: unknown, path = ''): ShapeDifference[] {
  const expected = jsonType(fixture);
  const got = jsonType(actual);
  if (expected !== got) return [{ path: path || '(root)', kind: 'type', expected, actual: got }];
  // Binance writes decimals as strings: where the docs show one, a string that is no decimal ("NaN", "") is wrong too.
  if (expected === 'string' && isDecimal(fixture as string) && !isDecimal(actual as string)) {
    return [{ path: path || '(root)', kind: 'type', expected: 'decimal string', actual: 'string' }];
  }
  if (expected === 'array') {
    const [model] = fixture as unknown[];
    if (model === undefined) return [];
    return (actual as unknown[]).flatMap((element) => sameShape(model, element, `${path}[]`));
  }
  if (expected !== 'object') return [];
  const want = fixture as Record<string, unknown>;
  const have = actual as Record<string, unknown>;
  const at = (key: string): string => (path ? `${path}.${key}` : key);
  const out: ShapeDifference[] = [];
  for (const key of Object.keys(want)) {
    if (!(key in have)) out.push({ path: at(key), kind: 'missing', expected: jsonType(want[key]) });
    else out.push(...sameShape(want[key], have[key], at(key)));
  }
  for (const key of Object.keys(have)) if (!(key in want)) out.push({ path: at(key), kind: 'extra', actual: jsonType(have[key]) });
  // An array's elements repeat the same difference once per element: report each once.
  return out.filter((d, i) => out.findIndex((e) => e.path === d.path && e.kind === d.kind) === i);
}

/** The differences not on the known list. */
export function unexpectedDifferences(fixture: unknown, actual: unknown, known: readonly KnownDifference[]): ShapeDifference[] {
  return sameShape(fixture, actual).filter((d) => !known.some((k) => k.path === d.path && k.kind === d.kind));
}

export function loadFixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as unknown;
}
