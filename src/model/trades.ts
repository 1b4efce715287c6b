import type { Side } from './orders.js';

// The account's own trade history (GET /fapi/v1/userTrades,
// https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Account-Trade-List): what
// the engine reads to book a trade whose user-stream push it never got (a stream gap, a crash before commit).

/** One trade of the account, as the exchange lists it. Decimal strings, verbatim; ids as decimal text. */
export interface AccountTrade {
  /** `id`: the trade id, the same as the push's `t` (unique per symbol). */
  tradeId: string;
  /** `orderId`: the exchange's id of the order that traded. */
  exchangeOrderId: string;
  symbol: string;
  side: Side;
  price: string;
  qty: string;
  /** The exchange's realized PnL of this trade (signed). */
  realizedPnl: string;
  /** Commission charged (booked as its absolute value: see fees.ts). */
  commission: string;
  commissionAsset: string;
  timeMs: number;
}

/** Where a read of the trade list starts: after a known trade id, or at a time (at most 7 days back). */
export type TradesFrom = { fromId: string } | { startTimeMs: number };
