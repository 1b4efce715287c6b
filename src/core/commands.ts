import { z } from 'zod';

// The documented command schema: every producer (telegram, cli, dashboard, signals, external models)
// appends exactly this JSON to the command stream. Validation happens in the core so that a malformed
// entry becomes a rejection event, never an exception in the shell.

const idSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'id may hold letters, digits and . _ : -');
const finite = z.number().finite();
/** Most trades one `trades` command lists. */
export const maxTradesListed = 100;

const base = {
  id: idSchema,
  userId: idSchema,
  /** Producer's wall clock, ms; informational only. */
  issuedAtMs: finite.optional(),
  source: z.string().max(32).optional(),
};

export const signalSchema = z.object({
  symbol: z.string().regex(/^[A-Z0-9]{2,20}$/, 'symbol must be like BTCUSDT'),
  /** Target exposure as a fraction of session capital × max leverage, -1 (full short) … 1 (full long). */
  weight: finite.min(-1).max(1),
});

export const commandSchema = z.discriminatedUnion('type', [
  z.object({
    ...base,
    type: z.literal('session.start'),
    mode: z.enum(['paper', 'live']).default('paper'),
    capitalUsd: finite.positive().max(1e9),
    stopLossPct: finite.gt(0).lt(100).optional(),
    horizonHours: finite.gt(0).max(24 * 366).optional(),
  }),
  z.object({ ...base, type: z.literal('session.stop') }),
  z.object({ ...base, type: z.literal('session.set_stoploss'), pct: finite.gt(0).lt(100) }),
  z.object({ ...base, type: z.literal('session.set_horizon'), hours: finite.gt(0).max(24 * 366) }),
  z.object({ ...base, type: z.literal('session.pause') }),
  z.object({ ...base, type: z.literal('session.resume') }),
  z.object({
    ...base,
    type: z.literal('signals.route'),
    signals: z.array(signalSchema).min(1).max(50),
    /** Sessions to route to; all active sessions when absent. */
    userIds: z.array(idSchema).max(1000).optional(),
  }),
  z.object({ ...base, type: z.literal('admin.halt_all'), reason: z.string().max(200).optional() }),
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
  z.object({ ...base, type: z.literal('trades'), limit: z.number().int().min(1).max(maxTradesListed).default(10) }),
]);

export type Command = z.infer<typeof commandSchema>;
export type CommandType = Command['type'];
export const commandTypes: readonly CommandType[] = commandSchema.options.map((o) => o.shape.type.value);

export type ParsedCommand =
  | { ok: true; command: Command }
  | { ok: false; reason: string; commandId: string | null; userId: string | null };

/** Pure: bytes → validated command or a human-readable reason. Never throws. */
export function parseCommand(raw: string, maxCommandBytes: number): ParsedCommand {
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > maxCommandBytes) {
    return { ok: false, reason: `command is ${bytes} bytes; the limit is ${maxCommandBytes}`, commandId: null, userId: null };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'command is not valid JSON', commandId: null, userId: null };
  }
  const result = commandSchema.safeParse(json);
  if (result.success) return { ok: true, command: result.data };
  const loose = z.object({ id: idSchema, userId: idSchema }).partial().safeParse(json);
  const issues = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return {
    ok: false,
    reason: `invalid command: ${issues}`,
    commandId: loose.success ? (loose.data.id ?? null) : null,
    userId: loose.success ? (loose.data.userId ?? null) : null,
  };
}
