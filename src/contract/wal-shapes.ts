import type { z } from 'zod';
import { isDecimal } from '../model/decimal.js';

// Replay reads every WAL record at boot, and JSON.parse was most of that (1.2 µs of a record's 3–4 µs on this 2-core
// machine). The engine writes each kind of record in a few fixed layouts: the same keys in the same order, no
// whitespace. Once the full path (JSON.parse and the schema) has accepted a record of a flat event type, its layout
// becomes a regular expression that matches exactly the records of that layout the schema accepts, each field's
// pattern made from the schema's own description of that field; later records of the layout are read by one match
// (about a quarter of JSON.parse's cost). A match is only ever an accept: a record that does not match (any other
// layout, an escape in a string, a value the schema would refuse) takes the full path, which reads it, or rejects
// it with its error, exactly as before. Flat event types: fields of strings, numbers, booleans, enums and amounts
// (each maybe nullable or optional); events with a nested value (an order, a list of routes) always take the full path.

/** What a field holds, as the schema says (inside its nullable / optional wrappers). */
type FieldKind =
  | { kind: 'string' }
  | { kind: 'number' }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] }
  /** An amount: a decimal string or a number, converted by `exact` (amountSchema in wal.ts). */
  | { kind: 'amount'; exact: (value: string | number) => unknown };

interface FieldPlan {
  name: string;
  type: FieldKind;
  nullable: boolean;
}

/** The conversion of each amount schema (a zod transform, which cannot be looked into). */
export type AmountSchemas = ReadonlyMap<z.ZodType, (value: string | number) => unknown>;

interface ZodDef {
  type: string;
  innerType?: z.ZodType;
  checks?: unknown[];
  entries?: Record<string, unknown>;
  values?: unknown[];
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
}

const defOf = (schema: z.ZodType): ZodDef => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;

/** Text that JSON writes as it is (no escape) and a pattern can hold literally once its metacharacters are escaped. */
const isPlainJsonText = (text: string): boolean => [...text].every((c) => c >= ' ' && c !== '"' && c !== '\\');
const escapePattern = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A field's kind, or null when a pattern cannot check it the way the schema does. */
function kindOf(def: ZodDef): FieldKind | null {
  // Refinements (a minimum, an integer) are not in a pattern: a field with any makes its event the full path's.
  if (def.checks !== undefined && def.checks.length > 0) return null;
  if (def.type === 'string' || def.type === 'number' || def.type === 'boolean') return { kind: def.type };
  const values = def.type === 'enum' && def.entries ? Object.values(def.entries) : [];
  const plain = values.every((v): v is string => typeof v === 'string' && isPlainJsonText(v));
  return values.length > 0 && plain ? { kind: 'enum', values } : null;
}

function planField(name: string, schema: z.ZodType, amounts: AmountSchemas): FieldPlan | null {
  let nullable = false;
  for (let inner = schema; ;) {
    const exact = amounts.get(inner);
    const def = defOf(inner);
    // Optional or not, a layout has the field or not: a layout's pattern requires exactly its own keys.
    if (!exact && (def.type === 'nullable' || def.type === 'optional') && def.innerType) {
      if (def.type === 'nullable') nullable = true;
      inner = def.innerType;
      continue;
    }
    const type = exact ? ({ kind: 'amount', exact } as const) : kindOf(def);
    return type && isPlainJsonText(name) ? { name, type, nullable } : null;
  }
}

/** A JSON string without escapes (JSON.parse reads it as the text between the quotes). */
const stringPattern = '"([^"\\\\\\u0000-\\u001f]*)"';
/** A JSON number, its grammar exactly. */
const numberPattern = '(-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)';

/** The pattern of a field's value, and how many groups it captures. */
function valuePattern(field: FieldPlan): [string, number] {
  const t = field.type;
  const [pattern, groups]: [string, number] =
    t.kind === 'string'
      ? [stringPattern, 1]
      : t.kind === 'number'
        ? [numberPattern, 1]
        : t.kind === 'boolean'
          ? ['(true|false)', 1]
          : t.kind === 'enum'
            ? [`"(${t.values.map(escapePattern).join('|')})"`, 1]
            : [`(?:${stringPattern}|${numberPattern})`, 2];
  return [field.nullable ? `(?:${pattern}|null)` : pattern, groups];
}

/** V8 makes a slice of this many characters or more a view into the string it was cut from (a copy when shorter). */
const shortestSliceView = 13;

/** A string of its own: a longer capture would be a view that keeps the whole record alive as long as the state keeps it. */
function own(text: string): string {
  // Joined to a space, the capture is copied into one new flat string; the slice of that keeps nothing else alive.
  return text.length < shortestSliceView ? text : (' ' + text).slice(1);
}

/** Not a value the schema takes (the record then takes the full path). */
const refused: unique symbol = Symbol('refused');

/** The value the schema outputs for a field whose pattern matched with these groups. */
function valueOf(field: FieldPlan, groups: RegExpExecArray, at: number): unknown {
  const t = field.type;
  const text = groups[at];
  if (t.kind === 'amount') {
    const number = groups[at + 1];
    if (text !== undefined) return isDecimal(text) ? t.exact(text) : refused;
    if (number === undefined) return null; // nullable: `null` matched
    const value = Number(number);
    return Number.isFinite(value) ? t.exact(value) : refused;
  }
  if (text === undefined) return null; // nullable: `null` matched
  if (t.kind === 'number') {
    // JSON.parse reads a number's text the same way (the nearest double); the schema refuses one too big for a double.
    const value = Number(text);
    return Number.isFinite(value) ? value : refused;
  }
  if (t.kind === 'boolean') return text === 'true';
  return own(text);
}

/** A field of a layout: its plan and the first group its value captures. */
interface LayoutField {
  plan: FieldPlan;
  group: number;
}

interface Layout {
  type: string;
  pattern: RegExp;
  /** The layout's fields in the schema's order (the order of the keys of the schema's output). */
  fields: LayoutField[];
}

/** The event a layout's match holds, or undefined when a value is one the schema refuses. */
function eventOf(layout: Layout, groups: RegExpExecArray): Record<string, unknown> | undefined {
  const event: Record<string, unknown> = { type: layout.type };
  for (const { plan: field, group } of layout.fields) {
    const value = valueOf(field, groups, group);
    if (value === refused) return undefined;
    event[field.name] = value;
  }
  return event;
}

interface EventPlan {
  type: string;
  /** Every field but `type`, in the schema's order. */
  fields: FieldPlan[];
  layouts: Layout[];
  /** Key lists already seen (made into a layout, or not fit for one). */
  seen: Set<string>;
}

/** A type's layouts are at most this many (the engine writes one or two per type), of at most so many key lists seen. */
const maxLayoutsPerType = 8;
const maxKeyListsPerType = 64;
const typePrefix = '{"type":"';

export class WalShapes {
  private readonly plans = new Map<string, EventPlan>();
  private lastMatched: Layout | null = null;

  /**
   * `schema`: the discriminated union on `type` of the WAL's events (walEventSchema); `versions`: the schemaVersion
   * values a record may carry, as the full path reads them.
   */
  constructor(
    schema: z.ZodType,
    amounts: AmountSchemas,
    private readonly versions: readonly number[],
  ) {
    for (const option of defOf(schema).options ?? []) {
      const shape = defOf(option).shape;
      const typeDef = shape?.type ? defOf(shape.type) : undefined;
      const type = typeDef?.type === 'literal' && typeDef.values?.length === 1 ? typeDef.values[0] : undefined;
      if (!shape || typeof type !== 'string' || !isPlainJsonText(type) || 'schemaVersion' in shape) continue;
      const fields = Object.entries(shape)
        .filter(([name]) => name !== 'type')
        .map(([name, fieldSchema]) => planField(name, fieldSchema, amounts));
      if (fields.every((f): f is FieldPlan => f !== null)) this.plans.set(type, { type, fields, layouts: [], seen: new Set() });
    }
  }

  /** The event in `data` as the full path would give it, if a known layout matches it; else undefined. */
  read(data: string): Record<string, unknown> | undefined {
    // Records come in runs of one layout: the last one matched is tried first (a pattern that does not match fails
    // within its first characters), before looking the type up.
    const last = this.lastMatched;
    const groups = last?.pattern.exec(data);
    if (last && groups) return eventOf(last, groups);
    if (!data.startsWith(typePrefix)) return undefined;
    const close = data.indexOf('"', typePrefix.length);
    const plan = close < 0 ? undefined : this.plans.get(data.slice(typePrefix.length, close));
    for (const layout of plan?.layouts ?? []) {
      const matched = layout === last ? null : layout.pattern.exec(data);
      if (matched === null) continue;
      this.lastMatched = layout;
      return eventOf(layout, matched);
    }
    return undefined;
  }

  /**
   * Told of a record the full path accepted (`json`, as JSON.parse read it): its layout is read by a pattern from now
   * on, if its event type is flat, `type` comes first and every key is one of the event's fields or schemaVersion.
   */
  learn(json: unknown): void {
    const record = json as Record<string, unknown>;
    const plan = typeof record.type === 'string' ? this.plans.get(record.type) : undefined;
    if (plan === undefined || plan.layouts.length >= maxLayoutsPerType || plan.seen.size >= maxKeyListsPerType) return;
    const keys = Object.keys(record);
    const signature = keys.join(',');
    if (plan.seen.has(signature)) return;
    plan.seen.add(signature);
    const layout = this.layoutOf(plan, keys);
    if (layout) plan.layouts.push(layout);
  }

  private layoutOf(plan: EventPlan, keys: readonly string[]): Layout | null {
    if (keys[0] !== 'type') return null;
    const parts = [`^\\{"type":"${escapePattern(plan.type)}"`];
    const groupOf = new Map<string, number>();
    let group = 1;
    for (const key of keys.slice(1)) {
      if (key === 'schemaVersion') {
        parts.push(`,"schemaVersion":(?:${this.versions.join('|')})`);
        continue;
      }
      const field = plan.fields.find((f) => f.name === key);
      if (!field) return null;
      const [pattern, groups] = valuePattern(field);
      parts.push(`,"${escapePattern(key)}":${pattern}`);
      groupOf.set(key, group);
      group += groups;
    }
    parts.push('\\}$');
    const fields = plan.fields.flatMap((f): LayoutField[] => {
      const at = groupOf.get(f.name);
      return at === undefined ? [] : [{ plan: f, group: at }];
    });
    return { type: plan.type, pattern: new RegExp(parts.join('')), fields };
  }
}
