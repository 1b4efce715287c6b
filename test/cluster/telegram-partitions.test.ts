import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterPartitionLogs } from '../../src/log/partition-logs.js';
import { openPartitionLogs } from '../../src/log/partition-logs.js';
import type { TelegramBotHandle } from '../../src/services/telegram/run-telegram.js';
import { startTelegramBot } from '../../src/services/telegram/run-telegram.js';
import { silentLogger } from '../../src/util/logger.js';
import type { FakeTelegram } from '../support/fake-telegram-api.js';
import { startFakeTelegram } from '../support/fake-telegram-api.js';
import { partitionKeys, partitionOfUser } from '../../src/log/partition.js';
import { connectRedis } from '../../src/log/redis-connection.js';
import { uniquePrefix } from '../support/redis.js';
import type { ClusterUse } from '../support/redis-cluster.js';
import { clusterUrls, deleteClusterKeys, useRedisCluster } from '../support/redis-cluster.js';
import { waitFor } from '../support/wait.js';

// Issue 13, item 1: "Readers of outbound events (bot, dashboard) read every partition." Each partition's engine
// writes its own outbound stream; the bot relays every one of them, routes a user's command to the user's partition
// and reads the user's closed trades there. Two users on different partitions of the test cluster: an alert
// committed on each partition's outbound reaches its user, and each user's /status lands on the user's partition.

const token = '4242:cluster-bot';
const partitionCount = 2;

let cluster: ClusterUse | undefined;
let logs: ClusterPartitionLogs;
let fake: FakeTelegram;
let bot: TelegramBotHandle | undefined;
let prefix = '';

/** Telegram user ids whose engine users (`tg<id>`) fall on partitions 0 and 1. */
function usersOnEachPartition(): [number, number] {
  const found: (number | undefined)[] = [undefined, undefined];
  for (let id = 1001; found.includes(undefined); id += 1) found[partitionOfUser(`tg${id}`, partitionCount)] ??= id;
  return found as [number, number];
}
const [onP0, onP1] = usersOnEachPartition();
const admin = 999;

beforeAll(async () => {
  cluster = await useRedisCluster();
  prefix = uniquePrefix('tg-partitions');
  logs = openPartitionLogs({ clusterUrls, prefix, partitionCount });
  fake = await startFakeTelegram({ token });
  bot = await startTelegramBot({
    log: await logs.log(0),
    partitions: logs,
    token,
    apiRoot: fake.apiRoot,
    access: { userIds: [String(onP0), String(onP1)], adminIds: [String(admin)], ratePerMin: 20 },
    vault: null,
    logger: silentLogger(),
    relay: { retryMs: 100, blockMs: 100 },
  });
});
afterAll(async () => {
  await bot?.stop();
  await fake?.close();
  await logs?.close();
  if (prefix) await deleteClusterKeys(prefix);
  await cluster?.release();
});

describe('the Telegram bot on a partitioned log', () => {
  it('relays every partition’s outbound stream and routes each user’s command to the user’s partition', async () => {
    const alert = (userId: number, message: string) => JSON.stringify({ type: 'alert', userId: `tg${userId}`, kind: 'horizon', message, atMs: Date.now() });
    for (const [partition, userId] of [
      [0, onP0],
      [1, onP1],
    ] as const) {
      await (await logs.log(partition)).commit({ wal: [], outbound: [alert(userId, `from partition ${partition}`)], ack: [], deadLetters: [] });
    }
    await waitFor('both users alerted', () => fake.messages(onP0).length > 0 && fake.messages(onP1).length > 0, 20_000);
    expect(fake.messages(onP0).join('\n')).toMatch(/from partition 0/);
    expect(fake.messages(onP1).join('\n')).toMatch(/from partition 1/);

    for (const userId of [onP0, onP1]) fake.pushText(userId, '/status');
    const conn = await connectRedis({ clusterUrls });
    try {
      /** The users whose commands a partition's stream holds (XRANGE: nothing is consumed). */
      const usersOn = async (partition: number): Promise<string[]> =>
        ((await conn.xRange(partitionKeys(prefix, partition).commands, '-', '+')) as { message: Record<string, string> }[]).map((e) =>
          String((JSON.parse(e.message['data'] ?? '{}') as { userId?: string }).userId),
        );
      await waitFor('both /status commands stored', async () => (await usersOn(0)).includes(`tg${onP0}`) && (await usersOn(1)).includes(`tg${onP1}`));
      expect(await usersOn(0)).toEqual([`tg${onP0}`]);
      expect(await usersOn(1)).toEqual([`tg${onP1}`]);
    } finally {
      conn.destroy();
    }
  });

  it('answers a fan-out once: one answer after every partition has, a refusal if any refused', async () => {
    const reply = (status: string, result: unknown) =>
      JSON.stringify({
        type: 'reply',
        commandId: 'halt-1',
        userId: `tg${admin}`,
        commandType: 'admin.halt_all',
        status,
        reason: status === 'rejected' ? 'partition 1 could not halt' : null,
        result,
        atMs: Date.now(),
      });
    const publish = async (partition: number, event: string) => (await logs.log(partition)).commit({ wal: [], outbound: [event], ack: [], deadLetters: [] });
    await publish(0, reply('done', { halted: true }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fake.messages(admin)).toEqual([]); // partition 1 has not answered yet
    await publish(1, reply('rejected', null));
    await waitFor('the admin’s answer', () => fake.messages(admin).length > 0, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fake.messages(admin)).toHaveLength(1);
    expect(fake.messages(admin)[0]).toMatch(/partition 1 could not halt/);
  });
});
