import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '../../src/contract/commands.js';
import { appendRoutedCommand } from '../../src/log/command-router.js';
import type { ClusterPartitionLogs } from '../../src/log/partition-logs.js';
import { openPartitionLogs } from '../../src/log/partition-logs.js';
import { partitionKeys, partitionOfUser } from '../../src/log/partition.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import type { ReplicaAckError } from '../../src/log/replica-acks.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import type { ChildService } from '../support/child.js';
import { spawnExecution } from '../support/child.js';
import { answerReader, command, owedAnswers, positionsEqualSimulator, runningOf } from '../support/partition-answers.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';
import type { ClusterUse } from '../support/redis-cluster.js';
import { clusterHarness } from '../support/redis-cluster.js';
import { waitFor } from '../support/wait.js';

// Issue 13, item 3's third test: a Redis master with a replica is killed (SIGKILL) while a worker trades through it.
// The cluster fails the replica over; the worker's partitions on that master lose their leases, are claimed again
// and boot from what the promoted replica holds. With acknowledged commits (`--replica-acks 1`: WAIT after every
// commit, src/log/replica-acks.ts) no answered command is lost: every answer seen before the kill is still there,
// every command is answered exactly once, no client order id repeats and positions equal the simulator's.
// This cluster has its own ports and replicas (three masters, one replica each), so killing a node here never
// disturbs the shared cluster other tests use.

const failover = clusterHarness({
  basePort: Number(process.env.QE_TEST_FAILOVER_CLUSTER_PORT ?? 7200),
  masters: 3,
  replicasPerMaster: 1,
  // Short, so the failover (about 2 node timeouts) fits in a test; production keeps Redis's default 15 s.
  nodeTimeoutMs: 1_000,
});
const partitionCount = 2;
const users = Array.from({ length: 12 }, (_, i) => `fo-user-${i}`);
const symbols = ['BTCUSDT', 'ETHUSDT'];

let cluster: ClusterUse | undefined;
let sim: SimulatorHandle;
let logs: ClusterPartitionLogs;
let reader: ReturnType<typeof answerReader>;
let prefix = '';
const workers: ChildService[] = [];
const killed: number[] = [];

beforeAll(async () => {
  cluster = await failover.use();
  sim = await startSimulator({ port: 0, seed: 31, priceStepMs: 100 });
  prefix = uniquePrefix('failover');
  logs = openPartitionLogs({ clusterUrls: failover.urls, prefix, partitionCount });
  reader = answerReader(logs, partitionCount);
}, 120_000);
afterAll(async () => {
  for (const w of workers) await w.kill();
  await logs?.close();
  await sim?.close();
  for (const port of killed) if (!(await failover.healthy())) await failover.restart(port).catch(() => undefined);
  if (prefix) {
    await failover.deleteKeys(prefix).catch(() => undefined);
    await deletePrefix(prefix);
  }
  await cluster?.release();
});

describe('acknowledged commits (WAIT)', () => {
  it('confirms a commit held by a replica, and refuses to call one confirmed when no replica holds it', async () => {
    const unconfirmed: ReplicaAckError[] = [];
    const onUnconfirmed = (e: ReplicaAckError) => void unconfirmed.push(e);
    const replicated = await openRedisLog({
      clusterUrls: failover.urls,
      prefix: `${prefix}wait:`,
      partition: 0,
      replicaAcks: { replicas: 1, timeoutMs: 2_000, onUnconfirmed },
    });
    await replicated.init();
    await replicated.commit({ wal: ['{"x":1}'], outbound: [], ack: [], deadLetters: [] });
    expect(unconfirmed).toEqual([]);
    await replicated.close();

    // The single Redis of the other tests has no replica: WAIT answers 0, the commit is not confirmed.
    const alone = await openRedisLog({ url: redisUrl, prefix: `${prefix}wait:`, replicaAcks: { replicas: 1, timeoutMs: 50, onUnconfirmed } });
    await alone.init();
    await expect(alone.commit({ wal: ['{"x":2}'], outbound: [], ack: [], deadLetters: [] })).rejects.toThrow(/acknowledged by 0 of 1 replicas/);
    expect(unconfirmed.map((e) => e.acknowledged)).toEqual([0]);
    await alone.close();
  });
});

describe('a Redis master dies under a worker', () => {
  it('fails over; the worker recovers its partitions and no acknowledged command is lost', async () => {
    const sent: Command[] = [];
    // Owed an answer: what the log took. An append refused while the master is down is the producer's to retry.
    const send = async (c: Command) => {
      await appendRoutedCommand(logs, c);
      sent.push(c);
    };
    const w = await spawnExecution({
      redisUrl,
      prefix,
      restBaseUrl: sim.restBaseUrl,
      wsBaseUrl: sim.wsBaseUrl,
      extra: ['--cluster-urls', failover.urls.join(','), '--partitions', String(partitionCount), '--worker-id', 'wF', '--replica-acks', '1'],
      env: { QE_SYMBOLS: symbols.join(',') },
    });
    workers.push(w);
    await waitFor('the worker to run both partitions', () => runningOf(w).length === partitionCount, 60_000);
    expect(new Set(users.map((u) => partitionOfUser(u, partitionCount))).size).toBe(partitionCount);

    const starts = users.map((userId) => command({ type: 'session.start', id: `start-${userId}`, userId, mode: 'paper', capitalUsd: 1000 }));
    for (const c of starts) await send(c);
    await waitFor('every session started', () => reader.allAnswered(starts), 60_000);
    await send(command({ type: 'signals.route', id: 'sig-1', userId: 'signals', signals: [{ symbol: 'BTCUSDT', weight: 0.3 }] }));

    // Commands keep flowing while the master of partition 0 dies.
    const victim = await failover.masterOf(partitionKeys(prefix, 0).wal);
    let round = 0;
    let flowing = true;
    const flow = (async () => {
      while (flowing) {
        for (const userId of users)
          await send(command({ type: 'session.set_stoploss', id: `sl-${round}-${userId}`, userId, pct: 2 + (round % 30) })).catch(() => undefined);
        round += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await waitFor('some commands answered before the kill', async () => [...(await reader.read()).keys()].some((k) => k.includes('/sl-2-')), 60_000);
    const answeredBeforeKill = [...(await reader.read()).keys()];
    await failover.kill(victim);
    killed.push(victim);
    await waitFor(
      'a replica to take the dead master’s slots',
      async () => (await failover.masterOf(partitionKeys(prefix, 0).wal).catch(() => victim)) !== victim,
      60_000,
      200,
    );
    // Back as a replica of the promoted node (a supervisor's restart): acknowledged commits need one again.
    await failover.restart(victim);
    await waitFor('the cluster whole again', () => failover.healthy(), 60_000, 200);
    flowing = false;
    await flow;
    await send(command({ type: 'signals.route', id: 'sig-2', userId: 'signals', signals: [{ symbol: 'ETHUSDT', weight: -0.2 }] }));
    for (const userId of users) await send(command({ type: 'status', id: `st-${userId}`, userId }));

    await waitFor('the worker to run both partitions again', () => runningOf(w).length === partitionCount, 60_000);
    await waitFor('every command answered', () => reader.allAnswered(sent), 120_000, 200);

    // A fresh read of every partition from its start: what was answered before the kill is still there, once.
    const fresh = answerReader(logs, partitionCount);
    const final = await fresh.read();
    expect(answeredBeforeKill.filter((k) => !final.has(k))).toEqual([]);
    const owedKeys = owedAnswers(sent, partitionCount);
    expect(owedKeys.filter((k) => !final.has(k))).toEqual([]);
    expect([...final].filter(([, n]) => n !== 1)).toEqual([]);

    const ids = sim.orders().map((o) => o.clientOrderId);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    await waitFor('engine positions to equal the simulator', () => positionsEqualSimulator(logs, partitionCount, users, symbols, sim), 30_000, 200);
  }, 240_000);
});
