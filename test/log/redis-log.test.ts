import { openRedisLog } from '../../src/log/redis-log.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';
import { contractReclaimIdleMs, logContract } from './contract.js';

logContract('Redis Streams', async () => {
  const prefix = uniquePrefix('log');
  const open = () => openRedisLog({ url: redisUrl, prefix, limits: { reclaimIdleMs: contractReclaimIdleMs } });
  return { log: await open(), reopen: open, cleanup: () => deletePrefix(prefix) };
});
