import type { Usd } from './decimal.js';

// The account's income history (GET /fapi/v1/income,
// https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-Income-History): the
// exchange's own record of every amount it moved on the account. The engine books funding from it (core/funding-income.ts).

/**
 * One income record: `income` signed (positive in, negative out), exact; `tranId` unique per incomeType (a number on
 * USDⓈ-M, kept as its decimal text so a 64-bit id is never rounded); `symbol` and `tradeId` are "" when not applicable.
 */
export interface IncomeRecord {
  symbol: string;
  incomeType: string;
  income: Usd;
  asset: string;
  info: string;
  time: number;
  tranId: string;
  tradeId: string;
}

/** A record that could not be read: where it was in the batch and why, for an alert. */
export interface IncomeRejection {
  index: number;
  reason: string;
}

/** One read of the income history: the records it held, and each malformed one set aside with its reason. */
export interface IncomeRead {
  records: IncomeRecord[];
  rejected: IncomeRejection[];
}

/** The income type the engine reads: funding (commissions are booked per trade from the trade list, trade-backstop.ts). */
export const fundingIncomeType = 'FUNDING_FEE';
