// Where the paper exchange keeps its state across restarts (issue 17): a port with a SQLite implementation
// (its own tables, in the engine's file under `npm start` or in the file of `simulator --state PATH`) and a
// memory one (tests that restart an exchange inside one process).
//
// Shape: rows of JSON, one per thing that changes on its own: an account (wallet, positions, margin settings),
// an order, a conditional (algo) order, an income entry or a trade (kept lists: kept-rows.ts), and a few named meta rows (id counters,
// each symbol's last price and clock, funding settings). A change writes only the rows it touched, in one
// transaction, so the cost of a fill does not grow with the order history. Why rows rather than a journal of
// exchange events replayed at start: the restore is then a read of the current state, with no replay code to keep
// in step with the matching rules (a journal would re-run matching, and a change of matching would change the past).
import Database from 'better-sqlite3';
import { type KeptList, type KeptRowChanges, keptLists } from './kept-rows.js';

/** One transaction's worth of changed rows (JSON text, already serialised by snapshot-of.ts). */
export interface PaperStateChanges {
  meta: Map<string, string>;
  accounts: Map<string, string>;
  orders: Map<number, { accountKey: string; data: string }>;
  algoOrders: Map<number, { accountKey: string; data: string }>;
  /** Orders and conditional orders the exchange forgot (order-forgetting.ts): their rows go. */
  ordersForgotten: number[];
  algoOrdersForgotten: number[];
  /** The kept lists' new rows and dropped ones (kept-rows.ts): income records by tranId, trades by trade id. */
  kept: Record<KeptList, KeptRowChanges>;
}

/** Everything stored, in id order (orders oldest first, so the latest order of a client id restores last). */
export interface PaperStateRows {
  meta: Map<string, string>;
  accounts: Map<string, string>;
  orders: string[];
  algoOrders: string[];
  /** Each kept list's rows, oldest first. */
  kept: Record<KeptList, { accountKey: string; data: string }[]>;
}

export interface PaperStateStore {
  /** Undefined when nothing was ever stored (a blank exchange). */
  load(): PaperStateRows | undefined;
  /** Writes every row of `changes` in one durable transaction; returns after the commit. */
  commit(changes: PaperStateChanges): void;
  /**
   * Erases accounts (one, or all when `accountKey` is undefined): a blank paper account. The meta rows stay, so
   * ids keep increasing (the engine never meets a reused order id) and prices continue.
   */
  reset(accountKey?: string): void;
  close(): void;
}

const noKeptChanges = (): KeptRowChanges => ({ rows: [], droppedBelow: new Map() });

export function emptyChanges(): PaperStateChanges {
  return {
    meta: new Map(),
    accounts: new Map(),
    orders: new Map(),
    algoOrders: new Map(),
    ordersForgotten: [],
    algoOrdersForgotten: [],
    kept: { income: noKeptChanges(), trades: noKeptChanges() },
  };
}

export function isEmptyChanges(c: PaperStateChanges): boolean {
  const kept = keptLists.reduce((sum, list) => sum + c.kept[list].rows.length + c.kept[list].droppedBelow.size, 0);
  return c.meta.size + c.accounts.size + c.orders.size + c.algoOrders.size + c.ordersForgotten.length + c.algoOrdersForgotten.length + kept === 0;
}

const schema = `
CREATE TABLE IF NOT EXISTS paper_meta (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paper_accounts (account_key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paper_orders (order_id INTEGER PRIMARY KEY, account_key TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paper_algo_orders (algo_id INTEGER PRIMARY KEY, account_key TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paper_income (tran_id INTEGER PRIMARY KEY, account_key TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paper_trades (trade_id INTEGER PRIMARY KEY, account_key TEXT NOT NULL, data TEXT NOT NULL);
`;
/** Each kept list's table and its id column (a file written before trades were kept has no trades: none restored). */
const keptTables: Record<KeptList, { table: string; id: string }> = {
  income: { table: 'paper_income', id: 'tran_id' },
  trades: { table: 'paper_trades', id: 'trade_id' },
};
const accountTables = ['paper_accounts', 'paper_orders', 'paper_algo_orders', ...keptLists.map((list) => keptTables[list].table)];

/**
 * The SQLite store: its own connection to `path`, WAL journal and synchronous=FULL like the engine's log
 * (src/log/sqlite-log.ts), so a commit has reached the disk when `commit` returns.
 */
export function openSqlitePaperState(path: string): PaperStateStore {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(schema);
  const putMeta = db.prepare('INSERT INTO paper_meta (name, data) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data');
  const putAccount = db.prepare('INSERT INTO paper_accounts (account_key, data) VALUES (?, ?) ON CONFLICT(account_key) DO UPDATE SET data = excluded.data');
  const putOrder = db.prepare(
    'INSERT INTO paper_orders (order_id, account_key, data) VALUES (?, ?, ?) ON CONFLICT(order_id) DO UPDATE SET data = excluded.data',
  );
  const dropOrder = db.prepare('DELETE FROM paper_orders WHERE order_id = ?');
  const dropAlgo = db.prepare('DELETE FROM paper_algo_orders WHERE algo_id = ?');
  const putAlgo = db.prepare(
    'INSERT INTO paper_algo_orders (algo_id, account_key, data) VALUES (?, ?, ?) ON CONFLICT(algo_id) DO UPDATE SET data = excluded.data',
  );
  const keptStatements = (list: KeptList): { put: Database.Statement; drop: Database.Statement } => {
    const { table, id } = keptTables[list];
    return {
      put: db.prepare(`INSERT OR REPLACE INTO ${table} (${id}, account_key, data) VALUES (?, ?, ?)`),
      // A range of the primary key, then the account: a block of dropped records at a time (kept-rows.ts).
      drop: db.prepare(`DELETE FROM ${table} WHERE ${id} < ? AND account_key = ?`),
    };
  };
  const kept = { income: keptStatements('income'), trades: keptStatements('trades') };
  const commit = db.transaction((c: PaperStateChanges) => {
    for (const [name, data] of c.meta) putMeta.run(name, data);
    for (const [key, data] of c.accounts) putAccount.run(key, data);
    for (const [id, row] of c.orders) putOrder.run(id, row.accountKey, row.data);
    for (const id of c.ordersForgotten) dropOrder.run(id);
    for (const [id, row] of c.algoOrders) putAlgo.run(id, row.accountKey, row.data);
    for (const id of c.algoOrdersForgotten) dropAlgo.run(id);
    for (const list of keptLists) {
      for (const row of c.kept[list].rows) kept[list].put.run(row.id, row.accountKey, row.data);
      for (const [key, below] of c.kept[list].droppedBelow) kept[list].drop.run(below, key);
    }
  });
  const reset = db.transaction((accountKey: string | undefined) => {
    for (const table of accountTables) {
      if (accountKey === undefined) db.prepare(`DELETE FROM ${table}`).run();
      else db.prepare(`DELETE FROM ${table} WHERE account_key = ?`).run(accountKey);
    }
  });
  const keptRows = (list: KeptList): { accountKey: string; data: string }[] => {
    const { table, id } = keptTables[list];
    return db.prepare(`SELECT account_key AS accountKey, data FROM ${table} ORDER BY ${id}`).all() as { accountKey: string; data: string }[];
  };
  return {
    load() {
      const meta = new Map((db.prepare('SELECT name, data FROM paper_meta').all() as { name: string; data: string }[]).map((r) => [r.name, r.data]));
      if (meta.size === 0) return undefined;
      const accounts = db.prepare('SELECT account_key AS k, data FROM paper_accounts').all() as { k: string; data: string }[];
      return {
        meta,
        accounts: new Map(accounts.map((r) => [r.k, r.data])),
        orders: (db.prepare('SELECT data FROM paper_orders ORDER BY order_id').all() as { data: string }[]).map((r) => r.data),
        algoOrders: (db.prepare('SELECT data FROM paper_algo_orders ORDER BY algo_id').all() as { data: string }[]).map((r) => r.data),
        kept: { income: keptRows('income'), trades: keptRows('trades') },
      };
    },
    commit: (c) => commit(c),
    reset: (accountKey) => reset(accountKey),
    close: () => db.close(),
  };
}

/** The memory store: survives a close/start of the exchange inside one process only. */
export function memoryPaperState(): PaperStateStore {
  const meta = new Map<string, string>();
  const accounts = new Map<string, string>();
  const orders = new Map<number, { accountKey: string; data: string }>();
  const algoOrders = new Map<number, { accountKey: string; data: string }>();
  const kept: Record<KeptList, Map<number, { accountKey: string; data: string }>> = { income: new Map(), trades: new Map() };
  const sorted = (m: Map<number, { accountKey: string; data: string }>): { accountKey: string; data: string }[] =>
    [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, row]) => row);
  const dropAccount = (m: Map<number, { accountKey: string }>, key: string): void => {
    for (const [id, row] of m) if (row.accountKey === key) m.delete(id);
  };
  return {
    load() {
      if (meta.size === 0) return undefined;
      return {
        meta: new Map(meta),
        accounts: new Map(accounts),
        orders: sorted(orders).map((r) => r.data),
        algoOrders: sorted(algoOrders).map((r) => r.data),
        kept: { income: sorted(kept.income), trades: sorted(kept.trades) },
      };
    },
    commit(c) {
      for (const [k, v] of c.meta) meta.set(k, v);
      for (const [k, v] of c.accounts) accounts.set(k, v);
      for (const [k, v] of c.orders) orders.set(k, v);
      for (const id of c.ordersForgotten) orders.delete(id);
      for (const [k, v] of c.algoOrders) algoOrders.set(k, v);
      for (const id of c.algoOrdersForgotten) algoOrders.delete(id);
      for (const list of keptLists) {
        const rows = kept[list];
        for (const row of c.kept[list].rows) rows.set(row.id, { accountKey: row.accountKey, data: row.data });
        for (const [key, below] of c.kept[list].droppedBelow) for (const [id, row] of rows) if (id < below && row.accountKey === key) rows.delete(id);
      }
    },
    reset(accountKey) {
      if (accountKey === undefined) {
        for (const m of [accounts, orders, algoOrders, kept.income, kept.trades]) m.clear();
        return;
      }
      accounts.delete(accountKey);
      for (const m of [orders, algoOrders, kept.income, kept.trades]) dropAccount(m, accountKey);
    },
    close: () => undefined,
  };
}
