import Database from 'better-sqlite3';
import { createClient } from '@redis/client';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

// Where sealed exchange keys rest: one opaque blob per user, beside the log (a Redis hash, or a table in the
// same SQLite file). The store never sees a key in clear: sealing and opening happen in key-vault.ts.

export const keyStoreName = 'keys:exchange';

export interface KeyStore {
  put(userId: string, sealedBlob: string): Promise<void>;
  get(userId: string): Promise<string | null>;
  /** True when something was deleted. */
  delete(userId: string): Promise<boolean>;
  /** Every user with a stored blob, with the blob. */
  all(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export function memoryKeyStore(): KeyStore {
  const blobs = new Map<string, string>();
  return {
    put: async (userId, blob) => void blobs.set(userId, blob),
    get: async (userId) => blobs.get(userId) ?? null,
    delete: async (userId) => blobs.delete(userId),
    all: async () => Object.fromEntries(blobs),
    close: async () => undefined,
  };
}

/** `name`: the hash under the prefix (other small per-user stores of the bot reuse this one's shape). */
export async function redisKeyStore(url: string, prefix: string, name = keyStoreName): Promise<KeyStore> {
  const key = `${prefix}${name}`;
  const client = createClient({ url, disableOfflineQueue: true });
  client.on('error', () => undefined); // surfaced through rejected commands
  await client.connect();
  return {
    put: async (userId, blob) => void (await client.hSet(key, userId, blob)),
    get: async (userId) => (await client.hGet(key, userId)) ?? null,
    delete: async (userId) => (await client.hDel(key, userId)) > 0,
    all: async () => client.hGetAll(key),
    close: async () => client.destroy(),
  };
}

/** A per-user text table in a SQLite file: which table, and what its text column holds. */
export interface SqliteUserTable {
  table: string;
  column: string;
}
const exchangeKeysTable: SqliteUserTable = { table: 'exchange_keys', column: 'sealed' };

export function sqliteKeyStore(path: string, where: SqliteUserTable = exchangeKeysTable): KeyStore {
  const { table, column } = where;
  if (!/^[a-z_]+$/.test(table) || !/^[a-z_]+$/.test(column)) throw new Error(`not a plain SQL name: ${table}.${column}`);
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (user_id TEXT PRIMARY KEY, ${column} TEXT NOT NULL)`);
  const upsert = db.prepare(`INSERT INTO ${table} (user_id, ${column}) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET ${column} = excluded.${column}`);
  const select = db.prepare(`SELECT ${column} AS blob FROM ${table} WHERE user_id = ?`);
  const remove = db.prepare(`DELETE FROM ${table} WHERE user_id = ?`);
  const list = db.prepare(`SELECT user_id AS userId, ${column} AS blob FROM ${table}`);
  return {
    put: async (userId, blob) => void upsert.run(userId, blob),
    get: async (userId) => (select.get(userId) as { blob: string } | undefined)?.blob ?? null,
    delete: async (userId) => remove.run(userId).changes > 0,
    all: async () => Object.fromEntries((list.all() as { userId: string; blob: string }[]).map((r) => [r.userId, r.blob])),
    close: async () => void db.close(),
  };
}

/** Beside the log: Redis when a URL is given, else the SQLite file. */
export async function openKeyStore(choice: { redisUrl?: string | undefined; redisPrefix?: string; sqlitePath: string }): Promise<KeyStore> {
  if (choice.redisUrl) return redisKeyStore(choice.redisUrl, choice.redisPrefix ?? '');
  return sqliteKeyStore(choice.sqlitePath);
}
