import type { IncomeRecord } from './matching.js';
import { incomeJson } from './wire-format.js';
import { pushKeepingNewest } from '../util/keep-newest.js';
import { partitionPoint } from '../model/partition.js';

// GET /fapi/v1/income over an account's income history
// (https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-Income-History): the
// route and the deterministic simulation's in-process account answer through this one selection.

/**
 * Income records kept per account, oldest dropped first (a block at a time: up to an eighth more, util/keep-newest.ts).
 * Binance keeps three months of them (the page cited above: "only the last 3 months of data are kept", in its Chinese
 * edition). Unbounded, a paper account's list grew by two records a trade for as long as the exchange ran, and so did
 * every read's scan of it (a month-long backtest made 70 000). An engine reads its funding a few hours back at most;
 * three records a trade kept (commission, realized PnL, funding between them) cover the trades the account keeps
 * (trade-history.ts maxTradesKeptPerAccount).
 */
export const maxIncomeKeptPerAccount = 30_000;

/**
 * Income histories holding a record older than the one before it: records are appended at the exchange's clock, which
 * the simulator server reads off the wall (a clock stepped back gives one). Those are read by a scan of them all.
 */
const outOfTimeOrder = new WeakSet<readonly IncomeRecord[]>();

/** Appends a record to the account's income history, dropping the oldest past the bound. */
export function keepIncome(income: IncomeRecord[], record: IncomeRecord): void {
  const last = income[income.length - 1];
  if (last !== undefined && record.time < last.time) outOfTimeOrder.add(income);
  pushKeepingNewest(income, record, maxIncomeKeptPerAccount);
}

/** "Default 100; max 1000" (the page cited above). */
export const defaultIncomeLimit = 100;
export const maxIncomeLimit = 1000;

/** "If neither startTime nor endTime is sent, the recent 7-day data will be returned" (the page cited above). */
export const defaultIncomeWindowMs = 7 * 24 * 60 * 60 * 1000;

/**
 * What a read asks for: one symbol or all, one income type or all, an inclusive time range (either end may be
 * left out), a page size, and the exchange's clock (the default range ends now).
 */
export interface IncomeQuery {
  symbol?: string;
  incomeType?: string;
  startTimeMs?: number;
  endTimeMs?: number;
  nowMs: number;
  limit: number;
}

/**
 * The records the query matches, oldest first, as the wire answers them: with a startTime, the first `limit` from
 * it on ("If the number of data between startTime and endTime is larger than limit, response will be return as
 * startTime+limit", https://developers.binance.com/docs/binance_link/link-and-trade/futures/Get-Income-History, the
 * same GET /fapi/v1/income), so a reader pages forward from its last record's time; without one, the newest
 * `limit` (of the last 7 days when no endTime is sent either).
 */
export function selectIncome(records: readonly IncomeRecord[], query: IncomeQuery): Record<string, unknown>[] {
  const limit = Math.min(maxIncomeLimit, query.limit);
  const endTimeMs = query.endTimeMs ?? query.nowMs;
  const startTimeMs = query.startTimeMs ?? (query.endTimeMs === undefined ? query.nowMs - defaultIncomeWindowMs : Number.NEGATIVE_INFINITY);
  const matches = (r: IncomeRecord): boolean =>
    (query.symbol === undefined || r.symbol === query.symbol) &&
    (query.incomeType === undefined || r.incomeType === query.incomeType) &&
    r.time >= startTimeMs &&
    r.time <= endTimeMs;
  // In time order, the records in [startTime, endTime] are one run of the list, found by two binary searches (a funding
  // read every few hours scanned a whole month of fills); out of order, the run is the whole list. The page is read from
  // the run's start (a startTime sent) or its end.
  const inOrder = !outOfTimeOrder.has(records);
  const first = inOrder ? partitionPoint(records.length, (i) => (records[i] as IncomeRecord).time < startTimeMs) : 0;
  const end = inOrder ? partitionPoint(records.length, (i) => (records[i] as IncomeRecord).time <= endTimeMs) : records.length;
  const page: IncomeRecord[] = [];
  if (query.startTimeMs !== undefined) {
    for (let i = first; i < end && page.length < limit; i += 1) if (matches(records[i] as IncomeRecord)) page.push(records[i] as IncomeRecord);
  } else {
    for (let i = end - 1; i >= first && page.length < limit; i -= 1) if (matches(records[i] as IncomeRecord)) page.push(records[i] as IncomeRecord);
    page.reverse();
  }
  return page.map(incomeJson);
}
