import { z } from 'zod';

// The command contract: every producer (telegram, cli, dashboard, signals, external models) appends exactly
// this JSON to the command stream, built with buildCommand so that a mistake is caught where it is made.
// The engine validates every entry again with parseCommand, so that a malformed entry becomes a rejection
// event, never an exception in the shell. The id rules and size limits below exist only here.

/** Ids (command ids, user ids) are 1..maxIdChars of these characters: safe in stream keys, logs and chat. */
export const idPattern = /^[A-Za-z0-9._:-]+$/;
export const maxIdChars = 64;
export const maxCapitalUsd = 1e9;
export const maxHorizonHours = 24 * 366;
/** Binance USDⓈ-M's highest leverage (BTCUSDT's first bracket); the exchange may allow less for a symbol or size. */
export const maxSessionLeverage = 125;
/** Free-text reasons (halt) are at most this many characters. */
export const maxReasonChars = 200;
export const maxSourceChars = 32;
/** Most trades one `trades` command lists, and how many when the command does not say. */
export const maxTradesListed = 100;
export const defaultTradesListed = 10;
export const maxSignalsPerRoute = 50;
export const maxRouteUserIds = 1000;

export const idSchema = z.string().min(1).max(maxIdChars).regex(idPattern, 'id may hold letters, digits and . _ : -');
const finite = z.number().finite();
/** A stop-loss, in percent of capital. */
// Range refusals say the range in words (every producer shows them: the CLI, the bot's usage, an engine's rejection),
// not the schema library's "Too small: expected number to be >0".
const stopLossRange = 'must be above 0 and below 100 (percent of capital)';
export const stopLossPctSchema = finite.gt(0, stopLossRange).lt(100, stopLossRange);
const horizonRange = `must be above 0 and at most ${maxHorizonHours} (${maxHorizonHours / 24} days)`;
export const horizonHoursSchema = finite.gt(0, horizonRange).max(maxHorizonHours, horizonRange);
export const haltReasonSchema = z.string().max(maxReasonChars);

const base = {
  id: idSchema,
  userId: idSchema,
  /** Producer's wall clock, ms; informational only. */
  issuedAtMs: finite.optional(),
  source: z.string().max(maxSourceChars).optional(),
};

const symbolPattern = /^[A-Z0-9]{2,20}$/;
/** A traded symbol's name, as Binance spells it. */
export const symbolSchema = z.string().regex(symbolPattern, 'symbol must be like BTCUSDT');

const weightRange = 'must be from -1 (all short) to 1 (all long)';

export const signalSchema = z.object({
  symbol: symbolSchema,
  /** Target exposure as a fraction of session capital × max leverage, -1 (full short) … 1 (full long). */
  weight: finite.min(-1, weightRange).max(1, weightRange),
});

export const commandSchema = z.discriminatedUnion('type', [
  z.object({
    ...base,
    type: z.literal('session.start'),
    mode: z.enum(['paper', 'live']).default('paper'),
    capitalUsd: finite.positive('must be more than 0').max(maxCapitalUsd, `must be at most ${maxCapitalUsd.toLocaleString('en-US')}`),
    stopLossPct: stopLossPctSchema.optional(),
    horizonHours: horizonHoursSchema.optional(),
    /** Exchange leverage for the session's symbols (set by the account preflight); default: the engine's, maybe lowered. */
    leverage: z
      .number()
      .int('leverage must be a whole number')
      .min(1, 'leverage must be at least 1')
      .max(maxSessionLeverage, `leverage must be at most ${maxSessionLeverage}`)
      .optional(),
  }),
  z.object({ ...base, type: z.literal('session.stop') }),
  /** Flattens one symbol of the session (reduce-only market, as a stop does) and cancels its open orders; the session goes on. */
  z.object({ ...base, type: z.literal('session.exit'), symbol: symbolSchema }),
  z.object({ ...base, type: z.literal('session.set_stoploss'), pct: stopLossPctSchema }),
  z.object({ ...base, type: z.literal('session.set_horizon'), hours: horizonHoursSchema }),
  z.object({ ...base, type: z.literal('session.pause') }),
  z.object({ ...base, type: z.literal('session.resume') }),
  z.object({
    ...base,
    type: z.literal('signals.route'),
    signals: z.array(signalSchema).min(1).max(maxSignalsPerRoute),
    /** Sessions to route to; all active sessions when absent. */
    userIds: z.array(idSchema).max(maxRouteUserIds).optional(),
  }),
  z.object({ ...base, type: z.literal('admin.halt_all'), reason: haltReasonSchema.optional() }),
  z.object({ ...base, type: z.literal('admin.resume_all') }),
  z.object({
    ...base,
    type: z.literal('admin.approve_live'),
    /** The user whose live trading is approved (true) or withdrawn (false). */
    targetUserId: idSchema,
    approved: z.boolean().default(true),
  }),
  z.object({ ...base, type: z.literal('admin.users') }),
  z.object({ ...base, type: z.literal('status') }),
  /** The user's most recent fills (orders with a filled quantity), newest first. */
  z.object({ ...base, type: z.literal('trades'), limit: z.number().int().min(1).max(maxTradesListed).default(defaultTradesListed) }),
]);

export type Command = z.infer<typeof commandSchema>;
export type CommandType = Command['type'];
export const commandTypes: readonly CommandType[] = commandSchema.options.map((o) => o.shape.type.value);
/** Commands that only read: their answer is the acknowledgement (a chat gets no separate "received"). */
export const readOnlyCommandTypes: ReadonlySet<CommandType> = new Set<CommandType>(['status', 'trades', 'admin.users']);

/** What a producer writes for one command type: its fields as the schema takes them in (defaults may be left out). */
export type CommandFields<T extends CommandType> = Omit<
  z.input<Extract<(typeof commandSchema)['options'][number], { shape: { type: z.ZodLiteral<T> } }>>,
  'type'
>;

export type BuiltCommand = { ok: true; command: Command; json: string } | { ok: false; reason: string };

type RouteCommand = Extract<Command, { type: 'signals.route' }>;

const isId = (value: unknown): value is string => typeof value === 'string' && value.length >= 1 && value.length <= maxIdChars && idPattern.test(value);

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * A signals.route command (the one type sent at every bar, by the backtest and the signals service alike) as
 * commandSchema would give it, checked by hand: the schema's zod parse cost ~35 µs in the backtest's engine, twice
 * per route (built, then parsed), a fifth of a route that changes nothing. Null whenever the value is not plainly
 * such a command (any other type, a field out of bounds, an optional field present as undefined): the caller then
 * parses it with the schema, which gives the answer and the errors. So this accepts only what the schema accepts,
 * and gives the schema's output for it: the fields in the schema's order, unknown keys left out, arrays copied
 * (test/contract/route-fast-path.test.ts compares the two).
 */
export function exactRouteCommand(value: unknown): RouteCommand | null {
  return isFieldRecord(value) && value.type === 'signals.route' ? exactRouteFields(value) : null;
}

/** An object of fields (not null, not an array): what a command or its fields can be. */
function isFieldRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** exactRouteCommand of a value whose type is signals.route, its `type` key unread (buildCommand's fields have none). */
function exactRouteFields(v: Record<string, unknown>): RouteCommand | null {
  if (!isId(v.id) || !isId(v.userId)) return null;
  const { issuedAtMs, source, signals, userIds } = v;
  if ('issuedAtMs' in v && !isFiniteNumber(issuedAtMs)) return null;
  if ('source' in v && (typeof source !== 'string' || source.length > maxSourceChars)) return null;
  if (!Array.isArray(signals) || signals.length < 1 || signals.length > maxSignalsPerRoute) return null;
  const parsedSignals: RouteCommand['signals'] = [];
  for (const signal of signals as unknown[]) {
    if (typeof signal !== 'object' || signal === null || Array.isArray(signal)) return null;
    const { symbol, weight } = signal as Record<string, unknown>;
    if (typeof symbol !== 'string' || !symbolPattern.test(symbol) || !isFiniteNumber(weight) || weight < -1 || weight > 1) return null;
    parsedSignals.push({ symbol, weight });
  }
  if ('userIds' in v && (!Array.isArray(userIds) || userIds.length > maxRouteUserIds || !userIds.every(isId))) return null;
  const command: RouteCommand = { id: v.id, userId: v.userId } as RouteCommand;
  if ('issuedAtMs' in v) command.issuedAtMs = issuedAtMs as number;
  if ('source' in v) command.source = source as string;
  command.type = 'signals.route';
  command.signals = parsedSignals;
  if ('userIds' in v) command.userIds = [...(userIds as string[])];
  return command;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * The one way to make a command: checks the fields against the schema the engine will apply and gives the
 * JSON to append. A refusal here means the engine would have refused it too.
 */
export function buildCommand<T extends CommandType>(type: T, fields: CommandFields<T>): BuiltCommand {
  // The fields as they are, not `{ ...fields, type }`: a spread with a key added is V8's slow copy, at every route built.
  const route = type === 'signals.route' && isFieldRecord(fields) ? exactRouteFields(fields) : null;
  if (route !== null) return { ok: true, command: route, json: JSON.stringify(route) };
  const result = commandSchema.safeParse({ ...fields, type });
  if (!result.success) return { ok: false, reason: `invalid ${type} command: ${describeIssues(result.error)}` };
  return { ok: true, command: result.data, json: JSON.stringify(result.data) };
}

export type ParsedCommand = { ok: true; command: Command } | { ok: false; reason: string; commandId: string | null; userId: string | null };

const utf8 = new TextEncoder();

/** UTF-8 bytes per UTF-16 code unit, at most: a string this short is within a limit without being encoded. */
const maxUtf8BytesPerCodeUnit = 3;

/** Pure: bytes → validated command or a human-readable reason. Never throws. */
export function parseCommand(raw: string, maxCommandBytes: number): ParsedCommand {
  if (raw.length * maxUtf8BytesPerCodeUnit > maxCommandBytes) {
    const bytes = utf8.encode(raw).length;
    if (bytes > maxCommandBytes) {
      return { ok: false, reason: `command is ${bytes} bytes; the limit is ${maxCommandBytes}`, commandId: null, userId: null };
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'command is not valid JSON', commandId: null, userId: null };
  }
  const route = exactRouteCommand(json);
  if (route !== null) return { ok: true, command: route };
  const result = commandSchema.safeParse(json);
  if (result.success) return { ok: true, command: result.data };
  const loose = z.object({ id: idSchema, userId: idSchema }).partial().safeParse(json);
  return {
    ok: false,
    reason: `invalid command: ${describeIssues(result.error)}`,
    commandId: loose.success ? (loose.data.id ?? null) : null,
    userId: loose.success ? (loose.data.userId ?? null) : null,
  };
}

/** Each delivery's parse, made once: the command gate, the account preflight and the core all read it. */
const parsedDeliveries = new WeakMap<object, { maxCommandBytes: number; parsed: ParsedCommand }>();

/** A delivery's command as parseDelivery read it (under whatever limit), or null when it has not been parsed or failed. */
export function parsedCommandIfKnown(delivery: { readonly raw: string }): Command | null {
  const known = parsedDeliveries.get(delivery);
  return known?.parsed.ok === true ? known.parsed.command : null;
}

/**
 * parseCommand of a delivery's payload, parsed once per delivery object and limit (the result is shared: read it,
 * never change it). A command crossed three parses on its way to a decision, a tenth of the engine's time per command.
 */
export function parseDelivery(delivery: { readonly raw: string }, maxCommandBytes: number): ParsedCommand {
  const known = parsedDeliveries.get(delivery);
  if (known !== undefined && known.maxCommandBytes === maxCommandBytes) return known.parsed;
  const parsed = parseCommand(delivery.raw, maxCommandBytes);
  parsedDeliveries.set(delivery, { maxCommandBytes, parsed });
  return parsed;
}
