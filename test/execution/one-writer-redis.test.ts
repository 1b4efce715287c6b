import { describe, expect, it } from 'vitest';
import { readLease } from '../../src/cluster/lease.js';
import { partitionKeys } from '../../src/log/partition.js';
import { connectRedis } from '../../src/log/redis-connection.js';
import { spawnExecution } from '../support/child.js';
import { useChildFixture } from '../support/child-fixture.js';
import { commandId } from '../support/harness.js';
import { redisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

// Two execution services on one Redis key prefix (a deploy that starts the new one before the old has stopped, a
// second terminal): both joined the command group, each took a share of the commands, decided it from its own
// state and committed to the one WAL. The second is now refused before it reads anything, naming the first; a
// SIGKILLed one is followed at once (its process is gone), and the survivor's commits are fenced on its lease.

describe('execution on a single Redis: one engine per log', () => {
  const f = useChildFixture('one-writer-redis', { seed: 11, priceStepMs: 200 });

  it('refuses a second engine on the prefix, naming the first; follows a SIGKILLed one at once', async () => {
    const first = await f.start();
    const prefix = f.prefix();
    const second = await spawnExecution({ redisUrl, prefix, restBaseUrl: f.sim.restBaseUrl, wsBaseUrl: f.sim.wsBaseUrl }).then(
      (started) => started,
      (error: unknown) => error as Error,
    );
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).message).toMatch(
      new RegExp(
        `exited with 1 before ready:[\\s\\S]*another engine is writing the log at ${redisUrl} \\(prefix ${prefix}\\): quant-engine execution, pid ${first.child.pid} on `,
      ),
    );

    // The first one answers commands as before.
    const id = commandId('status');
    await f.log.appendCommand(JSON.stringify({ id, type: 'session.start', userId: 'one-writer', mode: 'paper', capitalUsd: 1_000 }));
    await waitFor('the first engine to answer', async () => (await f.log.tailOutbound('0', 10_000, 1)).some((r) => r.data.includes(id)), 30_000);

    // SIGKILLed: its lease is left in Redis for its TTL, but its process is gone, so the next start takes it at once.
    await first.kill('SIGKILL');
    const next = await f.start();
    expect(next.output()).toMatch(
      new RegExp(`took over the log at ${redisUrl} \\(prefix ${prefix}\\) from quant-engine execution, pid ${first.child.pid} \\(its process is gone\\)`),
    );
    const conn = await connectRedis({ url: redisUrl });
    try {
      expect((await readLease(conn, partitionKeys(prefix, undefined)))?.owner).toContain(`/${next.child.pid}/`);
    } finally {
      await conn.close();
    }
  }, 120_000);
});
