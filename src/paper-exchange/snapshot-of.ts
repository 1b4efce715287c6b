// The paper exchange's state as rows of JSON (state-store.ts), and back. One serialize/restore pair per thing
// kept; a new field of an order or an account is carried as it is (bigints tagged, Maps as entry lists), so
// adding one needs no change here unless it is a Map or a Set.
import type { AlgoBook, AlgoOrder } from './algo-orders.js';
import type { AccountSettings, MarginBook } from './margin.js';
import type { IncomeRecord, MatchingCounters, MatchingEngine, SimAccount, SimOrder, SimPosition } from './matching.js';
import type { MarketCheckpoint, Mulberry32, SymbolMarket } from './price-process.js';
import type { FundingSettings } from './funding.js';
import type { ListenKeys, StoredListenKey } from './listen-keys.js';
import type { PaperStateRows } from './state-store.js';
import { keepIncome } from './income-history.js';
import { type KeptList, noteRestored, type StoredRange } from './kept-rows.js';
import { keepTrade, type SimTrade } from './trade-history.js';

const bigintTag = '$bigint';

/** JSON with exact bigints: `{"$bigint":"-166"}`, never a float. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? { [bigintTag]: v.toString() } : v));
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const tagged = (v as Record<string, unknown>)[bigintTag];
      if (typeof tagged === 'string' && Object.keys(v).length === 1) return BigInt(tagged);
    }
    return v;
  }) as T;
}

/** An account row: the wallet, positions and margin settings (orders and income have rows of their own). */
interface StoredAccount {
  walletBalance: number;
  positions: [string, SimPosition][];
  /** feeBurn is absent from rows written before the flag was kept: off. */
  margin?: { dualSidePosition: boolean; multiAssetsMargin: boolean; feeBurn?: boolean; leverage: [string, number][]; marginType: [string, string][] };
}

export function accountRow(account: SimAccount, margin: AccountSettings | undefined): string {
  const stored: StoredAccount = { walletBalance: account.walletBalance, positions: [...account.positions.entries()] };
  if (margin) {
    stored.margin = {
      dualSidePosition: margin.dualSidePosition,
      multiAssetsMargin: margin.multiAssetsMargin,
      feeBurn: margin.feeBurn,
      leverage: [...margin.leverage.entries()],
      marginType: [...margin.marginType.entries()],
    };
  }
  return toJson(stored);
}

export function orderRow(order: SimOrder): string {
  return toJson(order);
}

export function algoRow(order: AlgoOrder): string {
  return toJson(order);
}

export function incomeRow(entry: IncomeRecord): string {
  return toJson(entry);
}

export function tradeRow(trade: SimTrade): string {
  return toJson(trade);
}

/** Everything that is one per exchange: the id counters of each book. */
export interface StoredCounters {
  matching: MatchingCounters;
  nextAlgoId: number;
  autoclose: number;
}

export function countersRow(engine: MatchingEngine, algo: AlgoBook, margin: MarginBook): string {
  return toJson({ matching: engine.counters(), nextAlgoId: algo.nextId, autoclose: margin.autocloseCounter } satisfies StoredCounters);
}

export const metaNames = {
  counters: 'counters',
  funding: 'funding',
  market: (symbol: string) => `market:${symbol}`,
  prngs: 'prngs',
  listenKeys: 'listenKeys',
};

export function marketRow(market: SymbolMarket): string {
  return toJson(market.checkpoint());
}

/** The exchange's two PRNGs: the price walk's (shared by every symbol) and the depth's (shared likewise). */
export interface ExchangePrngs {
  price: Mulberry32;
  book: Mulberry32;
}

interface StoredPrngs {
  price: number;
  book: number;
}

export function prngRow(prngs: ExchangePrngs): string {
  return toJson({ price: prngs.price.state, book: prngs.book.state } satisfies StoredPrngs);
}

export function listenKeysRow(keys: ListenKeys): string {
  return toJson(keys.stored());
}

export interface RestoreTargets {
  engine: MatchingEngine;
  algo: AlgoBook;
  margin: MarginBook;
  markets: ReadonlyMap<string, SymbolMarket>;
  prngs: ExchangePrngs;
  listenKeys: ListenKeys;
  setFunding: (settings: FundingSettings) => void;
}

/**
 * Rebuilds the exchange from stored rows; returns, per kept list and account, the ids of the newest and the oldest
 * records stored (kept-rows.ts). Records past a list's bound are dropped as they are read (a store written before the
 * bound), and their rows with the account's next commit.
 */
export function restoreExchange(rows: PaperStateRows, t: RestoreTargets, nowMs: number): Record<KeptList, Map<string, StoredRange>> {
  const counters = rows.meta.get(metaNames.counters);
  const stored = counters === undefined ? undefined : fromJson<StoredCounters>(counters);
  for (const [key, text] of rows.accounts) {
    const a = fromJson<StoredAccount>(text);
    const account = t.engine.account(key);
    account.walletBalance = a.walletBalance;
    account.positions = new Map(a.positions);
    t.engine.notePositions(account);
    if (a.margin) {
      t.margin.restoreSettings(key, {
        dualSidePosition: a.margin.dualSidePosition,
        multiAssetsMargin: a.margin.multiAssetsMargin,
        feeBurn: a.margin.feeBurn ?? false,
        leverage: new Map(a.margin.leverage),
        marginType: new Map(a.margin.marginType) as AccountSettings['marginType'],
      });
    }
  }
  for (const text of rows.orders) t.engine.restoreOrder(fromJson<SimOrder>(text));
  t.algo.restore(
    stored?.nextAlgoId ?? t.algo.nextId,
    rows.algoOrders.map((text) => fromJson<AlgoOrder>(text)),
  );
  const ranges: Record<KeptList, Map<string, StoredRange>> = { income: new Map(), trades: new Map() };
  for (const row of rows.kept.income) {
    const record = fromJson<IncomeRecord>(row.data);
    keepIncome(t.engine.account(row.accountKey).income, record);
    noteRestored(ranges.income, row.accountKey, record.tranId);
  }
  for (const row of rows.kept.trades) {
    const trade = fromJson<SimTrade>(row.data);
    keepTrade(t.engine.account(row.accountKey).trades, trade);
    noteRestored(ranges.trades, row.accountKey, trade.id);
  }
  if (stored) {
    t.engine.restoreCounters(stored.matching);
    t.margin.autocloseCounter = stored.autoclose;
  }
  for (const [symbol, market] of t.markets) {
    const cp = rows.meta.get(metaNames.market(symbol));
    if (cp !== undefined) market.resume(fromJson<MarketCheckpoint>(cp), nowMs);
  }
  // After the markets' redraws (which move the depth PRNG): the draws continue where the checkpoint left them. A
  // state stored before the PRNGs were kept has none: those draws start from the seed again.
  const prngs = rows.meta.get(metaNames.prngs);
  if (prngs !== undefined) {
    const states = fromJson<StoredPrngs>(prngs);
    t.prngs.price.state = states.price;
    t.prngs.book.state = states.book;
  }
  const funding = rows.meta.get(metaNames.funding);
  if (funding !== undefined) t.setFunding(fromJson<FundingSettings>(funding));
  const listenKeys = rows.meta.get(metaNames.listenKeys);
  if (listenKeys !== undefined) t.listenKeys.restore(fromJson<StoredListenKey[]>(listenKeys), nowMs);
  return ranges;
}
