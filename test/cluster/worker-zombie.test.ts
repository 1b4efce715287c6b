import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { parseWorkerClientId } from '../../src/cluster/lease-guard.js';
import { lastLeaseToken } from '../../src/cluster/lease.js';
import { defaultLeaseBounds } from '../../src/cluster/lease-rules.js';
import { timestampOutsideRecvWindowCode } from '../../src/exchange/binance/errors.js';
import { partitionKeys } from '../../src/log/partition.js';
import { partitionOfUser } from '../../src/log/partition.js';
import { command, runningOf } from '../support/partition-answers.js';
import { useWorkerCluster } from '../support/worker-cluster.js';
import { useClusterConnection } from '../support/cluster-connection.js';
import { waitFor } from '../support/wait.js';
import { flippingLoad } from '../support/flipping-load.js';

// Issue 13, item 3's second test: a zombie worker. Worker wA runs every partition and trades for many users while
// the simulator answers orders slowly (so orders wait in wA's executor); wA is frozen with SIGSTOP past its lease
// TTL, wB takes its partitions over, then wA is resumed with SIGCONT. None of wA's writes may land (its commits
// are refused: every command is answered exactly once, positions equal the simulator), and no request of wA may
// reach the simulator and be accepted after its lease ran out: the simulator's request log names each sender
// (X-QE-Client) and the time each request arrived. Without the lease guard wA sends, on waking, the orders that
// were waiting in its executor (still inside their send window) and the simulator accepts them.

const partitionCount = 2;
const users = Array.from({ length: 16 }, (_, i) => `zb-user-${i}`);
const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
/**
 * How slowly the simulator answers an order: a session trades three symbols at once and the executor sends two
 * requests per account at a time, so a committed order often waits in wA's executor when it is frozen.
 */
const orderLatencyMs = 1_500;

const cluster = useClusterConnection();
const use = useWorkerCluster({ label: 'zombie', seed: 17, partitionCount, symbols });

/**
 * Requests that change something on the exchange (orders, cancels, stops, settings; not reads nor listen keys)
 * that `workerId` sent, with the partition and lease token it sent them under (X-QE-Client: `wA/p1/t7`).
 */
const writesOf = (workerId: string) =>
  use()
    .sim.requests()
    .flatMap((r) => {
      const from = r.client === undefined ? null : parseWorkerClientId(r.client);
      return from?.workerId === workerId && r.method !== 'GET' && !r.path.endsWith('/listenKey') ? [{ ...r, ...from }] : [];
    });

describe('a worker paused past its lease (SIGSTOP) and resumed', () => {
  it('gets no order accepted after its lease ran out and lands none of its commits', async () => {
    const { sim, traffic, prefix, startWorker } = use();
    expect(new Set(users.map((u) => partitionOfUser(u, partitionCount))).size).toBe(partitionCount);
    const a = await startWorker('wA');
    await waitFor('wA to run every partition', () => runningOf(a).length === partitionCount, 60_000);

    const starts = users.map((userId) => command({ type: 'session.start', id: `start-${userId}`, userId, mode: 'paper', capitalUsd: 1000 }));
    for (const c of starts) await traffic.send(c);
    await waitFor('every session started', () => traffic.allAnswered(starts), 60_000);

    // Load: target weights of every symbol that keep flipping, so every session keeps placing orders on all three.
    sim.faults.latencyByPathMs = { '/fapi/v1/order': orderLatencyMs };
    const load = flippingLoad((round, weight) =>
      traffic.send(command({ type: 'signals.route', id: `sig-${round}`, userId: 'signals', signals: symbols.map((symbol) => ({ symbol, weight })) })),
    );
    await waitFor('wA trading', () => writesOf('wA').filter((r) => r.status === 200).length >= 20, 60_000, 20);

    const b = await startWorker('wB'); // joins as wA's standby; its share moves to it by rebalance
    await sleep(300);
    const stoppedAtMs = Date.now();
    a.child.kill('SIGSTOP');
    // Every lease wA ever held was handed out by now (it is frozen); it may claim again once awake, with a newer token.
    const tokensAtStop = await Promise.all(Array.from({ length: partitionCount }, (_, p) => lastLeaseToken(cluster(), partitionKeys(prefix, p))));
    // Woken as soon as a successor holds every partition wA held (orders queued before the stop are then still
    // inside their send window, orderSendWindowMs).
    const tokenNow = (p: number) => lastLeaseToken(cluster(), partitionKeys(prefix, p));
    await waitFor('wB to claim every partition wA held', async () => {
      for (let p = 0; p < partitionCount; p += 1) if ((await tokenNow(p)) <= (tokensAtStop[p] ?? 0) && !runningOf(b).includes(p)) return false;
      return true;
    }, 60_000, 10); // prettier-ignore
    const takenOverAtMs = Date.now();
    a.child.kill('SIGCONT');
    await waitFor('wA to drop its partitions', () => a.output().includes('"why":"dropped:'), 30_000, 20);
    await sleep(2_000); // wA awake while the load goes on
    await load.stop();
    sim.faults.latencyByPathMs = {};
    const last = [command({ type: 'admin.halt_all', id: 'halt', userId: 'operator', reason: 'end of test' })];
    for (const c of last) await traffic.send(c);
    await waitFor('every command answered', () => traffic.allAnswered(traffic.sent), 120_000);

    // No request wA sent under a lease it held before the stop reached the simulator and was processed after that
    // lease ended in Redis: it was last renewed before the stop, so it ended at the latest a TTL after it, and before
    // a successor claimed the partition. (Awake again, wA may rejoin and claim a partition back under a newer token:
    // those requests are its right.)
    const leaseEndMs = Math.min(stoppedAtMs + defaultLeaseBounds.leaseTtlMs, takenOverAtMs);
    // Requests it signed before the stop may still arrive, but only to be refused on their timing (-1021, before
    // any processing): their recvWindow ended before the lease.
    const late = writesOf('wA').filter(
      (r) => r.token <= (tokensAtStop[r.partition] ?? 0) && r.receivedAt >= leaseEndMs && r.code !== timestampOutsideRecvWindowCode,
    );
    expect(late).toEqual([]);
    expect(writesOf('wB').filter((r) => r.status === 200).length).toBeGreaterThan(0); // wB traded after the takeover

    // None of wA's commits landed: every command answered exactly once, and the engines agree with the simulator.
    const final = await traffic.readAnswers();
    const owedKeys = traffic.owed(traffic.sent);
    expect(owedKeys.filter((k) => !final.has(k))).toEqual([]);
    expect([...final].filter(([, n]) => n !== 1)).toEqual([]);
    const ids = sim.orders().map((o) => o.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
    await waitFor('engine positions to equal the simulator', () => traffic.positionsMatch(sim, users, symbols), 30_000, 200);
  }, 180_000);
});
