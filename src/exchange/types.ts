// Exchange-facing value types shared by the core (which plans orders) and the adapters (which send them).
// Quantities and prices crossing this boundary are decimal strings that are exact multiples of the
// symbol's step/tick size; the core produces them, the adapters pass them through untouched.

export type Side = 'BUY' | 'SELL';

export type OrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';

export const terminalOrderStatuses: ReadonlySet<OrderStatus> = new Set(['FILLED', 'CANCELED', 'EXPIRED', 'REJECTED']);

export interface SymbolFilters {
  symbol: string;
  tickSize: string; // PRICE_FILTER.tickSize
  minPrice: string;
  maxPrice: string;
  stepSize: string; // LOT_SIZE.stepSize
  minQty: string;
  maxQty: string;
  marketStepSize: string; // MARKET_LOT_SIZE.stepSize
  marketMaxQty: string;
  minNotional: string; // MIN_NOTIONAL.notional
}

/** What the core asks an adapter to send. All fields are final: the adapter adds nothing but signing. */
export interface OrderRequest {
  clientOrderId: string; // <= 36 chars, [A-Za-z0-9._:/-]
  symbol: string;
  side: Side;
  type: 'LIMIT' | 'MARKET';
  quantity: string;
  price?: string; // LIMIT only
  timeInForce?: 'GTX' | 'GTC' | 'IOC'; // LIMIT only; GTX = post-only
  reduceOnly: boolean;
}

/** The exchange's view of one order, as returned by place/query/user-data stream. */
export interface OrderSnapshot {
  clientOrderId: string;
  exchangeOrderId: string;
  symbol: string;
  side: Side;
  status: OrderStatus;
  origQty: string;
  executedQty: string;
  avgPrice: string; // "0" when nothing filled
  updateTime: number; // exchange ms
}

export type PlaceOutcome =
  | { kind: 'accepted'; order: OrderSnapshot }
  /** retryAfterMs: the exchange asked us to back off (429/418 Retry-After). */
  | { kind: 'rejected'; code: number; message: string; retryAfterMs?: number }
  // Timeout, 5xx, connection reset after send: the order may or may not exist. Resolve by querying the id.
  | { kind: 'unknown'; reason: string };

export type CancelOutcome =
  | { kind: 'canceled'; order: OrderSnapshot }
  | { kind: 'rejected'; code: number; message: string } // e.g. -2011 unknown order (already filled/canceled)
  | { kind: 'unknown'; reason: string };

export type QueryOutcome =
  | { kind: 'found'; order: OrderSnapshot }
  | { kind: 'not_found' } // -2013: the exchange never accepted this id
  | { kind: 'unknown'; reason: string };

export interface PositionSnapshot {
  symbol: string;
  positionAmt: string; // signed, one-way mode
  entryPrice: string;
}

export interface BookTicker {
  symbol: string;
  bid: number;
  ask: number;
  time: number; // exchange event time, ms
}

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

export type StopOutcome =
  | { kind: 'accepted' }
  | { kind: 'rejected'; code: number; message: string }
  | { kind: 'unknown'; reason: string };
