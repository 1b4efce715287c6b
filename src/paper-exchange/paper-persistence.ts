// Write-ahead for the paper exchange (issue 17): every change the exchange confirms to a client (an order
// accepted, a fill, a cancel, an algo trigger, a funding payment, a liquidation) is written to the state store
// BEFORE the HTTP answer or the user-stream push that confirms it. The exchange marks what it changed; pushes wait
// in `afterCommit` until `commit` has written the changed rows in one synchronous transaction. The server commits
// after each request's handler and after each price step's matching; a microtask commits whatever else changed
// (a timer's funding, a test handle's call), before any I/O can run.
//
// Prices are not confirmed state (nothing a client was told depends on the exact last mid), so they are
// checkpointed every `priceCheckpointIntervalMs`: a crash loses at most that much of the price path.
import type { AlgoOrder } from './algo-orders.js';
import type { FundingSettings } from './funding.js';
import type { SimOrder } from './matching.js';
import { addKeptRowChanges, type KeptList, keptLists, type StoredRange } from './kept-rows.js';
import {
  accountRow,
  algoRow,
  countersRow,
  incomeRow,
  tradeRow,
  listenKeysRow,
  marketRow,
  metaNames,
  orderRow,
  prngRow,
  restoreExchange,
  type RestoreTargets,
  toJson,
} from './snapshot-of.js';
import { emptyChanges, type PaperStateChanges, type PaperStateStore } from './state-store.js';

/** How often the price process's last prices and clock are written, ms. */
export const priceCheckpointIntervalMs = 1_000;

/** What is restored (snapshot-of.ts), and the funding settings read back for each write. */
export interface PersistedParts extends RestoreTargets {
  funding: () => FundingSettings;
}

export class PaperPersistence {
  private readonly dirtyAccounts = new Set<string>();
  private readonly dirtyOrders = new Set<SimOrder>();
  private readonly dirtyAlgos = new Set<AlgoOrder>();
  /** Ids of the orders and conditional orders the exchange forgot since the last commit: their rows are deleted. */
  private readonly forgottenOrders = new Set<number>();
  private readonly forgottenAlgos = new Set<number>();
  private listenKeysChanged = false;
  private pushes: (() => void)[] = [];
  private scheduled = false;
  /** Per kept list (kept-rows.ts) and account, the ids of the newest and the oldest records stored. */
  private stored: Record<KeptList, Map<string, StoredRange>> = { income: new Map(), trades: new Map() };

  constructor(
    private readonly store: PaperStateStore | undefined,
    private readonly parts: PersistedParts,
  ) {}

  /** Loads what the store holds into the (blank) exchange; false when it held nothing. */
  restore(nowMs: number): boolean {
    const rows = this.store?.load();
    if (!rows) return false;
    this.stored = restoreExchange(rows, this.parts, nowMs);
    return true;
  }

  markOrder(order: SimOrder): void {
    if (!this.store) return;
    this.dirtyOrders.add(order);
    this.markAccount(order.accountKey);
  }

  /** Orders the exchange forgot (order-forgetting.ts): their rows are deleted with the next commit. */
  forgetOrders(orders: readonly SimOrder[]): void {
    this.forget(orders, this.dirtyOrders, this.forgottenOrders, (o) => o.orderId);
  }

  /** Conditional orders the exchange forgot: their rows are deleted with the next commit. */
  forgetAlgoOrders(orders: readonly AlgoOrder[]): void {
    this.forget(orders, this.dirtyAlgos, this.forgottenAlgos, (o) => o.algoId);
  }

  private forget<T extends { accountKey: string }>(orders: readonly T[], dirty: Set<T>, forgotten: Set<number>, idOf: (order: T) => number): void {
    if (!this.store) return;
    for (const order of orders) {
      dirty.delete(order);
      forgotten.add(idOf(order));
      this.markAccount(order.accountKey);
    }
  }

  markAlgo(order: AlgoOrder): void {
    if (!this.store) return;
    this.dirtyAlgos.add(order);
    this.markAccount(order.accountKey);
  }

  markAccount(accountKey: string): void {
    if (!this.store) return;
    this.dirtyAccounts.add(accountKey);
    this.schedule();
  }

  /** A listen key was made, extended or removed: the keys are written before the answer that hands one out. */
  markListenKeys(): void {
    if (!this.store) return;
    this.listenKeysChanged = true;
    this.schedule();
  }

  /** Runs `push` once everything changed so far is durable (at once without a store). */
  afterCommit(push: () => void): void {
    if (!this.store) {
      push();
      return;
    }
    this.pushes.push(push);
    this.schedule();
  }

  /** Writes every changed row in one transaction, then lets the pushes that confirm them out. */
  commit(): void {
    const store = this.store;
    if (!store) return;
    if (this.dirtyAccounts.size > 0 || this.listenKeysChanged) {
      const changes = emptyChanges();
      if (this.dirtyAccounts.size > 0) this.addAccountChanges(changes);
      if (this.listenKeysChanged) changes.meta.set(metaNames.listenKeys, listenKeysRow(this.parts.listenKeys));
      store.commit(changes);
      this.dirtyAccounts.clear();
      this.dirtyOrders.clear();
      this.dirtyAlgos.clear();
      this.forgottenOrders.clear();
      this.forgottenAlgos.clear();
      this.listenKeysChanged = false;
    }
    const pushes = this.pushes;
    this.pushes = [];
    for (const push of pushes) push();
  }

  /** The rows of the changed accounts: the account, its new income entries and trades, its changed orders, the id counters. */
  private addAccountChanges(changes: PaperStateChanges): void {
    const { engine, margin, algo } = this.parts;
    for (const key of this.dirtyAccounts) {
      if (!engine.hasAccount(key)) continue;
      const account = engine.account(key);
      changes.accounts.set(key, accountRow(account, margin.settingsOf(key)));
      const { income, trades } = this.stored;
      const newIncome = addKeptRowChanges(changes.kept.income, key, account.income, (r) => r.tranId, incomeRow, income.get(key));
      if (newIncome !== undefined) income.set(key, newIncome);
      const newTrades = addKeptRowChanges(changes.kept.trades, key, account.trades, (t) => t.id, tradeRow, trades.get(key));
      if (newTrades !== undefined) trades.set(key, newTrades);
    }
    for (const order of this.dirtyOrders) changes.orders.set(order.orderId, { accountKey: order.accountKey, data: orderRow(order) });
    changes.ordersForgotten.push(...this.forgottenOrders);
    changes.algoOrdersForgotten.push(...this.forgottenAlgos);
    for (const order of this.dirtyAlgos) changes.algoOrders.set(order.algoId, { accountKey: order.accountKey, data: algoRow(order) });
    changes.meta.set(metaNames.counters, countersRow(engine, algo, margin));
  }

  /**
   * The price process's last prices and clock, its PRNGs' states (in the same transaction, so a restart continues
   * the draws from the prices they led to), and the funding settings (not confirmed state: periodic).
   */
  checkpointPrices(): void {
    if (!this.store) return;
    const changes = emptyChanges();
    for (const [symbol, market] of this.parts.markets) changes.meta.set(metaNames.market(symbol), marketRow(market));
    changes.meta.set(metaNames.prngs, prngRow(this.parts.prngs));
    changes.meta.set(metaNames.funding, toJson(this.parts.funding()));
    this.store.commit(changes);
  }

  /**
   * A blank paper account (one, or every account): forgotten in memory and erased from the store. Ids keep
   * increasing and prices continue; the client learns of it as of a real account changed behind its back.
   */
  resetAccounts(accountKey?: string): string[] {
    const keys = accountKey === undefined ? this.parts.engine.accountKeys() : [accountKey];
    this.commit();
    for (const key of keys) {
      this.parts.engine.dropAccount(key);
      this.parts.algo.dropAccount(key);
      this.parts.margin.dropAccount(key);
      for (const list of keptLists) this.stored[list].delete(key);
      this.store?.reset(key);
    }
    return keys;
  }

  close(): void {
    this.commit();
    this.checkpointPrices();
    this.store?.close();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.commit();
    });
  }
}
