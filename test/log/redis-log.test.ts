import { openRedisLog } from '../../src/log/redis-log.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';
import { contractLimits, logContract } from './contract.js';

logContract('Redis Streams', async () => {
  const prefix = uniquePrefix('log');
  const open = () => openRedisLog({ url: redisUrl, prefix, limits: contractLimits });
  return { log: await open(), reopen: open, cleanup: () => deletePrefix(prefix) };
});
