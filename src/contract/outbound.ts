import { z } from 'zod';
import { isDecimal } from '../model/decimal.js';
import type { ReplyAnswer } from './command-results.js';
import { replyResultSchema } from './command-results.js';
import type { SessionSummary } from './session-summary.js';
import { sessionSummarySchema } from './session-summary.js';

// The outbound stream's events (replies to commands, alerts for users, equity samples), as the engine writes
// them and every reader in another process parses them: parseOutboundEvent is the only way in.

export type ReplyStatus = 'accepted' | 'rejected' | 'done';

export const alertKinds = [
  'stop_loss',
  'horizon',
  'stale_feed',
  'kill_switch',
  'fill',
  'order_rejected',
  'reconcile',
  'halt',
  'protective_stop',
  /** A funding payment booked to the session (or one that could not be booked). */
  'funding',
  /** A trade's commission that could not be booked (not in USDT). */
  'fee',
  /** A command the engine could not decide (a bug): it was dead-lettered and nothing else was affected. */
  'engine_error',
  /** The exchange closed (part of) a position itself: a fired protective stop, a liquidation, an ADL; kill switch engaged. */
  'exchange_close',
  /** A trade on the account the engine did not place (a manual trade): booked, no kill switch. */
  'manual_trade',
  /** The account's settings no longer fit a running session (found at boot): new entries paused, with the fix. */
  'account',
  /**
   * A signal asked a flat session for a position the engine could not open (a target below the symbol's smallest
   * order, the exposure limit taken by other symbols): said once, until an order for that symbol is placed.
   */
  'signal_skipped',
] as const;
export type AlertKind = (typeof alertKinds)[number];

interface ReplyEnvelope {
  type: 'reply';
  commandId: string;
  userId: string | null;
  reason: string | null;
  atMs: number;
}

/** A refused command: the reason says why; there is no result. The command type is null when it could not be read. */
export type RejectedReply = ReplyEnvelope & { commandType: string | null; status: 'rejected'; result: null };
export type AnsweredReply = ReplyEnvelope & ReplyAnswer;
export type ReplyEvent = RejectedReply | AnsweredReply;
/**
 * One fill as the engine booked it, typed, so readers need not parse an alert's wording. It rides on the alert
 * that reports the fill (kind `fill` for the engine's own orders; `exchange_close` and `manual_trade` for trades
 * the exchange or the user made), as the optional field `fill`: a reader from before it strips the field and
 * still has the message; a reader of an alert from an older engine finds no `fill` and falls back to the message.
 */
export interface FillNotice {
  /** The session the fill belongs to, known by when it started (one session per user at a time); null: none (it had closed). */
  sessionStartedAtMs: number | null;
  symbol: string;
  side: 'BUY' | 'SELL';
  clientOrderId: string;
  /** Why the order was placed: entry, reduce, flatten; for a trade the engine did not place, why it happened. */
  purpose: string;
  /** Exact decimal strings, as booked. */
  qty: string;
  price: string;
  /** The commission the exchange reported with this fill (positive = charged); null: not reported with it (a fill learnt from a query). */
  fee: { amount: string; asset: string } | null;
  /** Whether the fill added liquidity (maker) or took it (taker); null: the exchange did not say. */
  liquidity: 'maker' | 'taker' | null;
}
export type AlertEvent = { type: 'alert'; userId: string; kind: AlertKind; message: string; atMs: number; fill?: FillNotice };
/** A session's valuation at bid/ask (see sessionSummary): sampled on the watchdog and once at close. */
export type EquityEvent = { type: 'equity'; userId: string; summary: SessionSummary; atMs: number };
export type OutboundEvent = ReplyEvent | AlertEvent | EquityEvent;

const finite = z.number().finite();

const replyEnvelopeSchema = z.object({
  type: z.literal('reply'),
  commandId: z.string(),
  userId: z.string().nullable(),
  commandType: z.string().nullable(),
  status: z.enum(['accepted', 'rejected', 'done']),
  reason: z.string().nullable(),
  result: z.unknown(),
  atMs: finite,
});

const decimalString = z.string().refine(isDecimal, 'not a decimal number');
/** Unknown fields are kept, so a reader can lag behind the engine. */
export const fillNoticeSchema = z.looseObject({
  sessionStartedAtMs: finite.nullable(),
  symbol: z.string(),
  side: z.enum(['BUY', 'SELL']),
  clientOrderId: z.string(),
  purpose: z.string(),
  qty: decimalString,
  price: decimalString,
  fee: z.looseObject({ amount: decimalString, asset: z.string() }).nullable(),
  liquidity: z.enum(['maker', 'taker']).nullable(),
});
/** An alert's own fields: what every reader since alerts existed reads (unknown fields, `fill` among them, are stripped). */
export const alertSchema = z.object({ type: z.literal('alert'), userId: z.string(), kind: z.enum(alertKinds), message: z.string(), atMs: finite });
const equitySchema = z.object({ type: z.literal('equity'), userId: z.string(), summary: sessionSummarySchema, atMs: finite });

export type ParsedOutbound = { ok: true; event: OutboundEvent } | { ok: false; reason: string };

function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

function parseReply(json: unknown): ParsedOutbound {
  const envelope = replyEnvelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, reason: `invalid reply: ${issuesText(envelope.error)}` };
  const reply = envelope.data;
  if (reply.status === 'rejected') {
    if (reply.result !== null && reply.result !== undefined) return { ok: false, reason: 'invalid reply: a rejection carries no result' };
    return { ok: true, event: { ...reply, status: 'rejected', result: null } };
  }
  if (reply.commandType === null) return { ok: false, reason: `invalid reply: ${reply.status} without a command type` };
  const schema = replyResultSchema(reply.commandType, reply.status);
  if (schema === null) return { ok: false, reason: `unknown reply: ${reply.commandType} is never answered "${reply.status}"` };
  const result = schema.safeParse(reply.result);
  if (!result.success) return { ok: false, reason: `invalid ${reply.commandType} result: ${issuesText(result.error)}` };
  // The schema was picked by commandType and status, so the result belongs to them (what ReplyAnswer pairs).
  return { ok: true, event: { ...reply, result: result.data } as AnsweredReply };
}

/** An alert, with its fill notice when it carries a readable one: a notice that is not is dropped, the alert kept (its message says it all). */
function parseAlert(value: unknown): ParsedOutbound {
  const alert = alertSchema.safeParse(value);
  if (!alert.success) return { ok: false, reason: `invalid alert: ${issuesText(alert.error)}` };
  const fill = typeof value === 'object' && value !== null && 'fill' in value ? fillNoticeSchema.safeParse(value.fill) : null;
  return { ok: true, event: fill?.success === true ? { ...alert.data, fill: fill.data } : alert.data };
}

/** An outbound event from its JSON value (already parsed) or text. Never throws. */
export function parseOutboundEvent(json: unknown): ParsedOutbound {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
  }
  const type = typeof value === 'object' && value !== null && 'type' in value ? value.type : undefined;
  switch (type) {
    case 'reply':
      return parseReply(value);
    case 'alert':
      return parseAlert(value);
    case 'equity': {
      const equity = equitySchema.safeParse(value);
      return equity.success ? { ok: true, event: equity.data } : { ok: false, reason: `invalid equity: ${issuesText(equity.error)}` };
    }
    default:
      return { ok: false, reason: `unknown event type ${JSON.stringify(type ?? null)}` };
  }
}
