import { describe, expect, it } from 'vitest';
import type { PartitionStatus } from '../../src/cluster/cluster-status.js';
import { defaultLeaseBounds } from '../../src/cluster/lease-rules.js';
import type { PartitionWriter } from '../../src/cluster/partition-writer.js';
import { openPartitionWriter } from '../../src/cluster/partition-writer.js';
import { runCli } from '../../src/services/cli/run-cli.js';
import { uniquePrefix } from '../support/redis.js';
import { clusterUrls, deleteClusterKeys } from '../support/redis-cluster.js';
import { useClusterConnection } from '../support/cluster-connection.js';

// `quant-engine cli cluster` (issue 13) on the test cluster: per partition its lease holder, fencing token, lease
// age and remaining time, and lag (commands not yet read, and read but not acknowledged).

useClusterConnection(); // the cluster, started for this file
const partitionCount = 3;

describe('cli cluster', () => {
  let prefix = '';
  /** Writers holding partitions; a test closes them and deletes its keys when done. */
  const writers: PartitionWriter[] = [];
  const cleanUp = async () => {
    await Promise.all(writers.splice(0).map((w) => w.close().catch(() => undefined)));
    await deleteClusterKeys(prefix);
  };

  async function hold(partition: number, owner: string): Promise<PartitionWriter> {
    const w = await openPartitionWriter({ clusterUrls, prefix, partition, owner, autoRenew: false, onDropped: () => undefined });
    if (!w) throw new Error(`${owner} could not claim partition ${partition}`);
    writers.push(w);
    await w.log.init();
    return w;
  }

  async function cli(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--cluster-urls', clusterUrls.join(','), '--partitions', String(partitionCount), '--redis-prefix', prefix, ...argv], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out, err };
  }

  it('shows each partition: owner, token, lease age and remaining, unread and pending commands', async () => {
    prefix = uniquePrefix('cli-cluster');
    try {
      await showsEveryPartition();
    } finally {
      await cleanUp();
    }
  });

  async function showsEveryPartition(): Promise<void> {
    const one = await hold(0, 'worker-one');
    await one.close(); // the first claim given back: token 1 was handed out, the next is 2
    const zero = await hold(0, 'worker-one');
    const two = await hold(2, 'worker-two');
    for (let i = 0; i < 3; i += 1) await zero.log.appendCommand(`{"n":${i}}`);
    await zero.log.readCommands('worker-one', 1, 10); // one read, not yet acknowledged
    await two.log.appendCommand('{"n":9}');

    const json = await cli('--json', 'cluster');
    expect(json.code, json.err.join('\n')).toBe(0);
    const rows = json.out.map((l) => JSON.parse(l) as PartitionStatus);
    expect(rows.map((r) => [r.partition, r.owner, r.token, r.lastToken, r.unreadCommands, r.pendingCommands])).toEqual([
      [0, 'worker-one', 2, 2, 2, 1],
      [1, null, null, 0, 0, 0],
      [2, 'worker-two', 1, 1, 1, 0],
    ]);
    for (const r of [rows[0], rows[2]]) {
      expect(r?.leaseRemainingMs).toBeGreaterThan(0);
      expect(r?.leaseRemainingMs).toBeLessThanOrEqual(defaultLeaseBounds.leaseTtlMs);
      expect((r?.leaseAgeMs ?? -1) + (r?.leaseRemainingMs ?? 0)).toBe(defaultLeaseBounds.leaseTtlMs);
    }
    expect(rows[1]).toMatchObject({ leaseRemainingMs: null, leaseAgeMs: null });

    const shown = await cli('cluster');
    expect(shown.code).toBe(0);
    expect(shown.out[0]).toMatch(/^partition\s+owner\s+token\s+lease age\s+lease left\s+unread\s+pending$/);
    expect(shown.out[1]).toMatch(/^0\s+worker-one\s+2\s+\d+ ms\s+\d+ ms\s+2\s+1$/);
    expect(shown.out[2]).toMatch(/^1\s+-\s+- \(last 0\)\s+-\s+-\s+0\s+0$/);
    expect(shown.out[4]).toBe('2 of 3 partitions held by 2 workers');
  }

  it('refuses without a cluster (exit 2) and takes no arguments', async () => {
    const out: string[] = [];
    const err: string[] = [];
    expect(await runCli(['--sqlite-path', '/nonexistent/x.db', 'cluster'], { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(2);
    prefix = uniquePrefix('cli-cluster');
    expect((await cli('cluster', 'extra')).code).toBe(2);
  });
});
