import { afterAll, beforeAll } from 'vitest';
import type { RedisConnection } from '../../src/log/redis-connection.js';
import { connectRedis } from '../../src/log/redis-connection.js';
import type { ClusterUse } from './redis-cluster.js';
import { clusterUrls, useRedisCluster } from './redis-cluster.js';

/** For a test file: the loopback Redis Cluster (started if needed) and one connection to it, for the whole file. */
export function useClusterConnection(): () => RedisConnection {
  let cluster: ClusterUse | undefined;
  let conn: RedisConnection | undefined;
  beforeAll(async () => {
    cluster = await useRedisCluster();
    conn = await connectRedis({ clusterUrls });
  });
  afterAll(async () => {
    conn?.destroy();
    await cluster?.release();
  });
  return () => {
    if (!conn) throw new Error('cluster connection not open yet');
    return conn;
  };
}
