import type { LedgerView } from '../contract/ledger.js';
import { compareDecimal, isZero, mul, sign, sub, sum, toNumber, toUsd } from '../model/decimal.js';
import type { Decimal, Usd } from '../model/decimal.js';
import type { CurveRecorder } from './metrics.js';
import { hourlySharpe, hourlySortino } from './metrics.js';
import type { VenueTrade } from './venue.js';

// The report's figures from what the run recorded: the exchange's trades (maker or taker, commission), the engine's
// fill ledger (realized PnL) and the equity samples. Money is summed exactly; ratios are numbers for reading.

/** One trade as the report lists it: the exchange's fill with the realized PnL the engine booked for it. */
export interface TradeRow {
  timeMs: number;
  symbol: string;
  side: 'BUY' | 'SELL';
  qty: string;
  price: string;
  notionalUsd: string;
  role: 'maker' | 'taker';
  /** Commission the exchange charged for it (positive = paid). */
  feeUsd: string;
  /** Realized by the engine's ledger fill that matches it (same symbol, side, price and quantity, in order); null without one. */
  realizedPnlUsd: string | null;
}

export interface BacktestMetrics {
  sharpe: number;
  sortino: number;
  maxDrawdownPct: number;
  /** Trades that closed (part of) a position with realized PnL above their own commission, in percent of those that closed any. */
  winRatePct: number;
  closingTrades: number;
  /** Traded notional over the starting capital (times). */
  turnover: number;
  tradedNotionalUsd: number;
  makerTrades: number;
  takerTrades: number;
  /** Maker trades in percent of all trades (count). */
  makerSharePct: number;
  /** Maker notional in percent of all traded notional. */
  makerNotionalSharePct: number;
  feesUsd: number;
  fundingUsd: number;
  /** Gross exposure (sum of |position notional|) over equity, averaged over every equity sample, in percent. */
  meanExposurePct: number;
  maxExposureUsd: number;
}

const fillKinds = new Set(['fill', 'exchange_fill']);

/** The exchange's trades with their ledger fills' realized PnL, matched in order on symbol, side, price and quantity. */
export function tradeRows(venueTrades: readonly VenueTrade[], ledger: readonly LedgerView[]): TradeRow[] {
  const fills = ledger.filter((e) => fillKinds.has(e.kind));
  const used = new Set<number>();
  let from = 0;
  return venueTrades.map((t) => {
    let realized: string | null = null;
    for (let i = from; i < fills.length; i += 1) {
      const f = fills[i] as LedgerView;
      if (used.has(i) || f.symbol !== t.symbol || f.side !== t.side || f.qty === null || f.price === null) continue;
      if (compareDecimal(f.qty, t.qty) !== 0 || compareDecimal(f.price, t.price) !== 0) continue;
      used.add(i);
      realized = f.realizedPnlUsd;
      while (used.has(from)) from += 1;
      break;
    }
    return {
      timeMs: t.timeMs,
      symbol: t.symbol,
      side: t.side,
      qty: t.qty,
      price: t.price,
      notionalUsd: mul(t.price as Decimal, t.qty as Decimal),
      role: t.maker ? 'maker' : 'taker',
      feeUsd: t.commission,
      realizedPnlUsd: realized,
    };
  });
}

/** The run's figures. `hourlyEquity`: equity at the end of each hour of the run, the first hour's end first. */
export function metricsOf(
  rows: readonly TradeRow[],
  ledger: readonly LedgerView[],
  curve: CurveRecorder,
  hourlyEquity: readonly number[],
  maxDrawdownPct: number,
  capitalUsd: number,
): BacktestMetrics {
  const sumOf = (values: readonly string[]): Usd => sum(values.map(toUsd));
  const traded = sumOf(rows.map((r) => r.notionalUsd));
  const makerRows = rows.filter((r) => r.role === 'maker');
  const maker = sumOf(makerRows.map((r) => r.notionalUsd));
  const closing = rows.filter((r) => r.realizedPnlUsd !== null && !isZero(toUsd(r.realizedPnlUsd)));
  const wins = closing.filter((r) => sign(sub(toUsd(r.realizedPnlUsd as string), toUsd(r.feeUsd))) > 0);
  const pct = (part: number, whole: number): number => (whole > 0 ? (part / whole) * 100 : 0);
  return {
    // The capital at the start leads the hour ends: the first hour's return counts (without it a run that gained in
    // its first hour and was flat after had no return to show, and a 4-hour sample up 0.06 % read a Sharpe of -12.7).
    sharpe: hourlySharpe([capitalUsd, ...hourlyEquity]),
    sortino: hourlySortino([capitalUsd, ...hourlyEquity]),
    maxDrawdownPct,
    winRatePct: pct(wins.length, closing.length),
    closingTrades: closing.length,
    turnover: toNumber(traded) / capitalUsd,
    tradedNotionalUsd: toNumber(traded),
    makerTrades: makerRows.length,
    takerTrades: rows.length - makerRows.length,
    makerSharePct: pct(makerRows.length, rows.length),
    makerNotionalSharePct: pct(toNumber(maker), toNumber(traded)),
    feesUsd: toNumber(sumOf(ledger.map((e) => e.feeUsd))),
    fundingUsd: toNumber(sumOf(ledger.map((e) => e.fundingUsd))),
    meanExposurePct: curve.meanExposurePct,
    maxExposureUsd: curve.maxExposureUsd,
  };
}
