import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { parseWorkerClientId } from '../../src/cluster/lease-guard.js';
import { timestampOutsideRecvWindowCode } from '../../src/exchange/binance/errors.js';
import { spawnExecution } from '../support/child.js';
import type { ChildService } from '../support/child.js';
import { useChildFixture } from '../support/child-fixture.js';
import { redisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { flippingLoad } from '../support/flipping-load.js';

// A single engine on Redis frozen past its writer lease (SIGSTOP, a stalled VM) while another engine takes the log
// over, then resumed (SIGCONT). Its commits are fenced on the lease (one-writer-redis.test.ts); its requests now are
// too, as a cluster worker's are (test/cluster/worker-zombie.test.ts): each is signed only after a look at the lease,
// with a recvWindow that ends before it, and names the engine and its lease to the simulator (X-QE-Client).
// What this shows: nothing the resumed engine sends after its lease ended is accepted, and it stops. What it does not
// single out: without the guard the same holds here, because on waking the overdue renewal timer runs (libuv's timers
// come before the sockets' answers that would free the executor's waiting orders) and the engine exits at once. The
// guard closes what is left: a step that blocks the event loop past the lease and sends in that same turn.

const users = Array.from({ length: 8 }, (_, i) => `sz-user-${i}`);
const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
/** The writer lease's TTL for both engines (--writer-lease-ttl-ms; 30 s by default). */
const leaseTtlMs = 3_000;
/** How slowly the simulator answers an order: committed orders wait in the frozen engine's executor. */
const orderLatencyMs = 1_500;

describe('a single-Redis engine frozen past its writer lease and resumed', () => {
  const f = useChildFixture('single-zombie', { seed: 23, priceStepMs: 200 });
  const start = (): Promise<ChildService> =>
    spawnExecution({
      redisUrl,
      prefix: f.prefix(),
      restBaseUrl: f.sim.restBaseUrl,
      wsBaseUrl: f.sim.wsBaseUrl,
      extra: ['--writer-lease-ttl-ms', String(leaseTtlMs)],
    });
  /** Requests that change something on the exchange (not reads, not listen keys) that the engine of `pid` sent. */
  const writesOf = (pid: number | undefined) =>
    f.sim.requests().flatMap((r) => {
      const from = r.client === undefined ? null : parseWorkerClientId(r.client);
      return from?.workerId === `single-${pid}` && r.method !== 'GET' && !r.path.endsWith('/listenKey') ? [{ ...r, ...from }] : [];
    });
  const send = (body: Record<string, unknown>): Promise<unknown> => f.log.appendCommand(JSON.stringify(body));

  it('gets no order accepted after its lease ran out, and stops', async () => {
    const a = await start();
    for (const userId of users) await send({ id: `start-${userId}`, type: 'session.start', userId, mode: 'paper', capitalUsd: 1_000 });
    f.sim.faults.latencyByPathMs = { '/fapi/v1/order': orderLatencyMs };
    const load = flippingLoad((round, weight) =>
      send({ id: `sig-${round}`, type: 'signals.route', userId: 'signals', signals: symbols.map((symbol) => ({ symbol, weight })) }),
    );
    try {
      // Its requests carry its lease (the guarded adapters are the ones trading): worker "single-<pid>", its token.
      await waitFor('engine A trading', () => writesOf(a.child.pid).filter((r) => r.status === 200).length >= 20, 60_000, 20);
      expect(new Set(writesOf(a.child.pid).map((r) => r.token)).size).toBe(1);
      const stoppedAtMs = Date.now();
      a.child.kill('SIGSTOP');
      // Its lease was last renewed before the stop: it has run out in Redis a TTL later. A wakes then, while the
      // orders that waited in its executor are still inside their send window (orderSendWindowMs, 5 s), and B claims
      // the log meanwhile.
      await sleep(leaseTtlMs + 300);
      a.child.kill('SIGCONT');
      const b = await start();
      await waitFor('engine A to stop on its lost lease', () => a.child.exitCode !== null, 30_000, 20);
      expect(a.output()).toMatch(/no longer holds its log|no longer writes the log/);
      await waitFor('engine B trading', () => writesOf(b.child.pid).filter((r) => r.status === 200).length >= 5, 60_000, 20);
      const leaseEndMs = stoppedAtMs + leaseTtlMs;
      // Requests A signed before the stop may still arrive late, but only to be refused on their timing (-1021).
      const late = writesOf(a.child.pid).filter((r) => r.receivedAt >= leaseEndMs && r.code !== timestampOutsideRecvWindowCode);
      expect(late).toEqual([]);
      const ids = f.sim.orders().map((o) => o.clientOrderId);
      expect(new Set(ids).size).toBe(ids.length);
      await b.kill();
    } finally {
      await load.stop();
      f.sim.faults.latencyByPathMs = {};
    }
  }, 180_000);
});
