import { z } from 'zod';
import type { WalEvent } from '../core/events.js';
import { isDecimal, toPrice, toQty, toUsd } from '../model/decimal.js';
import { WalShapes } from './wal-shapes.js';

// WAL records: every event is written with schemaVersion (1 today) and read back through parseWalRecord, which
// names the entry and the reason when a record is unreadable. Records without schemaVersion are version 0 (the
// format before it existed): the same fields, migrated by defaulting the version.

export const walSchemaVersion = 1;

const finite = z.number().finite();
/**
 * An amount (quantity, price, USD), read as its exact decimal: a decimal string since amounts became exact,
 * or a number in logs written before (read as the exact decimal of its shortest form, as the fold does).
 */
function amountSchema<T>(exact: (value: string | number) => T) {
  return z.union([z.string(), finite]).transform((value, ctx): T => {
    if (typeof value === 'string' && !isDecimal(value)) {
      ctx.addIssue({ code: 'custom', message: `not a decimal number: ${value.slice(0, 40)}` });
      return z.NEVER;
    }
    return exact(value);
  });
}
export const qtySchema = amountSchema(toQty);
export const priceSchema = amountSchema(toPrice);
export const usdSchema = amountSchema(toUsd);
const side = z.enum(['BUY', 'SELL']);
const mode = z.enum(['paper', 'live']);
const orderStatus = z.enum(['NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'EXPIRED', 'REJECTED']);
export const coreOrderStatusSchema = z.union([z.enum(['pending', 'unknown']), orderStatus]);

export const orderSchema = z.object({
  clientOrderId: z.string(),
  userId: z.string(),
  symbol: z.string(),
  side,
  type: z.enum(['LIMIT', 'MARKET']),
  quantity: z.string(),
  price: z.string().nullable(),
  timeInForce: z.enum(['GTX', 'GTC', 'IOC']).nullable(),
  reduceOnly: z.boolean(),
  purpose: z.enum(['entry', 'reduce', 'flatten']),
  fallbackOf: z.string().nullable(),
  status: coreOrderStatusSchema,
  exchangeOrderId: z.string().nullable(),
  filledQty: z.string(),
  avgPrice: z.string(),
  createdAtMs: finite,
  updatedAtMs: finite,
  cancelRequested: z.boolean(),
  rejectReason: z.string().nullable(),
  feeBookedQty: z.string().optional(),
});

export const routeOutcomeSchema = z.object({
  userId: z.string(),
  symbol: z.string(),
  clientOrderId: z.string().optional(),
  skipped: z.string().optional(),
});

const walEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('engine.initialized'), epoch: z.string() }),
  z.object({
    type: z.literal('route.progress'),
    commandId: z.string(),
    afterUserId: z.string(),
    routed: z.array(routeOutcomeSchema),
    atTarget: z.record(z.string(), z.array(z.string())).optional(),
  }),
  z.object({
    type: z.literal('command.processed'),
    commandId: z.string(),
    userId: z.string().nullable(),
    commandType: z.string().nullable(),
    outcome: z.enum(['accepted', 'rejected']),
    reason: z.string().nullable(),
    atMs: finite,
  }),
  z.object({
    type: z.literal('session.started'),
    userId: z.string(),
    mode,
    capitalUsd: usdSchema,
    stopLossPct: finite.nullable(),
    horizonDeadlineMs: finite.nullable(),
    atMs: finite,
    /** Exchange leverage the preflight set; absent in records written before the preflight existed. */
    leverage: finite.nullable().optional(),
  }),
  z.object({ type: z.literal('session.stoploss_set'), userId: z.string(), pct: finite }),
  z.object({ type: z.literal('session.horizon_set'), userId: z.string(), deadlineMs: finite }),
  z.object({ type: z.literal('session.paused'), userId: z.string(), paused: z.boolean() }),
  z.object({ type: z.literal('session.stopping'), userId: z.string(), commandId: z.string().nullable() }),
  z.object({ type: z.literal('session.closed'), userId: z.string(), atMs: finite }),
  z.object({ type: z.literal('kill_switch.engaged'), userId: z.string(), reason: z.string(), atMs: finite }),
  z.object({ type: z.literal('halt.set'), halted: z.boolean(), reason: z.string().nullable() }),
  z.object({ type: z.literal('live.approval_set'), userId: z.string(), approved: z.boolean() }),
  z.object({ type: z.literal('intent.set'), userId: z.string(), symbol: z.string(), targetQty: z.string() }),
  z.object({ type: z.literal('order.planned'), order: orderSchema }),
  z.object({
    type: z.literal('order.status'),
    clientOrderId: z.string(),
    status: coreOrderStatusSchema,
    exchangeOrderId: z.string().nullable(),
    filledQty: z.string(),
    avgPrice: z.string(),
    reason: z.string().nullable(),
    atMs: finite,
  }),
  z.object({ type: z.literal('order.cancel_requested'), clientOrderId: z.string() }),
  z.object({
    type: z.literal('fill'),
    clientOrderId: z.string(),
    userId: z.string(),
    symbol: z.string(),
    side,
    qty: qtySchema,
    price: priceSchema,
    atMs: finite,
  }),
  z.object({
    type: z.literal('fee'),
    userId: z.string(),
    clientOrderId: z.string(),
    symbol: z.string(),
    feeUsd: usdSchema,
    cumQty: qtySchema,
    exchangeRealizedPnlUsd: usdSchema,
    // Absent from events written before fees were booked per trade id.
    tradeId: z.string().optional(),
    atMs: finite,
  }),
  z.object({
    type: z.literal('funding'),
    userId: z.string(),
    symbol: z.string().nullable(),
    amountUsd: usdSchema,
    exchangeId: z.string(),
    exchangeTimeMs: finite,
    atMs: finite,
  }),
  z.object({
    type: z.literal('exchange_fill'),
    userId: z.string(),
    symbol: z.string(),
    side,
    qty: qtySchema,
    price: priceSchema,
    realizedPnlUsd: usdSchema,
    feeUsd: usdSchema,
    exchangeOrderId: z.string(),
    clientOrderId: z.string(),
    cumQty: qtySchema,
    cause: z.enum(['protective_stop', 'liquidation', 'adl', 'manual']),
    clientAlgoId: z.string().optional(),
    // Absent from events written before exchange trades were booked per trade id.
    tradeId: z.string().optional(),
    // Absent (false) from events written before a trade already in an adopted position was told apart.
    inAdoptedPosition: z.boolean().optional(),
    atMs: finite,
  }),
  z.object({
    type: z.literal('exchange_trade'),
    userId: z.string(),
    symbol: z.string(),
    tradeId: z.string(),
    exchangeOrderId: z.string(),
    side,
    qty: qtySchema,
    price: priceSchema,
    realizedPnlUsd: usdSchema,
    feeUsd: usdSchema,
    atMs: finite,
  }),
  z.object({ type: z.literal('stop.planned'), userId: z.string(), symbol: z.string(), clientAlgoId: z.string(), side, triggerPrice: z.string(), atMs: finite }),
  z.object({ type: z.literal('stop.status'), userId: z.string(), symbol: z.string(), clientAlgoId: z.string(), status: z.enum(['active', 'unknown']) }),
  z.object({ type: z.literal('stop.removed'), userId: z.string(), symbol: z.string(), clientAlgoId: z.string(), reason: z.string() }),
  z.object({
    type: z.literal('position.adopted'),
    userId: z.string(),
    symbol: z.string(),
    qty: qtySchema,
    entryPrice: priceSchema,
    reason: z.string(),
    // Absent from events written before an adoption remembered when its read was asked for.
    asOfMs: finite.optional(),
  }),
]);

// Every WalEvent type has a schema (compile-time): a new event type without one fails the typecheck here.
type MissingSchemas = Exclude<WalEvent['type'], z.output<typeof walEventSchema>['type']>;
const everyEventHasASchema: [MissingSchemas] extends [never] ? true : MissingSchemas = true;
void everyEventHasASchema;

/** The versions this engine reads: 0 (written before versions existed) up to the current one. */
function readableVersion(json: unknown): boolean {
  const version = typeof json === 'object' && json !== null && 'schemaVersion' in json ? json.schemaVersion : 0;
  return version === 0 || version === walSchemaVersion;
}

/** A reader of layouts of WAL records (wal-shapes.ts), made from the schema above. */
export function walShapesReader(): WalShapes {
  const amounts = new Map<z.ZodType, (value: string | number) => unknown>([
    [qtySchema, toQty],
    [priceSchema, toPrice],
    [usdSchema, toUsd],
  ]);
  return new WalShapes(walEventSchema, amounts, [0, walSchemaVersion]);
}

/** The layouts of the records the full path has read in this process. */
const walShapes = walShapesReader();

/** The JSON of one WAL event as it is written: the event plus schemaVersion. */
export function serializeWalEvent(event: WalEvent): string {
  // The same text as stringifying {...event, schemaVersion} (the version last), without copying the event first:
  // every WAL event of every command is written through here.
  const json = JSON.stringify(event);
  return json === '{}' ? `{"schemaVersion":${walSchemaVersion}}` : `${json.slice(0, -1)},"schemaVersion":${walSchemaVersion}}`;
}

/** One WAL record read back, or an error naming the entry and the reason. Never returns an unchecked value. */
export function parseWalRecord(id: string, data: string): WalEvent {
  // A record of a layout the full path has read before: one match (see wal-shapes.ts). It only ever accepts.
  const known = walShapes.read(data);
  if (known !== undefined) return known as WalEvent;
  const { event, json } = readWalRecordFully(id, data);
  walShapes.learn(json);
  return event;
}

/** The full path: JSON.parse, the version, the schema. Exported for tests, which hold the layouts' reads to it. */
export function readWalRecordFully(id: string, data: string): { event: WalEvent; json: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new Error(`WAL entry ${id}: not JSON`);
  }
  // Checked by hand rather than with a second schema: replay reads every record, and this is its hot path.
  if (!readableVersion(json)) throw new Error(`WAL entry ${id}: unsupported schemaVersion (this engine reads 0..${walSchemaVersion})`);
  const event = walEventSchema.safeParse(json);
  if (!event.success) {
    const issue = event.error.issues[0];
    throw new Error(`WAL entry ${id}: invalid event: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown reason'}`);
  }
  return { event: event.data, json };
}
