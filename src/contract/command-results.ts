import { z } from 'zod';
import type { CommandType } from './commands.js';
import { sessionSummarySchema } from './session-summary.js';

// What the engine answers to each command type, per reply status: the `result` of a reply event. Readers in
// other processes (bot, CLI, dashboard) parse replies with these. Objects are loose: fields a newer engine
// adds are kept, so readers can lag behind it. Quantities and prices stay decimal strings, as in the engine.

const finite = z.number().finite();
const decimal = z.string();

const killSwitchViewSchema = z.looseObject({ engaged: z.boolean(), reason: z.string().nullable(), atMs: finite.nullable() });

export const statusResultSchema = z.looseObject({ halted: z.boolean(), session: sessionSummarySchema.nullable() });

export const tradesResultSchema = z.looseObject({
  trades: z.array(
    z.looseObject({
      clientOrderId: z.string(),
      symbol: z.string(),
      side: z.string(),
      quantity: decimal,
      avgPrice: decimal,
      purpose: z.string(),
      status: z.string(),
      atMs: finite,
    }),
  ),
});

export const usersResultSchema = z.looseObject({
  halted: z.boolean(),
  liveTradingEnabled: z.boolean(),
  liveApproved: z.array(z.string()),
  users: z.array(
    z.looseObject({
      userId: z.string(),
      mode: z.string(),
      status: z.string(),
      capitalUsd: finite,
      equityUsd: finite,
      paused: z.boolean(),
      killSwitch: killSwitchViewSchema,
      liveApproved: z.boolean(),
    }),
  ),
});

export const routeResultSchema = z.looseObject({
  routed: z.array(z.looseObject({ userId: z.string(), symbol: z.string(), clientOrderId: z.string().optional(), skipped: z.string().optional() })),
  /** Users already at their target, per symbol: counted, not listed (the route's WAL steps name them). */
  atTarget: z.record(z.string(), z.number()).optional(),
});

const haltResultSchema = z.looseObject({ halted: z.boolean() });
const pauseResultSchema = z.looseObject({ paused: z.boolean(), note: z.string().nullable() });

/** Per command type, per reply status other than "rejected" (whose result is always null): the result's schema. */
export const replyResultSchemas = {
  'session.start': { done: sessionSummarySchema.nullable() },
  /**
   * "accepted" when flattening starts; "done" once the session is flat and closed, with what it made: realized PnL,
   * fees, funding and their net (realized − fees + funding). The last three are absent from answers written before
   * they were added (the log keeps those).
   */
  'session.stop': {
    accepted: z.looseObject({ flattening: z.array(z.string()) }),
    done: z.looseObject({ realizedPnlUsd: finite, feesUsd: finite.optional(), fundingUsd: finite.optional(), netPnlUsd: finite.optional() }),
  },
  /** "done" once the flatten order is planned (its fill comes as any fill does); `flattenOrderId` null: nothing left to close. */
  'session.exit': {
    done: z.looseObject({ symbol: z.string(), qty: decimal, flattenOrderId: z.string().nullable(), cancelledOrderIds: z.array(z.string()) }),
  },
  'session.set_stoploss': { done: z.looseObject({ stopLossPct: finite }) },
  'session.set_horizon': { done: z.looseObject({ horizonDeadline: z.string() }) },
  'session.pause': { done: pauseResultSchema },
  'session.resume': { done: pauseResultSchema },
  'signals.route': { done: routeResultSchema },
  'admin.halt_all': { done: haltResultSchema },
  'admin.resume_all': { done: haltResultSchema },
  'admin.approve_live': { done: z.looseObject({ userId: z.string(), liveApproved: z.boolean(), liveTradingEnabled: z.boolean() }) },
  'admin.users': { done: usersResultSchema },
  status: { done: statusResultSchema },
  trades: { done: tradesResultSchema },
} as const satisfies Record<CommandType, Partial<Record<'accepted' | 'done', z.ZodType>>>;

type ResultSchemas = typeof replyResultSchemas;

/** The result of one command type's reply with one status. */
export type ReplyResult<T extends CommandType, S extends keyof ResultSchemas[T]> = ResultSchemas[T][S] extends z.ZodType
  ? z.output<ResultSchemas[T][S]>
  : never;

/** A successful answer: command type, status and the result that goes with them. */
export type ReplyAnswer = {
  [T in CommandType]: {
    [S in keyof ResultSchemas[T] & ('accepted' | 'done')]: { commandType: T; status: S; result: ReplyResult<T, S> };
  }[keyof ResultSchemas[T] & ('accepted' | 'done')];
}[CommandType];

export type StatusResult = z.output<typeof statusResultSchema>;
export type TradesResult = z.output<typeof tradesResultSchema>;
export type UsersResult = z.output<typeof usersResultSchema>;

/** The schema of the result for this command type and status; null when the engine never answers so. */
export function replyResultSchema(commandType: string, status: 'accepted' | 'done'): z.ZodType | null {
  if (!Object.hasOwn(replyResultSchemas, commandType)) return null;
  const byStatus: Partial<Record<'accepted' | 'done', z.ZodType>> = replyResultSchemas[commandType as CommandType];
  return byStatus[status] ?? null;
}
