import { createClient, createCluster } from '@redis/client';

// One connection to either a single Redis or a Redis Cluster. Both get disableOfflineQueue: a write issued while
// disconnected fails at once instead of being replayed later behind our back (which could duplicate it). The
// cluster client routes each command by its first key; a partition's keys share one slot (src/log/partition.ts).

function singleClient(url: string | undefined) {
  return createClient({ url, disableOfflineQueue: true });
}

function clusterClient(urls: string[]) {
  return createCluster({ rootNodes: urls.map((url) => ({ url })), defaults: { disableOfflineQueue: true } });
}

export type RedisConnection = ReturnType<typeof singleClient> | ReturnType<typeof clusterClient>;

export interface RedisTarget {
  url?: string | undefined;
  clusterUrls?: string[] | undefined;
}

export async function connectRedis(target: RedisTarget): Promise<RedisConnection> {
  if ((target.url === undefined) === (target.clusterUrls === undefined)) throw new Error('give either a Redis url or cluster urls');
  if (target.clusterUrls) {
    if (target.clusterUrls.length === 0) throw new Error('a Redis Cluster needs at least one root node');
    const cluster = clusterClient(target.clusterUrls);
    cluster.on('error', () => undefined); // surfaced through rejected commands; reconnects on its own
    await cluster.connect();
    return cluster;
  }
  const client = singleClient(target.url);
  client.on('error', () => undefined); // surfaced through rejected commands; reconnects on its own
  await client.connect();
  return client;
}

/** Sends a raw command to the node serving `key` (a cluster routes by it; a single Redis is that node). */
export function sendToNodeOf(conn: RedisConnection, key: string, args: string[]): Promise<unknown> {
  return 'masters' in conn ? conn.sendCommand(key, false, args) : conn.sendCommand(args);
}
