import { randomBytes } from 'node:crypto';
import { deleteKeysWithPrefix } from '../../src/log/redis-keys.js';

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(label: string): string {
  return `test:${label}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under the prefix (never FLUSHALL: the Redis is shared with other tests). */
export function deletePrefix(prefix: string): Promise<void> {
  return deleteKeysWithPrefix(redisUrl, prefix);
}
