import type { KeyStore } from '../../secrets/key-store.js';
import { memoryKeyStore, redisKeyStore, sqliteKeyStore } from '../../secrets/key-store.js';
import type { NotifyPrefs } from './notify.js';
import { parseStoredPrefs } from './notify.js';

// Where /notify settings rest: the bot's own small store beside the key store, in the same Redis (a hash) or
// the same SQLite file (a table) the bot already opens. Why there and not in the engine's state: these are
// the bot's presentation choices, not trading state — the engine never needs them, they must not go through
// the command stream and WAL (a /notify would then cost an engine decision and a snapshot field), and they
// must outlive a bot restart, which the bot's memory would not.

export const notifyStoreName = 'telegram:notify';
/** Users whose settings are kept in memory; beyond this the least recently used is read again from the store. */
export const maxCachedNotifyUsers = 10_000;

/** The settings as JSON per engine user (the key store's shape: notify.ts reads and checks them). */
export type NotifyStore = Pick<KeyStore, 'get' | 'put' | 'close'>;

export const memoryNotifyStore = (): NotifyStore => memoryKeyStore();

/** Beside the log, like the key store: a Redis hash when a URL is given, else a table in the SQLite file. */
export async function openNotifyStore(choice: { redisUrl?: string | undefined; redisPrefix?: string; sqlitePath: string }): Promise<NotifyStore> {
  if (choice.redisUrl) return redisKeyStore(choice.redisUrl, choice.redisPrefix ?? '', notifyStoreName);
  return sqliteKeyStore(choice.sqlitePath, { table: 'telegram_notify', column: 'prefs' });
}

export const redisNotifyStore = (url: string, prefix: string): Promise<NotifyStore> => redisKeyStore(url, prefix, notifyStoreName);

/** The settings as the bot and the relay use them: read through a bounded cache, written through to the store. */
export interface NotifySettings {
  get(userId: string): Promise<NotifyPrefs>;
  set(userId: string, prefs: NotifyPrefs): Promise<void>;
}

export function createNotifySettings(store: NotifyStore, maxUsers = maxCachedNotifyUsers): NotifySettings {
  const cache = new Map<string, NotifyPrefs>();
  const remember = (userId: string, prefs: NotifyPrefs): void => {
    cache.delete(userId); // re-insert: Map order = least recently used first
    cache.set(userId, prefs);
    if (cache.size > maxUsers) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
  };
  return {
    async get(userId) {
      const cached = cache.get(userId);
      if (cached !== undefined) return cached;
      const prefs = parseStoredPrefs(await store.get(userId));
      remember(userId, prefs);
      return prefs;
    },
    async set(userId, prefs) {
      await store.put(userId, JSON.stringify(prefs));
      remember(userId, prefs);
    },
  };
}
