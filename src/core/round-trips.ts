import type { LedgerEntry } from '../contract/ledger.js';
import type { Decimal, Price, Qty, Usd } from '../model/decimal.js';
import { abs, add, div, entryPriceScale, gt, isZero, lt, max, min, mul, neg, sign, sub, zero } from '../model/decimal.js';

// Closed trades: round trips built from the fill ledger (src/contract/ledger.ts), and what a trader asks of them
// (/profit, /daily, /performance). Pure and exact: amounts are decimals (src/model/decimal.ts), the clock is an
// argument. A round trip of one symbol in one session opens when its position leaves zero and closes when it is
// back at zero; a fill that goes through zero (long → short) closes one trip and opens the next with the rest.
//
// Money of a trip: the realized PnL its reducing fills booked (the ledger's, computed by the engine against the
// position's entry; the exchange's `rp` for exchange fills), minus the commissions of its fills (a commission is
// split between two trips by quantity when its order went through zero), plus the funding booked for its symbol
// while it was open (funding booked when it is no longer open goes to the symbol's last trip of that session: it
// was paid on that position; funding the exchange attributed to no symbol stays unattributed).
//
// Limits: a position the engine adopted from the exchange without a trade of its own (reconcile) is not in the
// ledger, so the trips of that symbol and session only start at its next flat. Work is linear in the entries
// given; readers bound how many they give (src/services/closed-trades.ts).

export interface RoundTrip {
  userId: string;
  sessionId: string;
  symbol: string;
  side: 'long' | 'short';
  openedAtMs: number;
  /** Null while the trip is open. */
  closedAtMs: number | null;
  /** Quantity bought (long) or sold (short) to build the position, and closed out of it (unsigned). */
  openedQty: Qty;
  closedQty: Qty;
  /** Quantity-weighted average prices of the building and the closing fills; null before any closing fill. */
  avgEntryPrice: Price;
  avgExitPrice: Price | null;
  realizedPnlUsd: Usd;
  /** Commission charged (positive = paid). */
  feesUsd: Usd;
  /** Funding received (positive) or paid (negative). */
  fundingUsd: Usd;
  /** realized − fees + funding. */
  netPnlUsd: Usd;
  fills: number;
}

export interface RoundTrips {
  /** Closed trips, by close time (ledger order). */
  closed: RoundTrip[];
  /** Trips still open at the end of the entries given. */
  open: RoundTrip[];
  /** Money the ledger holds that belongs to no trip: funding without a symbol or trip, commissions of orders with no fill seen. */
  unattributedUsd: Usd;
  entries: number;
}

/** A trip as it is built: amounts mutate while entries arrive; `netPnlUsd` is computed at the end. */
interface Building {
  trip: Omit<RoundTrip, 'netPnlUsd' | 'avgEntryPrice' | 'avgExitPrice'>;
  entryNotional: Decimal;
  exitNotional: Decimal;
}

interface SymbolBook {
  /** Signed position the ledger's trades add up to. */
  qty: Qty;
  open: Building | null;
  last: Building | null;
}

const unitPrice = (notional: Decimal, qty: Qty): Price => div(notional, qty, entryPriceScale, 'half-even') as Price;

function finished(b: Building): RoundTrip {
  const { trip } = b;
  return {
    ...trip,
    avgEntryPrice: isZero(trip.openedQty) ? zero : unitPrice(b.entryNotional, trip.openedQty),
    avgExitPrice: isZero(trip.closedQty) ? null : unitPrice(b.exitNotional, trip.closedQty),
    netPnlUsd: add(sub(trip.realizedPnlUsd, trip.feesUsd), trip.fundingUsd),
  };
}

/**
 * Splits `amount` over parts in proportion to their quantities, exactly: every part but the last is rounded
 * (half-even, to entryPriceScale), the last gets the rest, so the parts always add up to the amount.
 */
function splitByQty<T>(amount: Usd, parts: readonly { to: T; qty: Qty }[]): { to: T; amount: Usd }[] {
  const total = parts.reduce<Qty>((s, p) => add(s, p.qty), zero);
  let left = amount;
  return parts.map((p, i) => {
    const share = i === parts.length - 1 || isZero(total) ? left : (div(mul(amount, p.qty), total, entryPriceScale, 'half-even') as Usd);
    left = sub(left, share);
    return { to: p.to, amount: share };
  });
}

/** Builds round trips from ledger entries given in ledger order (one user's or many users'). */
export function buildRoundTrips(entries: Iterable<LedgerEntry>): RoundTrips {
  const books = new Map<string, SymbolBook>();
  const closed: Building[] = [];
  /** Which trips each of our orders' fills went to, with how much: where its commissions belong. */
  const partsOfOrder = new Map<string, { to: Building; qty: Qty }[]>();
  /** Commissions booked before any fill of their order was seen (kept until one is). */
  const feesWaiting = new Map<string, Usd>();
  let unattributedUsd: Usd = zero;
  let count = 0;

  const bookOf = (e: LedgerEntry, symbol: string): SymbolBook => {
    const key = `${e.sessionId}\u0000${symbol}`;
    let book = books.get(key);
    if (!book) {
      book = { qty: zero, open: null, last: null };
      books.set(key, book);
    }
    return book;
  };

  const openTrip = (e: LedgerEntry, symbol: string, direction: 1 | -1): Building => ({
    trip: {
      userId: e.userId,
      sessionId: e.sessionId,
      symbol,
      side: direction > 0 ? 'long' : 'short',
      openedAtMs: e.timeMs,
      closedAtMs: null,
      openedQty: zero,
      closedQty: zero,
      realizedPnlUsd: zero,
      feesUsd: zero,
      fundingUsd: zero,
      fills: 0,
    },
    entryNotional: zero,
    exitNotional: zero,
  });

  const chargeFee = (to: Building, fee: Usd): void => {
    to.trip.feesUsd = add(to.trip.feesUsd, fee);
  };

  /** One trade: moves the position, returns the trips it touched with the quantity each got. */
  const trade = (e: LedgerEntry, symbol: string, side: 'BUY' | 'SELL', qty: Qty, price: Price): { to: Building; qty: Qty }[] => {
    const book = bookOf(e, symbol);
    const signed = side === 'BUY' ? qty : neg(qty);
    const parts: { to: Building; qty: Qty }[] = [];
    let rest = qty;
    if (book.open !== null && !isZero(book.qty) && sign(book.qty) !== sign(signed)) {
      // Reducing: the closing part realizes the fill's whole PnL.
      const b = book.open;
      const closing = min(abs(book.qty), qty);
      b.trip.closedQty = add(b.trip.closedQty, closing);
      b.exitNotional = add(b.exitNotional, mul(closing, price));
      b.trip.realizedPnlUsd = add(b.trip.realizedPnlUsd, e.realizedPnlUsd);
      b.trip.fills += 1;
      parts.push({ to: b, qty: closing });
      rest = sub(qty, closing);
      book.qty = add(book.qty, sign(book.qty) > 0 ? neg(closing) : closing);
      if (isZero(book.qty)) {
        b.trip.closedAtMs = e.timeMs;
        closed.push(b);
        book.last = b;
        book.open = null;
      }
    } else if (!isZero(e.realizedPnlUsd)) {
      // PnL realized against a position the ledger never saw built (adopted by a reconcile): kept, not lost.
      unattributedUsd = add(unattributedUsd, e.realizedPnlUsd);
    }
    if (gt(rest, zero)) {
      // Building (or what is left of a fill that went through zero).
      const b = book.open ?? openTrip(e, symbol, side === 'BUY' ? 1 : -1);
      book.open = b;
      b.trip.openedQty = add(b.trip.openedQty, rest);
      b.entryNotional = add(b.entryNotional, mul(rest, price));
      b.trip.fills += 1;
      parts.push({ to: b, qty: rest });
      book.qty = add(book.qty, side === 'BUY' ? rest : neg(rest));
    }
    return parts;
  };

  for (const e of entries) {
    count += 1;
    switch (e.kind) {
      case 'fill':
      case 'exchange_fill': {
        if (e.symbol === null || e.side === null || e.qty === null || e.price === null || isZero(e.qty)) {
          unattributedUsd = add(unattributedUsd, e.netUsd);
          break;
        }
        const parts = trade(e, e.symbol, e.side, e.qty, e.price);
        // An exchange fill carries its own commission; ours come as `fee` entries of the order.
        if (!isZero(e.feeUsd)) for (const s of splitByQty(e.feeUsd, parts)) chargeFee(s.to, s.amount);
        if (e.kind === 'fill' && e.clientOrderId !== null) {
          partsOfOrder.set(e.clientOrderId, [...(partsOfOrder.get(e.clientOrderId) ?? []), ...parts]);
          const waiting = feesWaiting.get(e.clientOrderId);
          if (waiting !== undefined) {
            feesWaiting.delete(e.clientOrderId);
            for (const s of splitByQty(waiting, parts)) chargeFee(s.to, s.amount);
          }
        }
        break;
      }
      case 'fee': {
        const parts = e.clientOrderId === null ? undefined : partsOfOrder.get(e.clientOrderId);
        if (parts && parts.length > 0) for (const s of splitByQty(e.feeUsd, parts)) chargeFee(s.to, s.amount);
        else if (e.clientOrderId !== null) feesWaiting.set(e.clientOrderId, add(feesWaiting.get(e.clientOrderId) ?? zero, e.feeUsd));
        else unattributedUsd = sub(unattributedUsd, e.feeUsd);
        break;
      }
      case 'funding': {
        const book = e.symbol === null ? undefined : books.get(`${e.sessionId}\u0000${e.symbol}`);
        const to = book?.open ?? book?.last ?? null;
        if (to) to.trip.fundingUsd = add(to.trip.fundingUsd, e.fundingUsd);
        else unattributedUsd = add(unattributedUsd, e.fundingUsd);
        break;
      }
    }
  }
  for (const fee of feesWaiting.values()) unattributedUsd = sub(unattributedUsd, fee);
  const open = [...books.values()].flatMap((b) => (b.open ? [finished(b.open)] : []));
  return { closed: closed.map(finished), open, unattributedUsd, entries: count };
}

// --- what a trader asks of closed trips ---

export interface SymbolResult {
  symbol: string;
  trades: number;
  wins: number;
  netPnlUsd: Usd;
}

export interface ProfitSummary {
  closedTrades: number;
  wins: number;
  losses: number;
  /** Trips that closed at exactly zero net. */
  draws: number;
  /** wins / closed trades × 100; null without a closed trade. */
  winRatePct: number | null;
  realizedPnlUsd: Usd;
  feesUsd: Usd;
  fundingUsd: Usd;
  netPnlUsd: Usd;
  bestSymbol: SymbolResult | null;
  worstSymbol: SymbolResult | null;
  /** Largest fall of cumulative net PnL from a previous high, over closed trips in close order (starting at 0); ≥ 0. */
  maxDrawdownUsd: Usd;
  openTrades: number;
  firstClosedAtMs: number | null;
  lastClosedAtMs: number | null;
}

/** Per symbol, best first (ties by name). */
export function performanceBySymbol(closed: readonly RoundTrip[]): SymbolResult[] {
  const bySymbol = new Map<string, SymbolResult>();
  for (const t of closed) {
    const r = bySymbol.get(t.symbol) ?? { symbol: t.symbol, trades: 0, wins: 0, netPnlUsd: zero };
    bySymbol.set(t.symbol, { ...r, trades: r.trades + 1, wins: r.wins + (gt(t.netPnlUsd, zero) ? 1 : 0), netPnlUsd: add(r.netPnlUsd, t.netPnlUsd) });
  }
  return [...bySymbol.values()].sort((a, b) => (gt(a.netPnlUsd, b.netPnlUsd) ? -1 : lt(a.netPnlUsd, b.netPnlUsd) ? 1 : a.symbol < b.symbol ? -1 : 1));
}

export function profitSummary(trips: Pick<RoundTrips, 'closed' | 'open'>): ProfitSummary {
  const { closed } = trips;
  let cumulative: Usd = zero;
  let peak: Usd = zero;
  let drawdown: Usd = zero;
  const total = { realized: zero as Usd, fees: zero as Usd, funding: zero as Usd };
  let wins = 0;
  let losses = 0;
  for (const t of closed) {
    total.realized = add(total.realized, t.realizedPnlUsd);
    total.fees = add(total.fees, t.feesUsd);
    total.funding = add(total.funding, t.fundingUsd);
    if (gt(t.netPnlUsd, zero)) wins += 1;
    else if (lt(t.netPnlUsd, zero)) losses += 1;
    cumulative = add(cumulative, t.netPnlUsd);
    peak = max(peak, cumulative);
    drawdown = max(drawdown, sub(peak, cumulative));
  }
  const perSymbol = performanceBySymbol(closed);
  return {
    closedTrades: closed.length,
    wins,
    losses,
    draws: closed.length - wins - losses,
    winRatePct: closed.length === 0 ? null : (wins / closed.length) * 100,
    realizedPnlUsd: total.realized,
    feesUsd: total.fees,
    fundingUsd: total.funding,
    netPnlUsd: cumulative,
    bestSymbol: perSymbol[0] ?? null,
    worstSymbol: perSymbol.length > 1 ? (perSymbol[perSymbol.length - 1] ?? null) : null,
    maxDrawdownUsd: drawdown,
    openTrades: trips.open.length,
    firstClosedAtMs: closed[0]?.closedAtMs ?? null,
    lastClosedAtMs: closed[closed.length - 1]?.closedAtMs ?? null,
  };
}

export interface DayResult {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  trades: number;
  netPnlUsd: Usd;
}

const dayMs = 86_400_000;
/** Most days one /daily answer lists. */
export const maxDailyDays = 90;

/** Net PnL of the trips closed on each of the last `days` UTC days up to `nowMs`, newest first (days without a close included). */
export function dailyProfit(closed: readonly RoundTrip[], days: number, nowMs: number): DayResult[] {
  if (!(Number.isInteger(days) && days >= 1 && days <= maxDailyDays)) throw new Error(`days must be a whole number from 1 to ${maxDailyDays}, got ${days}`);
  const today = Math.floor(nowMs / dayMs);
  const out: DayResult[] = Array.from({ length: days }, (_, i) => ({
    day: new Date((today - i) * dayMs).toISOString().slice(0, 10),
    trades: 0,
    netPnlUsd: zero,
  }));
  for (const t of closed) {
    if (t.closedAtMs === null) continue;
    const slot = out[today - Math.floor(t.closedAtMs / dayMs)];
    if (slot) {
      slot.trades += 1;
      slot.netPnlUsd = add(slot.netPnlUsd, t.netPnlUsd);
    }
  }
  return out;
}
