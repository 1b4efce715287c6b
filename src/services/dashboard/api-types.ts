import type { PartitionStatus } from '../../cluster/cluster-status.js';
import type { LedgerView } from '../../contract/ledger.js';
import type { StoredDeadLetter } from '../../log/port.js';
import type { DashboardCommand } from './command-schema.js';
import type { ModelChange, ReplyView, StateView } from './read-model.js';

// The JSON the dashboard's HTTP API answers with. The server builds its answers against these types and the
// browser client (client/dashboard.js) reads them through JSDoc imports, so a change of shape on one side
// fails the typecheck of the other. Keep this file and what it imports free of Node APIs: the client is
// checked with the DOM library and no Node types.

export type { DashboardCommand, ModelChange };

export interface FollowerStatus {
  /** True once a read returned fewer records than asked for: the model has caught up with the stream. */
  caughtUp: boolean;
  lastError: string | null;
  lastErrorAtMs: number | null;
}

/** Any refusal or failure: 4xx/5xx with a human-readable reason. */
export interface ErrorResponse {
  error: string;
}

/** GET /api/state. */
export interface StateResponse extends StateView {
  follower: FollowerStatus;
  /** The dashboard's clock when it answered (the page shows ages against it). */
  nowMs: number;
}

/**
 * GET /api/events (server-sent events): first `snapshot` (a StateResponse), then one `changes` per folded batch,
 * and a `ping` (data: the server's clock, ms) when idle. Apply the changes in order.
 */
export interface ChangesMessage {
  changes: ModelChange[];
  foldedEvents: number;
  follower: FollowerStatus;
}

/** GET /api/cluster (a partitioned deployment only; 404 otherwise): each partition's lease holder, lag and sessions. */
export interface ClusterResponse {
  partitions: (PartitionStatus & { sessions: string[] })[];
}

/** GET /api/dlq: the depth (counted, never read) and the newest entries (payloads bounded), oldest first. */
export interface DlqResponse {
  depth: number;
  entries: StoredDeadLetter[];
}

/**
 * GET /api/trades: one page of the fill ledger, oldest first, exact decimal strings. `nextAfter` continues
 * (?after=), null once the end is reached; a page may be short and still have a next one. Entries that cannot be
 * read are listed with the reason, never dropped silently.
 */
export interface TradesResponse {
  trades: LedgerView[];
  unreadable: { seq: string; reason: string }[];
  nextAfter: string | null;
}

/** POST /api/commands: the engine's first reply; or, once appended, the command id with why no reply came. */
export type CommandResponse =
  | { commandId: string; command: Record<string, unknown>; reply: ReplyView }
  | { commandId: string; command?: Record<string, unknown>; error: string }
  | ErrorResponse;

/** One closed round trip (src/core/round-trips.ts) as GET /api/closed lists it; amounts are exact decimal strings. */
export interface ClosedTradeView {
  symbol: string;
  side: 'long' | 'short';
  openedAtMs: number;
  closedAtMs: number;
  qty: string;
  avgEntryPrice: string;
  avgExitPrice: string | null;
  realizedPnlUsd: string;
  feesUsd: string;
  fundingUsd: string;
  netPnlUsd: string;
  fills: number;
}

/**
 * GET /api/closed?user=&offset=&limit=&days=: one user's closed trades from the fill ledger, a page of them
 * newest first (`total` in all), with the summary, profit per UTC day (oldest first, days without a close
 * included) and per symbol (best first). `partial`: the read bound stopped before the end of the ledger.
 */
export interface ClosedResponse {
  userId: string;
  trades: ClosedTradeView[];
  total: number;
  offset: number;
  limit: number;
  openTrades: number;
  summary: { closedTrades: number; wins: number; losses: number; winRatePct: number | null; netPnlUsd: string; feesUsd: string; maxDrawdownUsd: string };
  daily: { day: string; trades: number; netPnlUsd: string }[];
  performance: { symbol: string; trades: number; wins: number; netPnlUsd: string }[];
  partial: boolean;
  unreadable: number;
}
