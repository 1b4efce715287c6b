import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLimits } from './port.js';
import type { EngineLog } from './port.js';
import type { LogFence } from './redis-fence.js';

export interface LogChoice {
  redisUrl?: string | undefined;
  redisPrefix?: string;
  sqlitePath: string;
  limits?: Partial<LogLimits>;
  /** Redis only: a snapshot longer than this (characters) is saved in parts of this size (redis-commit.ts). */
  snapshotPartChars?: number;
  /** Redis only: the writer's lease, checked by every commit and snapshot (src/services/execution/redis-writer.ts). */
  fence?: LogFence;
}

/**
 * Redis Streams when a URL is given, else the embedded SQLite file (the single-process default). Each backend is
 * imported only when chosen: the Redis client alone takes a good part of a second to load, which a CLI call on
 * SQLite should not pay.
 */
export async function openLog(choice: LogChoice): Promise<EngineLog> {
  if (choice.redisUrl) {
    const { openRedisLog } = await import('./redis-log.js');
    return openRedisLog({
      url: choice.redisUrl,
      prefix: choice.redisPrefix ?? '',
      limits: choice.limits ?? {},
      ...(choice.snapshotPartChars !== undefined ? { snapshotPartChars: choice.snapshotPartChars } : {}),
      ...(choice.fence !== undefined ? { fence: choice.fence } : {}),
    });
  }
  mkdirSync(dirname(choice.sqlitePath), { recursive: true });
  const { openSqliteLog } = await import('./sqlite-log.js');
  return openSqliteLog({ path: choice.sqlitePath, limits: choice.limits ?? {} });
}
