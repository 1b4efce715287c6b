// Where the paper exchange keeps its state across restarts (issue 17): a port with a SQLite implementation
// (its own tables, in the engine's file under `npm start` or in the file of `simulator --state PATH`) and a
// memory one (tests that restart an exchange inside one process).
//
// Shape: rows of JSON, one per thing that changes on its own: an account (wallet, positions, margin settings),
// an order, a conditional (algo) order, an income entry (append only), and a few named meta rows (id counters,
// each symbol's last price and clock, funding settings). A change writes only the rows it touched, in one
// transaction, so the cost of a fill does not grow with the order history. Why rows rather than a journal of
// exchange events replayed at start: the restore is then a read of the current state, with no replay code to keep
// in step with the matching rules (a journal would re-run matching, and a change of matching would change the past).
import Database from 'better-sqlite3';

/** One transaction's worth of changed rows (JSON text, already serialised by snapshot-of.ts). */
export interface PaperStateChanges {
  meta: Map<string, string>;
  accounts: Map<string, string>;
  orders: Map<number, { accountKey: string; data: string }>;
  algoOrders: Map<number, { accountKey: string; data: string }>;
  income: { tranId: number; accountKey: string; data: string }[];
  /** Per account, the tranId below which its income rows are deleted (records the exchange no longer keeps). */
  incomeDroppedBelow: Map<string, number>;
}

/** Everything stored, in id order (orders oldest first, so the latest order of a client id restores last). */
export interface PaperStateRows {
  meta: Map<string, string>;
  accounts: Map<string, string>;
  orders: string[];
  algoOrders: string[];
  income: { accountKey: string; data: string }[];
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

export function emptyChanges(): PaperStateChanges {
  return { meta: new Map(), accounts: new Map(), orders: new Map(), algoOrders: new Map(), income: [], incomeDroppedBelow: new Map() };
}

export function isEmptyChanges(c: PaperStateChanges): boolean {
  return c.meta.size + c.accounts.size + c.orders.size + c.algoOrders.size + c.income.length + c.incomeDroppedBelow.size === 0;
}

const schema = `
CREATE TABLE IF NOT EXISTS paper_meta (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paper_accounts (account_key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paper_orders (order_id INTEGER PRIMARY KEY, account_key TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paper_algo_orders (algo_id INTEGER PRIMARY KEY, account_key TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paper_income (tran_id INTEGER PRIMARY KEY, account_key TEXT NOT NULL, data TEXT NOT NULL);
`;
const accountTables = ['paper_accounts', 'paper_orders', 'paper_algo_orders', 'paper_income'] as const;

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
  const putAlgo = db.prepare(
    'INSERT INTO paper_algo_orders (algo_id, account_key, data) VALUES (?, ?, ?) ON CONFLICT(algo_id) DO UPDATE SET data = excluded.data',
  );
  const putIncome = db.prepare('INSERT OR REPLACE INTO paper_income (tran_id, account_key, data) VALUES (?, ?, ?)');
  // A range of the primary key, then the account: a block of dropped records at a time (income-history.ts).
  const dropIncome = db.prepare('DELETE FROM paper_income WHERE tran_id < ? AND account_key = ?');
  const commit = db.transaction((c: PaperStateChanges) => {
    for (const [name, data] of c.meta) putMeta.run(name, data);
    for (const [key, data] of c.accounts) putAccount.run(key, data);
    for (const [id, row] of c.orders) putOrder.run(id, row.accountKey, row.data);
    for (const [id, row] of c.algoOrders) putAlgo.run(id, row.accountKey, row.data);
    for (const row of c.income) putIncome.run(row.tranId, row.accountKey, row.data);
    for (const [key, below] of c.incomeDroppedBelow) dropIncome.run(below, key);
  });
  const reset = db.transaction((accountKey: string | undefined) => {
    for (const table of accountTables) {
      if (accountKey === undefined) db.prepare(`DELETE FROM ${table}`).run();
      else db.prepare(`DELETE FROM ${table} WHERE account_key = ?`).run(accountKey);
    }
  });
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
        income: (db.prepare('SELECT account_key AS accountKey, data FROM paper_income ORDER BY tran_id').all() as { accountKey: string; data: string }[]).map(
          (r) => ({ accountKey: r.accountKey, data: r.data }),
        ),
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
  const income = new Map<number, { accountKey: string; data: string }>();
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
        income: sorted(income),
      };
    },
    commit(c) {
      for (const [k, v] of c.meta) meta.set(k, v);
      for (const [k, v] of c.accounts) accounts.set(k, v);
      for (const [k, v] of c.orders) orders.set(k, v);
      for (const [k, v] of c.algoOrders) algoOrders.set(k, v);
      for (const row of c.income) income.set(row.tranId, { accountKey: row.accountKey, data: row.data });
      for (const [key, below] of c.incomeDroppedBelow) for (const [id, row] of income) if (id < below && row.accountKey === key) income.delete(id);
    },
    reset(accountKey) {
      if (accountKey === undefined) {
        for (const m of [accounts, orders, algoOrders, income]) m.clear();
        return;
      }
      accounts.delete(accountKey);
      for (const m of [orders, algoOrders, income]) dropAccount(m, accountKey);
    },
    close: () => undefined,
  };
}
