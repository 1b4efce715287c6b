/**
 * One funding payment on the account, from the user stream's ACCOUNT_UPDATE with reason FUNDING_FEE
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Balance-and-Position-Update):
 * `amount` is the balance change `bc` (signed: received positive), a decimal string in `asset`. On a cross
 * position Binance sends no position entry, so `symbol` is often null. `exchangeId` names the payment so a
 * repeated or replayed event is booked once: the event's transaction time, asset and the wallet balance after it.
 */
export interface FundingPayment {
  asset: string;
  amount: string;
  symbol: string | null;
  exchangeTimeMs: number;
  exchangeId: string;
}

/** One position as the exchange reports it (one-way mode). */
export interface PositionSnapshot {
  symbol: string;
  positionAmt: string; // signed, one-way mode
  entryPrice: string;
  /** Where the exchange would liquidate it ("0": it cannot be), and its mark, when the read gives them. */
  liquidationPrice?: string;
  markPrice?: string;
}
