import type { RoundTrip } from '../../core/round-trips.js';
import { dailyProfit, performanceBySymbol, profitSummary } from '../../core/round-trips.js';
import type { ClosedTradesRead } from '../closed-trades.js';
import { maxRoundTripLedgerEntries } from '../closed-trades.js';
import { price, table, usd } from './format.js';

// `cli profit | daily | performance | closed`: closed trades (round trips from the fill ledger) for people, and as
// JSON for scripts (exact decimals as computed). Pure.

export type HistoryQuery = 'profit' | 'daily' | 'performance' | 'closed';

const money = (decimal: string): string => usd(Number(decimal));
const signed = (decimal: string): string => (Number(decimal) > 0 ? `+${money(decimal)}` : money(decimal));

function utc(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/** What the answer leaves out, said once at the end. */
function notes(read: ClosedTradesRead): string[] {
  const out: string[] = [];
  if (read.partial) out.push(`partial: only your first ${maxRoundTripLedgerEntries} ledger entries were read; later trades are missing`);
  if (read.unreadable > 0) out.push(`${read.unreadable} ledger entries could not be read and are left out (${read.problems.join('; ')})`);
  return out;
}

/** The answer to one query as an object of exact decimals (--json). */
export function historyJson(what: HistoryQuery, read: ClosedTradesRead, count: number, nowMs: number): Record<string, unknown> {
  const { closed, open } = read.trips;
  const common = { partial: read.partial, unreadableEntries: read.unreadable };
  switch (what) {
    case 'profit':
      return { ...profitSummary(read.trips), unattributedUsd: read.trips.unattributedUsd, ...common };
    case 'daily':
      return { days: dailyProfit(closed, count, nowMs), ...common };
    case 'performance':
      return { symbols: performanceBySymbol(closed), ...common };
    case 'closed':
      return { closed: closed.slice(-count).reverse(), open, ...common };
  }
}

function tripRow(t: RoundTrip): string[] {
  return [
    utc(t.closedAtMs),
    t.symbol,
    t.side,
    t.closedQty,
    price(Number(t.avgEntryPrice)),
    t.avgExitPrice === null ? '-' : price(Number(t.avgExitPrice)),
    money(t.feesUsd),
    signed(t.netPnlUsd),
  ];
}

export function historyLines(what: HistoryQuery, read: ClosedTradesRead, count: number, nowMs: number): string[] {
  const { closed } = read.trips;
  switch (what) {
    case 'profit': {
      const p = profitSummary(read.trips);
      if (p.closedTrades === 0) return [`no closed trades yet${p.openTrades > 0 ? ` (${p.openTrades} open)` : ''}`, ...notes(read)];
      const symbol = (r: typeof p.bestSymbol): string =>
        r === null ? '-' : `${r.symbol} ${signed(r.netPnlUsd)} (${r.trades} trade${r.trades === 1 ? '' : 's'})`;
      return [
        `closed trades ${p.closedTrades} · won ${p.wins} · lost ${p.losses}${p.draws > 0 ? ` · even ${p.draws}` : ''} · win rate ${Math.round(p.winRatePct ?? 0)}%`,
        `net ${signed(p.netPnlUsd)} = realized ${money(p.realizedPnlUsd)} - fees ${money(p.feesUsd)} + funding ${money(p.fundingUsd)}`,
        `best ${symbol(p.bestSymbol)} · worst ${symbol(p.worstSymbol)} · max drawdown ${money(p.maxDrawdownUsd)}`,
        `open trades ${p.openTrades} · first close ${utc(p.firstClosedAtMs)} · last close ${utc(p.lastClosedAtMs)} (UTC)`,
        ...notes(read),
      ];
    }
    case 'daily':
      return [
        ...table([['day (UTC)', 'trades', 'net'], ...dailyProfit(closed, count, nowMs).map((d) => [d.day, String(d.trades), signed(d.netPnlUsd)])]),
        ...notes(read),
      ];
    case 'performance': {
      const rows = performanceBySymbol(closed);
      if (rows.length === 0) return ['no closed trades yet', ...notes(read)];
      return [
        ...table([
          ['symbol', 'trades', 'win rate', 'net'],
          ...rows.map((r) => [r.symbol, String(r.trades), `${Math.round((r.wins / r.trades) * 100)}%`, signed(r.netPnlUsd)]),
        ]),
        ...notes(read),
      ];
    }
    case 'closed': {
      if (closed.length === 0) return ['no closed trades yet', ...notes(read)];
      const newest = closed.slice(-count).reverse();
      return [...table([['closed (UTC)', 'symbol', 'side', 'qty', 'entry', 'exit', 'fees', 'net'], ...newest.map(tripRow)]), ...notes(read)];
    }
  }
}
