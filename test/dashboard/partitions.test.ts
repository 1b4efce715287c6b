import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryLog } from '../../src/log/memory-log.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { partitionOfUser } from '../../src/log/partition.js';
import type { ClosedResponse, ClusterResponse, DlqResponse } from '../../src/services/dashboard/api-types.js';
import type { DashboardHandle } from '../../src/services/dashboard/server.js';
import { startDashboard } from '../../src/services/dashboard/server.js';
import { silentLogger } from '../../src/util/logger.js';
import { commitClosedTrips, commitOutbound, followerLimits, sampleSummary } from '../support/dashboard-rig.js';
import { waitFor } from '../support/wait.js';

// Issue 13, item 1: on a partitioned log, the dashboard reads every partition. Each partition's engine writes its own
// outbound stream and its own fill ledger, so the page follows every outbound stream, reads a user's closed trades on
// the user's partition, and counts dead letters over all of them. Two in-memory logs stand for two partitions (the
// routing of the page's commands to partitions is the command router's, tested with the CLI on the test cluster).

const partitionCount = 2;
/** A user on each partition. */
const users = ((): [string, string] => {
  const found: (string | undefined)[] = [undefined, undefined];
  for (let n = 0; found.includes(undefined); n += 1) found[partitionOfUser(`dp-${n}`, partitionCount)] ??= `dp-${n}`;
  return found as [string, string];
})();

let dashboard: DashboardHandle | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

describe('the dashboard on a partitioned log', () => {
  it('follows every partition’s outbound stream, reads closed trades on the user’s partition, sums the dead letters and shows each partition’s worker', async () => {
    const logs: MemoryLog[] = [openMemoryLog(), openMemoryLog()];
    dashboard = await startDashboard({
      log: logs[0] as MemoryLog,
      partitions: { count: partitionCount, log: async (p) => logs[p] as MemoryLog },
      host: '127.0.0.1',
      port: 0,
      token: null,
      adminUserId: 'operator',
      logger: silentLogger(),
      followerLimits,
      clusterStatus: async () =>
        [0, 1].map((partition) => ({
          partition,
          owner: `worker-${partition}`,
          token: 7 + partition,
          lastToken: 7 + partition,
          leaseRemainingMs: 2_500,
          leaseAgeMs: 500,
          unreadCommands: 0,
          pendingCommands: partition,
        })),
    });
    const get = async <T>(path: string): Promise<T> => (await (await fetch(`${dashboard?.url ?? ''}${path}`)).json()) as T;
    // The page polls /api/cluster only where there is one (the unpartitioned page's is dashboard-browser.test.ts's).
    expect(await (await fetch(`${dashboard.url}/`)).text()).toContain('data-partitioned="1"');
    for (const [p, userId] of users.entries()) {
      const summary = { ...sampleSummary, userId };
      await commitOutbound(logs[p] as MemoryLog, [
        { type: 'reply', commandId: `c-${userId}`, userId, commandType: 'session.start', status: 'done', reason: null, result: summary, atMs: 1_000 },
      ]);
    }
    await waitFor('both partitions’ sessions', async () => (await get<{ sessions: unknown[] }>('/api/state')).sessions.length === 2);

    const [, onP1] = users;
    await commitClosedTrips(logs[1] as MemoryLog, onP1, [{ symbol: 'BTCUSDT', qty: '0.01', entry: '50000', exit: '50100', closedAtMs: Date.UTC(2030, 0, 1) }]);
    const closed = await get<ClosedResponse>(`/api/closed?user=${onP1}`);
    expect(closed.trades).toHaveLength(1);

    await (logs[1] as MemoryLog).commit({ wal: [], outbound: [], ack: [], deadLetters: [{ entryId: '1-0', raw: 'junk', reason: 'not JSON' }] });
    await (logs[0] as MemoryLog).commit({ wal: [], outbound: [], ack: [], deadLetters: [{ entryId: '1-0', raw: 'more junk', reason: 'not JSON' }] });
    const dlq = await get<DlqResponse>('/api/dlq');
    expect(dlq.depth).toBe(2);
    expect(dlq.entries.map((e) => e.raw).sort()).toEqual(['junk', 'more junk']);
    expect(await (await fetch(`${dashboard.url}/metrics`)).text()).toMatch(/^qe_dlq_depth 2$/m);

    // Which worker runs each session (issue 13, item 4).
    const cluster = await get<ClusterResponse>('/api/cluster');
    expect(cluster.partitions.map((p) => [p.partition, p.owner, p.sessions])).toEqual([
      [0, 'worker-0', [users[0]]],
      [1, 'worker-1', [users[1]]],
    ]);

    // Halt all goes to both partitions and is answered once both have (a refusal from either is the answer).
    const halting = fetch(`${dashboard.url}/api/commands`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ action: 'halt_all', reason: 'test' }),
    });
    const haltCopy = async (p: number): Promise<{ id: string; userId: string }> =>
      waitFor(`halt on partition ${p}`, async () => {
        const reads = await (logs[p] as MemoryLog).readCommands('test', 10, 0);
        const found = reads.map((d) => JSON.parse(d.raw) as { id: string; type: string; userId: string }).find((c) => c.type === 'admin.halt_all');
        return found;
      });
    const [onP0Copy, onP1Copy] = [await haltCopy(0), await haltCopy(1)];
    expect(onP0Copy.id).toBe(onP1Copy.id);
    const replyOn = (p: number, status: string) =>
      commitOutbound(logs[p] as MemoryLog, [
        {
          type: 'reply',
          commandId: onP0Copy.id,
          userId: onP0Copy.userId,
          commandType: 'admin.halt_all',
          status,
          reason: status === 'rejected' ? 'no' : null,
          result: status === 'done' ? { halted: true } : null,
          atMs: 2_000,
        },
      ]);
    await replyOn(0, 'done');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await replyOn(1, 'rejected');
    const halted = (await (await halting).json()) as { reply?: { status: string }; error?: string };
    expect(halted.error).toBeUndefined();
    expect(halted.reply?.status).toBe('rejected');

    // A ledger page without a user would mix partitions: refused, with the way out.
    const all = await fetch(`${dashboard.url}/api/trades`);
    expect(all.status).toBe(400);
    expect(((await all.json()) as { error: string }).error).toMatch(/name the user/);
  });
});
