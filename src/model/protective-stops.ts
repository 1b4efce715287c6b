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

export type StopOutcome = { kind: 'accepted' } | { kind: 'rejected'; code: number; message: string } | { kind: 'unknown'; reason: string };
