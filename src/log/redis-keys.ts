import { createClient } from '@redis/client';

/** Deletes every key under `prefix` (SCAN + DEL; never FLUSHALL: the Redis may be shared). */
export async function deleteKeysWithPrefix(url: string, prefix: string): Promise<void> {
  if (prefix.length === 0) throw new Error('refusing to delete keys without a prefix');
  const client = createClient({ url, disableOfflineQueue: true });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      const list = Array.isArray(keys) ? keys : [keys];
      if (list.length > 0) await client.del(list);
    }
  } finally {
    client.destroy();
  }
}
