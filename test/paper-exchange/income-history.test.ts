import { describe, expect, it } from 'vitest';
import { defaultIncomeWindowMs, selectIncome } from '../../src/paper-exchange/income-history.js';
import type { IncomeRecord } from '../../src/paper-exchange/matching.js';

// Which records GET /fapi/v1/income answers when more match than `limit`: from startTime forward when one is sent
// (a reader pages on from its last record's time), else the newest; with neither end sent, the last 7 days.
// The simulator answered the newest `limit` in every case, so a reader paging from startTime skipped the oldest.

const dayMs = 24 * 60 * 60 * 1000;
const nowMs = 100 * dayMs;
const record = (tranId: number, time: number): IncomeRecord => ({
  symbol: 'BTCUSDT',
  incomeType: 'FUNDING_FEE',
  income: '-0.1',
  asset: 'USDT',
  info: 'FUNDING_FEE',
  time,
  tranId,
  tradeId: '',
});
// One a day for 20 days up to now.
const history = Array.from({ length: 20 }, (_, i) => record(i + 1, nowMs - (19 - i) * dayMs));
const ids = (page: Record<string, unknown>[]): unknown[] => page.map((r) => r.tranId);

describe('the income history page', () => {
  it('answers startTime + limit, oldest first, when a startTime is sent', () => {
    expect(ids(selectIncome(history, { startTimeMs: nowMs - 19 * dayMs, nowMs, limit: 3 }))).toEqual([1, 2, 3]);
    expect(ids(selectIncome(history, { startTimeMs: nowMs - 2 * dayMs, nowMs, limit: 5 }))).toEqual([18, 19, 20]);
  });

  it('answers the newest limit without a startTime: of the last 7 days when no endTime is sent either', () => {
    expect(ids(selectIncome(history, { nowMs, limit: 3 }))).toEqual([18, 19, 20]);
    expect(selectIncome(history, { nowMs, limit: 1_000 })).toHaveLength(Math.floor(defaultIncomeWindowMs / dayMs) + 1);
    expect(ids(selectIncome(history, { endTimeMs: nowMs - 10 * dayMs, nowMs, limit: 2 }))).toEqual([9, 10]);
  });
});
