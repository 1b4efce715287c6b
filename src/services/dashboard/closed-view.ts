import { dailyProfit, performanceBySymbol, profitSummary } from '../../core/round-trips.js';
import type { RoundTrip } from '../../core/round-trips.js';
import type { ClosedTradesRead } from '../closed-trades.js';
import type { ClosedResponse, ClosedTradeView } from './api-types.js';

// GET /api/closed's answer from one user's closed-trades read (src/services/closed-trades.ts, the same read model as
// the bot's /profit, /daily, /performance and the CLI's): a page of closed trades, newest first, with the summary,
// daily and per-symbol results. Pure: the clock is an argument.

/** Closed trades per page at most (and when `limit` is not given, this many). */
export const maxClosedTradesPerPage = 100;
/** UTC days of daily profit the page draws when not told. */
export const defaultDashboardDailyDays = 30;

export interface ClosedQuery {
  offset: number;
  limit: number;
  days: number;
  nowMs: number;
}

function tradeView(t: RoundTrip & { closedAtMs: number }): ClosedTradeView {
  return {
    symbol: t.symbol,
    side: t.side,
    openedAtMs: t.openedAtMs,
    closedAtMs: t.closedAtMs,
    qty: t.closedQty,
    avgEntryPrice: t.avgEntryPrice,
    avgExitPrice: t.avgExitPrice,
    realizedPnlUsd: t.realizedPnlUsd,
    feesUsd: t.feesUsd,
    fundingUsd: t.fundingUsd,
    netPnlUsd: t.netPnlUsd,
    fills: t.fills,
  };
}

export function closedTradesView(userId: string, read: ClosedTradesRead, q: ClosedQuery): ClosedResponse {
  const closed = read.trips.closed.filter((t): t is RoundTrip & { closedAtMs: number } => t.closedAtMs !== null);
  const total = closed.length;
  // Newest first: the page at `offset` counts back from the last closed trip.
  const end = Math.max(0, total - q.offset);
  const page = closed.slice(Math.max(0, end - q.limit), end).reverse();
  const p = profitSummary(read.trips);
  return {
    userId,
    trades: page.map(tradeView),
    total,
    offset: q.offset,
    limit: q.limit,
    openTrades: p.openTrades,
    summary: {
      closedTrades: p.closedTrades,
      wins: p.wins,
      losses: p.losses,
      winRatePct: p.winRatePct,
      netPnlUsd: p.netPnlUsd,
      feesUsd: p.feesUsd,
      maxDrawdownUsd: p.maxDrawdownUsd,
    },
    daily: dailyProfit(read.trips.closed, q.days, q.nowMs)
      .reverse()
      .map((d) => ({ day: d.day, trades: d.trades, netPnlUsd: d.netPnlUsd })),
    performance: performanceBySymbol(read.trips.closed).map((s) => ({ symbol: s.symbol, trades: s.trades, wins: s.wins, netPnlUsd: s.netPnlUsd })),
    partial: read.partial,
    unreadable: read.unreadable,
  };
}
