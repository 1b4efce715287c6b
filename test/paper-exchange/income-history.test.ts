import { describe, expect, it } from 'vitest';
import { defaultIncomeWindowMs, keepIncome, selectIncome } from '../../src/paper-exchange/income-history.js';
import type { IncomeRecord } from '../../src/paper-exchange/matching.js';
import { incomeJson } from '../../src/paper-exchange/wire-format.js';

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

describe('the income history page, read from a kept history', () => {
  const types = ['COMMISSION', 'REALIZED_PNL', 'FUNDING_FEE'] as const;
  const symbolsUsed = ['BTCUSDT', 'ETHUSDT'];
  /** A PRNG of its own (the test is the same every run). */
  const prng =
    (seed: number): (() => number) =>
    () =>
      (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  /** What the page is by definition: every record matching, then its first or last `limit`. */
  const byDefinition = (records: readonly IncomeRecord[], q: Parameters<typeof selectIncome>[1]): Record<string, unknown>[] => {
    const end = q.endTimeMs ?? q.nowMs;
    const start = q.startTimeMs ?? (q.endTimeMs === undefined ? q.nowMs - defaultIncomeWindowMs : Number.NEGATIVE_INFINITY);
    const all = records.filter(
      (r) =>
        (q.symbol === undefined || r.symbol === q.symbol) && (q.incomeType === undefined || r.incomeType === q.incomeType) && r.time >= start && r.time <= end,
    );
    const limit = Math.min(1_000, q.limit);
    return (q.startTimeMs !== undefined ? all.slice(0, limit) : all.slice(-limit)).map(incomeJson);
  };

  it('answers what a scan of every record answers, in time order or not (a wall clock stepped back)', () => {
    const random = prng(7);
    for (let c = 0; c < 300; c += 1) {
      const records: IncomeRecord[] = [];
      let time = nowMs - 20 * dayMs;
      const steppedBack = c % 3 === 0;
      for (let i = 0; i < 1 + Math.floor(random() * 400); i += 1) {
        time += Math.floor(random() * 3 * 3_600_000) - (steppedBack && random() < 0.2 ? Math.floor(random() * 2 * dayMs) : 0);
        keepIncome(records, {
          ...record(i + 1, time),
          incomeType: types[Math.floor(random() * types.length)] as IncomeRecord['incomeType'],
          symbol: symbolsUsed[Math.floor(random() * symbolsUsed.length)] as string,
        });
      }
      const at = (): number => nowMs - Math.floor(random() * 22 * dayMs);
      const q = {
        nowMs,
        limit: 1 + Math.floor(random() * 60),
        ...(random() < 0.5 ? { startTimeMs: at() } : {}),
        ...(random() < 0.5 ? { endTimeMs: at() } : {}),
        ...(random() < 0.5 ? { symbol: symbolsUsed[Math.floor(random() * 2)] as string } : {}),
        ...(random() < 0.5 ? { incomeType: types[Math.floor(random() * 3)] as string } : {}),
      };
      expect(selectIncome(records, q), JSON.stringify(q)).toEqual(byDefinition(records, q));
    }
  });
});
