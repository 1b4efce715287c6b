// Order values as the engine and the exchange adapters both see them. Quantities and prices crossing this
// boundary are decimal strings that are exact multiples of the symbol's step/tick size; the core produces
// them, the adapters pass them through untouched.

export type Side = 'BUY' | 'SELL';

export type OrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';

export const terminalOrderStatuses: ReadonlySet<OrderStatus> = new Set(['FILLED', 'CANCELED', 'EXPIRED', 'REJECTED']);

const dayMs = 24 * 60 * 60 * 1000;
/**
 * How long Binance still finds an order (Query Order, All Orders, and the same for conditional orders): "these orders
 * will not be found: order status is CANCELED or EXPIRED and order has NO filled trade and created time + 3 days <
 * current time; order create time + 90 days < current time"
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Order). The simulator
 * answers by it (paper-exchange/order-retention.ts), and the engine reads "not found" by it (core/orders.ts).
 */
export const unfilledFinalOrderFoundMs = 3 * dayMs;
/** Any order is found for this long after its creation (ms), the same page. */
export const orderFoundMs = 90 * dayMs;

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

/** The exchange's view of one order, as returned by place/query/user-data stream; fills show as executedQty/avgPrice. */
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
  /** The trade this update reports (user stream, execution type TRADE only): REST answers carry no commission. */
  trade?: TradeReport;
  /**
   * The client algo id of the conditional order whose trigger placed this order, when the user stream's ALGO_UPDATE
   * linked them (its `ai` is this order's id): a fired protective stop is then known by id, not guessed.
   */
  triggeredBy?: string;
}

/**
 * One trade of an order as ORDER_TRADE_UPDATE reports it
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Order-Update):
 * `n` commission in asset `N` (positive = charged), `rp` the realized profit of this trade, `z` the order's
 * cumulative filled quantity after it (which identifies the trade within its order), `l`/`L` the trade's own
 * quantity and price. Decimal strings, verbatim.
 */
export interface TradeReport {
  cumQty: string;
  commission: string;
  commissionAsset: string;
  realizedProfit: string;
  /** `l` and `L`: this trade's own quantity and price (absent from adapters that predate them). */
  lastQty?: string;
  lastPrice?: string;
  /** `t`: the trade id, the same as the trade list's `id` (absent from adapters that predate it). */
  tradeId?: string;
  /** `m`: "Is this trade the maker side?" (absent from adapters that predate it). */
  maker?: boolean;
}

/**
 * Our own code (no exchange uses it) for a request the engine refused to send: it never reached the exchange, so
 * an order answered with it was not placed and the core plans it again.
 */
export const notSentCode = -1;

export type PlaceOutcome =
  | { kind: 'accepted'; order: OrderSnapshot }
  /**
   * retryAfterMs: the exchange asked us to back off (429/418 Retry-After), or the local budget said how long it
   * holds requests back; retryAtMs: that wait as a time, stamped by the shell when the answer came (the core may
   * decide on it later).
   */
  | { kind: 'rejected'; code: number; message: string; retryAfterMs?: number; retryAtMs?: number }
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
