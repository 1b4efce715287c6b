import { z } from 'zod';
import type { Dict } from '../core/dict.js';
import { dictFrom } from '../core/dict.js';
import type { DurableState, DurableStateJson } from '../core/state.js';
import { withDurableDefaults } from '../core/state.js';
import { SharedDict } from '../core/shared-dict.js';
import { idsJsonClose, idsJsonMembers, idsJsonOpen } from '../core/processed-ids.js';
import { orderSchema, priceSchema, qtySchema, routeOutcomeSchema, usdSchema } from './wal.js';

// Snapshots: the durable state at one WAL id, written with schemaVersion and read back through parseSnapshot,
// which checks every field and names the snapshot and the reason when it cannot be read. Keyed records are
// checked entry by entry into prototype-free Dicts: zod's own z.record drops a "__proto__" key, and a user
// may really be called that (see core/dict.ts), so it must survive a snapshot like any other name.

export const snapshotSchemaVersion = 1;

/** A record of `value`s keyed by any string (own keys only), checked entry by entry into a Dict. */
function dictSchema<T extends z.ZodType>(value: T) {
  return z.unknown().transform((input, ctx): Dict<z.output<T>> => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      ctx.addIssue({ code: 'custom', message: 'expected an object keyed by id' });
      return z.NEVER;
    }
    const entries: [string, z.output<T>][] = [];
    for (const [key, raw] of Object.entries(input)) {
      const parsed = value.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        ctx.addIssue({ code: 'custom', path: [key, ...(issue?.path ?? [])], message: issue?.message ?? 'invalid entry' });
        return z.NEVER;
      }
      entries.push([key, parsed.data]);
    }
    return dictFrom(entries);
  });
}

/**
 * A set of ids written as an object of `true`s (the remembered command ids: up to maxRememberedCommandIds, 100 000),
 * checked with one loop and handed on as parsed: a zod parse and a Dict entry per id made this field most of
 * a snapshot's load time. Its keys are only enumerated (ProcessedIds.fromGenerations), never looked up, so the
 * parsed object's prototype does no harm; JSON.parse makes a "__proto__" key an own key like any other.
 */
const idSetSchema = z.unknown().transform((input, ctx): Readonly<Record<string, true>> => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    ctx.addIssue({ code: 'custom', message: 'expected an object keyed by id' });
    return z.NEVER;
  }
  const set = input as Record<string, unknown>;
  for (const key of Object.keys(set)) {
    if (set[key] !== true) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'expected true' });
      return z.NEVER;
    }
  }
  return set as Readonly<Record<string, true>>;
});

const finite = z.number().finite();

const positionSchema = z.object({ qty: qtySchema, entryPrice: priceSchema });

const protectiveStopSchema = z.object({
  clientAlgoId: z.string(),
  side: z.enum(['BUY', 'SELL']),
  triggerPrice: z.string(),
  status: z.enum(['pending', 'active', 'unknown']),
  plannedAtMs: finite,
});

const sessionSchema = z.object({
  userId: z.string(),
  mode: z.enum(['paper', 'live']),
  status: z.enum(['active', 'stopping', 'closed']),
  capitalUsd: usdSchema,
  stopLossPct: finite.nullable(),
  horizonDeadlineMs: finite.nullable(),
  // Written since the account preflight; older snapshots lack it (read as null).
  leverage: finite.nullable().optional(),
  paused: z.boolean(),
  killSwitch: z.object({ engaged: z.boolean(), reason: z.string().nullable(), atMs: finite.nullable() }),
  startedAtMs: finite,
  realizedPnlUsd: usdSchema,
  // Written since fees and funding are booked; older snapshots lack them and read as zero (withDurableDefaults).
  feesUsd: usdSchema.optional(),
  fundingUsd: usdSchema.optional(),
  fundingIds: z.array(z.string()).optional(),
  // Written since funding reads page forward from the newest payment booked.
  fundingBookedThroughMs: finite.optional(),
  exchangeFillKeys: z.array(z.string()).optional(),
  // Written since commissions are booked per trade id.
  bookedTradeIds: z.array(z.string()).optional(),
  positions: dictSchema(positionSchema),
  // Written since adoptions remember when their read was asked for.
  adoptedAsOfMs: dictSchema(finite).optional(),
  intents: dictSchema(z.string()),
  protectiveStops: dictSchema(protectiveStopSchema),
  stopCommandId: z.string().nullable(),
});

/** Fields added after the first snapshots are optional here; withDurableDefaults fills them in. */
const durableStateSchema = z.object({
  schemaVersion: z.union([z.literal(0), z.literal(snapshotSchemaVersion)]).default(0),
  epoch: z.string().nullable().optional(),
  orderSeq: z.number().int().nonnegative().optional(),
  halted: z.boolean().optional(),
  liveApprovedUserIds: dictSchema(z.literal(true)).optional(),
  sessions: dictSchema(sessionSchema).optional(),
  orders: dictSchema(orderSchema).optional(),
  terminalOrderIds: z.array(z.string()).optional(),
  processedCommandIds: z.array(z.object({ size: z.number().int().positive(), ids: idSetSchema })).optional(),
  // Written since signals.route runs in bounded steps; older snapshots lack it (no route part-way).
  routes: dictSchema(
    z.object({ afterUserId: z.string(), routed: z.array(routeOutcomeSchema), atTarget: z.record(z.string(), z.number()).optional() }),
  ).optional(),
});

/** The snapshot's JSON as it is written: the durable state plus schemaVersion. */
export function serializeSnapshot(state: DurableState): string {
  const { processedCommandIds, ...rest } = state;
  const head = JSON.stringify({ schemaVersion: snapshotSchemaVersion, ...rest });
  // The remembered ids are written last, as text (ProcessedIds.toJsonText): the same JSON, without its object of ids.
  return `${head.slice(0, -1)},"processedCommandIds":${processedCommandIds.toJsonText()}}`;
}

/** How much of a snapshot one slice writes (snapshotSlices): at most this many ids, or entries, or a mix in proportion. */
export interface SnapshotSliceBounds {
  /** Remembered command ids per slice. */
  idsPerSlice: number;
  /** Entries of a keyed record (sessions, orders, ...) per slice; every other field of the state counts as one. */
  entriesPerSlice: number;
}

/**
 * serializeSnapshot(state) in slices of bounded work (the last one is the iterator's return value): their
 * concatenation is that text, byte for byte (the same JSON.stringify of each value, keys in the same order), so the
 * engine can give the event loop a turn between slices instead of writing a snapshot of 100 000 ids and thousands of
 * sessions in one go. The remembered ids are
 * copied now: a view's ids leave the log it shares with later states once as many newer ones are remembered
 * (processed-ids.ts). The rest is read as the slices are taken, so `state` must be one nothing writes any more: a
 * committed state (a step writes in place only maps it made itself, see core/dict.ts OwnedDicts).
 */
export function snapshotSlices(state: DurableState, bounds: SnapshotSliceBounds): Iterator<string, string> {
  return slicesOf(state, state.processedCommandIds.ids(), bounds);
}

/**
 * The entries of a field written entry by entry (sessions, orders: a SharedDict; a Dict), in the order JSON.stringify
 * writes them; null for anything else, which is written whole.
 */
function keyedEntries(value: unknown): readonly (readonly [string, unknown])[] | null {
  if (value instanceof SharedDict) return value.entries();
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return null;
  const record = value as Readonly<Record<string, unknown>>;
  return Object.keys(record).map((key) => [key, record[key]] as const);
}

/** Yields every slice but the last, which it returns: a caller knows that one is last without asking for one more. */
function* slicesOf(state: DurableState, ids: readonly string[], bounds: SnapshotSliceBounds): Generator<string, string> {
  const { processedCommandIds: _ids, ...rest } = state;
  const fields = rest as Readonly<Record<string, unknown>>;
  let text = `{"schemaVersion":${snapshotSchemaVersion}`;
  /** The share of a slice written into `text` so far. */
  let used = 0;
  const entryShare = 1 / bounds.entriesPerSlice;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    const entries = keyedEntries(value);
    if (entries === null) {
      const json = JSON.stringify(value);
      if (json !== undefined) text += `,${JSON.stringify(key)}:${json}`;
      used += entryShare;
    } else {
      text += `,${JSON.stringify(key)}:{`;
      let first = true;
      for (const [entryKey, entryValue] of entries) {
        const json = JSON.stringify(entryValue);
        if (json !== undefined) {
          text += `${first ? '' : ','}${JSON.stringify(entryKey)}:${json}`;
          first = false;
        }
        used += entryShare;
        if (used >= 1) {
          yield text;
          [text, used] = ['', 0];
        }
      }
      text += '}';
    }
    if (used >= 1) {
      yield text;
      [text, used] = ['', 0];
    }
  }
  // As serializeSnapshot writes them: last, in ProcessedIds.toJsonText's form.
  text += ',"processedCommandIds":';
  if (ids.length === 0) text += '[]';
  else {
    text += idsJsonOpen(ids.length);
    for (let start = 0; start < ids.length;) {
      const end = Math.min(ids.length, start + Math.max(1, Math.floor((1 - used) * bounds.idsPerSlice)));
      text += `${start > 0 ? ',' : ''}${idsJsonMembers(ids, start, end)}`;
      used += (end - start) / bounds.idsPerSlice;
      start = end;
      if (used >= 1 && start < ids.length) {
        yield text;
        [text, used] = ['', 0];
      }
    }
    text += idsJsonClose;
  }
  return `${text}}`;
}

/** The durable state of a snapshot, or an error naming the snapshot's WAL id and the reason. */
export function parseSnapshot(walId: string, data: string): DurableState {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new Error(`snapshot at WAL entry ${walId}: not JSON`);
  }
  const parsed = durableStateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`snapshot at WAL entry ${walId}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  const { schemaVersion: _version, ...fields } = parsed.data;
  // Optional fields that are absent are left out, so the defaults (and not undefined) fill them.
  const present = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as DurableStateJson;
  return withDurableDefaults(present);
}
