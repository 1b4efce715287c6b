import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../src/contract/ledger.js';
import type { WalEvent } from '../../src/core/events.js';
import { foldEvents } from '../../src/core/events.js';
import { ledgerEntriesOf } from '../../src/core/ledger.js';
import { buildRoundTrips, dailyProfit, performanceBySymbol, profitSummary } from '../../src/core/round-trips.js';
import type { RoundTrip } from '../../src/core/round-trips.js';
import { emptyDurableState } from '../../src/core/state.js';
import type { Price, Qty, Usd } from '../../src/model/decimal.js';
import { add, sub, sum, zero } from '../../src/model/decimal.js';
import { testConfig } from './fixtures.js';

// Closed trades from the fill ledger: the ledger entries are derived from WAL events by the engine's own
// derivation (ledgerEntriesOf), so the realized PnL each fill carries is the engine's.

const q = (v: string) => v as Qty;
const p = (v: string) => v as Price;
const usd = (v: string) => v as Usd;
const day = 86_400_000;
const T = Date.UTC(2030, 0, 10);

const start = (atMs: number, userId = 'al'): WalEvent => ({
  type: 'session.started',
  userId,
  mode: 'paper',
  capitalUsd: usd('1000'),
  stopLossPct: null,
  horizonDeadlineMs: null,
  atMs,
});
const fill = (side: 'BUY' | 'SELL', qty: string, price: string, clientOrderId: string, atMs: number, symbol = 'BTCUSDT'): WalEvent => ({
  type: 'fill',
  clientOrderId,
  userId: 'al',
  symbol,
  side,
  qty: q(qty),
  price: p(price),
  atMs,
});
const fee = (clientOrderId: string, feeUsd: string, cumQty: string, atMs: number, symbol = 'BTCUSDT'): WalEvent => ({
  type: 'fee',
  userId: 'al',
  clientOrderId,
  symbol,
  feeUsd: usd(feeUsd),
  cumQty: q(cumQty),
  exchangeRealizedPnlUsd: zero,
  atMs,
});
const funding = (amount: string, id: string, atMs: number, symbol: string | null = 'BTCUSDT'): WalEvent => ({
  type: 'funding',
  userId: 'al',
  symbol,
  amountUsd: usd(amount),
  exchangeId: id,
  exchangeTimeMs: atMs,
  atMs,
});

function ledgerOf(events: WalEvent[]): LedgerEntry[] {
  return ledgerEntriesOf(emptyDurableState(), events).map((i) => i.entry);
}

const money = (t: RoundTrip) => [t.symbol, t.side, t.openedQty, t.closedQty, t.realizedPnlUsd, t.feesUsd, t.fundingUsd, t.netPnlUsd];

describe('buildRoundTrips', () => {
  it('closes a trip over partial closes, with every fee and the funding paid while open', () => {
    const events = [
      start(T),
      fill('BUY', '1', '100', 'o1', T + 1),
      fee('o1', '0.04', '1', T + 1),
      funding('-0.05', 'f1', T + 2),
      fill('SELL', '0.4', '110', 'o2', T + 3), // +4 realized
      fee('o2', '0.02', '0.4', T + 3),
      fill('SELL', '0.6', '90', 'o3', T + 4), // -6 realized
      fee('o3', '0.03', '0.6', T + 4),
    ];
    const trips = buildRoundTrips(ledgerOf(events));
    expect(trips.open).toEqual([]);
    expect(trips.closed.map(money)).toEqual([['BTCUSDT', 'long', '1', '1', '-2', '0.09', '-0.05', '-2.14']]);
    expect(trips.closed[0]).toMatchObject({ avgEntryPrice: '100', avgExitPrice: '98', openedAtMs: T + 1, closedAtMs: T + 4, fills: 3 });
    // Every dollar of the session is in its trips: the trips sum to realized − fees + funding as the fold booked it.
    const session = foldEvents(emptyDurableState(), events, testConfig).sessions.get('al');
    if (!session) throw new Error('no session');
    expect(sum(trips.closed.map((t) => t.netPnlUsd))).toBe(add(sub(session.realizedPnlUsd, session.feesUsd), session.fundingUsd));
    expect(trips.unattributedUsd).toBe('0');
  });

  it('splits a fill through zero (long → short) into a close and a new trip, its commission by quantity', () => {
    const events = [
      start(T),
      fill('BUY', '1', '100', 'o1', T + 1),
      fee('o1', '0.04', '1', T + 1),
      fill('SELL', '3', '105', 'o2', T + 2), // closes the long (+5), opens a short of 2 at 105
      fee('o2', '0.3', '3', T + 2), // 0.1 to the long, 0.2 to the short
      fill('BUY', '2', '100', 'o3', T + 3), // +10 on the short
      fee('o3', '0.08', '2', T + 3),
    ];
    const trips = buildRoundTrips(ledgerOf(events));
    expect(trips.closed.map(money)).toEqual([
      ['BTCUSDT', 'long', '1', '1', '5', '0.14', '0', '4.86'],
      ['BTCUSDT', 'short', '2', '2', '10', '0.28', '0', '9.72'],
    ]);
    expect(trips.closed[1]).toMatchObject({ avgEntryPrice: '105', avgExitPrice: '100', openedAtMs: T + 2 });
  });

  it('keeps an open trip open, a commission booked before its fill, late funding on the last trip, and sessions apart', () => {
    const events: WalEvent[] = [
      start(T),
      fee('o1', '0.04', '1', T), // the commission arrived first
      fill('BUY', '1', '100', 'o1', T + 1),
      fill('SELL', '1', '101', 'o2', T + 2),
      funding('0.5', 'f1', T + 3), // booked after the close: paid on that position
      funding('0.25', 'f2', T + 3, null), // the exchange named no symbol
      fill('SELL', '0.5', '101', 'o3', T + 4, 'ETHUSDT'),
      { type: 'session.closed', userId: 'al', atMs: T + 5 },
      start(T + 6),
      fill('BUY', '2', '50', 'o4', T + 7), // a new session: a new trip, never a close of the old short
    ];
    const trips = buildRoundTrips(ledgerOf(events));
    expect(trips.closed.map(money)).toEqual([['BTCUSDT', 'long', '1', '1', '1', '0.04', '0.5', '1.46']]);
    expect(trips.open.map((t) => [t.sessionId, ...money(t)])).toEqual([
      [`al:${T}`, 'ETHUSDT', 'short', '0.5', '0', '0', '0', '0', '0'],
      [`al:${T + 6}`, 'BTCUSDT', 'long', '2', '0', '0', '0', '0', '0'],
    ]);
    expect(trips.unattributedUsd).toBe('0.25');
    expect(trips.entries).toBe(7);
  });

  it('books an exchange fill (a fired stop) with its own realized PnL and commission', () => {
    const events: WalEvent[] = [
      start(T),
      fill('BUY', '0.1', '100', 'o1', T + 1),
      {
        type: 'exchange_fill',
        userId: 'al',
        symbol: 'BTCUSDT',
        side: 'SELL',
        qty: q('0.1'),
        price: p('95'),
        realizedPnlUsd: usd('-0.5'),
        feeUsd: usd('0.004'),
        exchangeOrderId: '77',
        clientOrderId: 'qs-1',
        cumQty: q('0.1'),
        cause: 'protective_stop',
        atMs: T + 2,
      },
    ];
    expect(buildRoundTrips(ledgerOf(events)).closed.map(money)).toEqual([['BTCUSDT', 'long', '0.1', '0.1', '-0.5', '0.004', '0', '-0.504']]);
  });
});

describe('profit, daily and performance', () => {
  const trip = (symbol: string, net: string, closedAtMs: number): RoundTrip => ({
    userId: 'al',
    sessionId: 's',
    symbol,
    side: 'long',
    openedAtMs: closedAtMs - 1,
    closedAtMs,
    openedQty: q('1'),
    closedQty: q('1'),
    avgEntryPrice: p('1'),
    avgExitPrice: p('1'),
    realizedPnlUsd: usd(net),
    feesUsd: zero,
    fundingUsd: zero,
    netPnlUsd: usd(net),
    fills: 2,
  });
  const closed = [
    trip('BTCUSDT', '5', T - day),
    trip('ETHUSDT', '-3', T - day + 5),
    trip('ETHUSDT', '-4', T + 1),
    trip('SOLUSDT', '10', T + 2),
    trip('SOLUSDT', '0', T + 3),
  ];

  it('/profit: count, win rate, totals, best and worst symbol, max drawdown of the cumulative net', () => {
    const summary = profitSummary({ closed, open: [] });
    expect(summary).toMatchObject({
      closedTrades: 5,
      wins: 2,
      losses: 2,
      draws: 1,
      winRatePct: 40,
      netPnlUsd: '8',
      bestSymbol: { symbol: 'SOLUSDT', trades: 2, netPnlUsd: '10' },
      worstSymbol: { symbol: 'ETHUSDT', trades: 2, netPnlUsd: '-7' },
      maxDrawdownUsd: '7', // 5 → 2 → -2: 7 below the high of 5
      firstClosedAtMs: T - day,
      lastClosedAtMs: T + 3,
    });
    expect(profitSummary({ closed: [], open: [] })).toMatchObject({ closedTrades: 0, winRatePct: null, bestSymbol: null, maxDrawdownUsd: '0' });
  });

  it('/daily: net per UTC day, newest first, days without a close included', () => {
    expect(dailyProfit(closed, 3, T + 10)).toEqual([
      { day: '2030-01-10', trades: 3, netPnlUsd: '6' },
      { day: '2030-01-09', trades: 2, netPnlUsd: '2' },
      { day: '2030-01-08', trades: 0, netPnlUsd: '0' },
    ]);
    expect(() => dailyProfit(closed, 0, T)).toThrow(/days/);
  });

  it('/performance: per symbol, best first', () => {
    expect(performanceBySymbol(closed).map((r) => [r.symbol, r.trades, r.wins, r.netPnlUsd])).toEqual([
      ['SOLUSDT', 2, 1, '10'],
      ['BTCUSDT', 1, 1, '5'],
      ['ETHUSDT', 2, 0, '-7'],
    ]);
  });
});
