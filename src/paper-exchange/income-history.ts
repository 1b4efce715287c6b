import type { IncomeRecord } from './matching.js';
import { incomeJson } from './wire-format.js';

// GET /fapi/v1/income over an account's income history
// (https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-Income-History): the
// route and the deterministic simulation's in-process account answer through this one selection.

/** "Default 100; max 1000" (the page cited above). */
export const defaultIncomeLimit = 100;
export const maxIncomeLimit = 1000;

/** What a read asks for: one symbol or all, one income type or all, an inclusive time range, a page size. */
export interface IncomeQuery {
  symbol?: string;
  incomeType?: string;
  startTimeMs: number;
  endTimeMs: number;
  limit: number;
}

/** The newest `limit` records the query matches, oldest first, as the wire answers them. */
export function selectIncome(records: readonly IncomeRecord[], query: IncomeQuery): Record<string, unknown>[] {
  const limit = Math.min(maxIncomeLimit, query.limit);
  const matching = records.filter(
    (r) =>
      (query.symbol === undefined || r.symbol === query.symbol) &&
      (query.incomeType === undefined || r.incomeType === query.incomeType) &&
      r.time >= query.startTimeMs &&
      r.time <= query.endTimeMs,
  );
  return matching.slice(-limit).map(incomeJson);
}
