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

export async function redisKeyStore(url: string, prefix: string): Promise<KeyStore> {
  const key = `${prefix}${keyStoreName}`;
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

export function sqliteKeyStore(path: string): KeyStore {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS exchange_keys (user_id TEXT PRIMARY KEY, sealed TEXT NOT NULL)');
  const upsert = db.prepare('INSERT INTO exchange_keys (user_id, sealed) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed');
  const select = db.prepare('SELECT sealed FROM exchange_keys WHERE user_id = ?');
  const remove = db.prepare('DELETE FROM exchange_keys WHERE user_id = ?');
  const list = db.prepare('SELECT user_id AS userId, sealed FROM exchange_keys');
  return {
    put: async (userId, blob) => void upsert.run(userId, blob),
    get: async (userId) => (select.get(userId) as { sealed: string } | undefined)?.sealed ?? null,
    delete: async (userId) => remove.run(userId).changes > 0,
    all: async () => Object.fromEntries((list.all() as { userId: string; sealed: string }[]).map((r) => [r.userId, r.sealed])),
    close: async () => void db.close(),
  };
}

/** Beside the log: Redis when a URL is given, else the SQLite file. */
export async function openKeyStore(choice: { redisUrl?: string | undefined; redisPrefix?: string; sqlitePath: string }): Promise<KeyStore> {
  if (choice.redisUrl) return redisKeyStore(choice.redisUrl, choice.redisPrefix ?? '');
  return sqliteKeyStore(choice.sqlitePath);
}
