import type { OrderRequest } from '../model/orders.js';
import type { ProtectiveStopRequest } from '../model/protective-stops.js';
import type { SessionSummary } from '../contract/session-summary.js';
import type { Lane } from '../model/lane.js';

// What decide() hands back to the shell besides the new state: events for the outbound stream (replies
// to whoever sent a command, alerts for users) and effects for the exchange executor.

export type ReplyStatus = 'accepted' | 'rejected' | 'done';

export type AlertKind =
  | 'stop_loss'
  | 'horizon'
  | 'stale_feed'
  | 'kill_switch'
  | 'fill'
  | 'order_rejected'
  | 'reconcile'
  | 'halt'
  | 'protective_stop'
  /** A command the engine could not decide (a bug): it was dead-lettered and nothing else was affected. */
  | 'engine_error';

export type OutboundEvent =
  | { type: 'reply'; commandId: string; userId: string | null; commandType: string | null; status: ReplyStatus; reason: string | null; result: unknown; atMs: number }
  | { type: 'alert'; userId: string; kind: AlertKind; message: string; atMs: number }
  /** A session's valuation at bid/ask (see sessionSummary): sampled on the watchdog and once at close. */
  | { type: 'equity'; userId: string; summary: SessionSummary; atMs: number };

// Transitional re-export for src/services/execution/ (being moved); everything else imports src/model/lane.ts.
export type { Lane };

export type Effect =
  | { kind: 'place'; userId: string; lane: Lane; order: OrderRequest }
  | { kind: 'cancel'; userId: string; lane: Lane; symbol: string; clientOrderId: string }
  | { kind: 'query'; userId: string; lane: Lane; symbol: string; clientOrderId: string }
  | { kind: 'place_stop'; userId: string; lane: Lane; request: ProtectiveStopRequest }
  | { kind: 'cancel_stop'; userId: string; lane: Lane; symbol: string; clientAlgoId: string }
  | { kind: 'list_stops'; userId: string; lane: Lane }
  /** Re-read the account's positions and feed them back as a reconcile input. */
  | { kind: 'reconcile'; userId: string; requestedAtMs: number };
