import type { RedisConnection } from '../log/redis-connection.js';
import { runScript, script } from '../log/redis-fence.js';

// Live execution workers (issue 13): one sorted set of worker ids scored by when their heartbeat ends, in Redis
// server time (TIME), so the hosts' clocks never enter. A beat adds or refreshes this worker, drops the expired
// ones and answers how many are live. Only the rebalancing rule reads it (worker-rules.ts); ownership itself is
// the leases'.

const beatScript = script(`local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs)
redis.call('ZADD', KEYS[1], nowMs + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])`);

/** The registry's key (one key: it lives in one slot of a cluster). */
export function workerRegistryKey(prefix: string): string {
  return `${prefix}workers:exec`;
}

/** Announces `workerId` live for `heartbeatTtlMs`; the number of live workers, itself included. */
export async function workerHeartbeat(conn: RedisConnection, prefix: string, workerId: string, heartbeatTtlMs: number): Promise<number> {
  return Number(await runScript(conn, beatScript, [workerRegistryKey(prefix)], [workerId, String(heartbeatTtlMs)]));
}

/** Leaves the registry at once (a clean stop); a dead worker leaves when its heartbeat ends. */
export async function workerLeave(conn: RedisConnection, prefix: string, workerId: string): Promise<void> {
  await conn.zRem(workerRegistryKey(prefix), workerId);
}
