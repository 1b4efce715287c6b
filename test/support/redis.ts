import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(label: string): string {
  return `test:${label}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under the prefix (never FLUSHALL: the Redis is shared with other tests). */
export async function deletePrefix(prefix: string): Promise<void> {
  const client = createClient({ url: redisUrl, disableOfflineQueue: true });
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
