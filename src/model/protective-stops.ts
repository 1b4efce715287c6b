import type { Side } from './orders.js';

/** A reduce-only STOP_MARKET resting on the exchange (Binance algo order), closing the whole position. */
export interface ProtectiveStopRequest {
  clientAlgoId: string;
  symbol: string;
  side: Side;
  triggerPrice: string;
}

export interface ProtectiveStopSnapshot {
  clientAlgoId: string;
  symbol: string;
  side: Side;
  triggerPrice: string;
}

/**
 * A status change of a conditional order, as the user stream's ALGO_UPDATE reports it: `actualOrderId` is the id
 * of the order its trigger placed in the matching engine (null before it triggered).
 */
export interface ProtectiveStopUpdate {
  clientAlgoId: string;
  algoId: string;
  symbol: string;
  side: Side;
  status: 'NEW' | 'CANCELED' | 'TRIGGERING' | 'TRIGGERED' | 'FINISHED' | 'REJECTED' | 'EXPIRED';
  actualOrderId: string | null;
  updateTime: number;
}

export type StopOutcome = { kind: 'accepted' } | { kind: 'rejected'; code: number; message: string } | { kind: 'unknown'; reason: string };
