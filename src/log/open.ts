import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLimits } from './port.js';
import type { EngineLog } from './port.js';
import { openRedisLog } from './redis-log.js';
import { openSqliteLog } from './sqlite-log.js';

export interface LogChoice {
  redisUrl?: string | undefined;
  redisPrefix?: string;
  sqlitePath: string;
  limits?: Partial<LogLimits>;
}

/** Redis Streams when a URL is given, else the embedded SQLite file (the single-process default). */
export async function openLog(choice: LogChoice): Promise<EngineLog> {
  if (choice.redisUrl) return openRedisLog({ url: choice.redisUrl, prefix: choice.redisPrefix ?? '', limits: choice.limits ?? {} });
  mkdirSync(dirname(choice.sqlitePath), { recursive: true });
  return openSqliteLog({ path: choice.sqlitePath, limits: choice.limits ?? {} });
}
