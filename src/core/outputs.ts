import type { OrderRequest } from '../model/orders.js';
import type { ProtectiveStopRequest } from '../model/protective-stops.js';
import type { Lane } from '../model/lane.js';
import type { TradesFrom } from '../model/trades.js';

// What decide() hands back to the shell besides the new state: events for the outbound stream (replies
// to whoever sent a command, alerts for users; their format is the contract's) and effects for the exchange
// executor.

// The outbound events' format is the contract's: src/contract/outbound.ts.

export type Effect =
  /** `notAfterMs`: past this (engine clock) the order is not sent at all (see CoreConfig.orderSendWindowMs). */
  | { kind: 'place'; userId: string; lane: Lane; order: OrderRequest; notAfterMs: number }
  | { kind: 'cancel'; userId: string; lane: Lane; symbol: string; clientOrderId: string }
  | { kind: 'query'; userId: string; lane: Lane; symbol: string; clientOrderId: string }
  | { kind: 'place_stop'; userId: string; lane: Lane; request: ProtectiveStopRequest }
  | { kind: 'cancel_stop'; userId: string; lane: Lane; symbol: string; clientAlgoId: string }
  /** Lists the protective stops resting on these symbols (all symbols when absent), as a stops_listed input with askedAtMs. */
  | { kind: 'list_stops'; userId: string; lane: Lane; symbols?: readonly string[]; askedAtMs: number }
  /** Re-read the account's positions and feed them back as a reconcile input. */
  | { kind: 'reconcile'; userId: string; requestedAtMs: number }
  /** Read the account's trade list of one symbol and feed it back as a trades_listed input (trade-backstop.ts). */
  | { kind: 'read_trades'; userId: string; lane: Lane; symbol: string; from: TradesFrom; askedAtMs: number }
  /** Read the account's income history of one type from a time and feed it back as an income_listed input (funding-income.ts). */
  | { kind: 'read_income'; userId: string; lane: Lane; incomeType: string; startTimeMs: number; askedAtMs: number }
  /** Ask the exchange which order (client id) made a trade learnt from the trade list alone (foreign-trades.ts). */
  | { kind: 'read_trade_origin'; userId: string; lane: Lane; symbol: string; exchangeOrderId: string; realizedPnlUsd: string };
