import { createClient } from '@redis/client';
import { describe, expect, it } from 'vitest';
import { partitionKeys } from '../../src/log/partition.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';
import { contractLimits, logContract } from './contract.js';

logContract('Redis Streams', async () => {
  const prefix = uniquePrefix('log');
  const open = () => openRedisLog({ url: redisUrl, prefix, limits: contractLimits });
  return { log: await open(), reopen: open, cleanup: () => deletePrefix(prefix) };
});

describe('Redis WAL entries as stored', () => {
  it('reads an entry without a data field as empty, and the last data field of an entry with several', async () => {
    const prefix = uniquePrefix('walfields');
    const log = await openRedisLog({ url: redisUrl, prefix, limits: contractLimits });
    const raw = createClient({ url: redisUrl });
    await raw.connect();
    try {
      const wal = partitionKeys(prefix, undefined).wal;
      const first = await raw.xAdd(wal, '*', { other: 'x' });
      const second = await raw.sendCommand(['XADD', wal, '*', 'data', '{"a":1}', 'data', '{"a":2}', 'more', 'y']);
      expect(await log.readWal(null, 10)).toEqual([
        { id: first, data: '' },
        { id: second, data: '{"a":2}' },
      ]);
      expect(await log.readWal(first, 1)).toEqual([{ id: second, data: '{"a":2}' }]);
    } finally {
      await raw.close();
      await log.close();
      await deletePrefix(prefix);
    }
  });
});
