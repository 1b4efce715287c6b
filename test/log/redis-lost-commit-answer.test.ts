import { afterEach, describe, expect, it } from 'vitest';
import type { CommitBatch } from '../../src/log/port.js';
import { CommitOutcomeUnknownError } from '../../src/log/port.js';
import type { ReplicaAckError } from '../../src/log/replica-acks.js';
import { logsBehindCutProxy } from '../support/redis-cut-proxy.js';

// The Redis log's commit when the script's answer is lost (test/support/redis-cut-proxy.ts): it rejects with
// CommitOutcomeUnknownError (the engine then reads the WAL: test/engine/lost-commit-answer.test.ts), never with the
// socket's error as if nothing had been written. With acknowledged commits it is an unconfirmed commit instead: no
// replica was seen to hold it, so the master's WAL cannot tell whether it survives a failover.

const batch: CommitBatch = { wal: ['{"type":"test.event"}'], outbound: [], ack: [], deadLetters: [] };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function logs(replicaAcks?: { onUnconfirmed: (error: ReplicaAckError) => void }) {
  const opened = await logsBehindCutProxy('lost-answer-log', replicaAcks ? { replicaAcks: { replicas: 1, timeoutMs: 10, ...replicaAcks } } : {});
  cleanups.push(() => opened.close());
  return opened;
}

describe('a Redis commit whose answer is lost', () => {
  it('rejects with CommitOutcomeUnknownError though the WAL holds it', async () => {
    const { proxy, log, direct } = await logs();
    const cut = proxy.armCut();
    await expect(log.commit(batch)).rejects.toBeInstanceOf(CommitOutcomeUnknownError);
    await cut;
    expect((await direct.readWal(null, 10)).map((r) => r.data)).toEqual(batch.wal);
  });

  it('with acknowledged commits: unconfirmed (ReplicaAckError, onUnconfirmed told), not resolved from the master', async () => {
    const unconfirmed: ReplicaAckError[] = [];
    const { proxy, log } = await logs({ onUnconfirmed: (error) => void unconfirmed.push(error) });
    const cut = proxy.armCut();
    const error = await log.commit(batch).then(
      () => null,
      (e: unknown) => e,
    );
    await cut;
    expect((error as Error).name).toBe('ReplicaAckError');
    expect(unconfirmed).toEqual([error]);
  });

  it('with acknowledged commits: after an unconfirmed commit, writes nothing more (the partition is being dropped)', async () => {
    const unconfirmed: ReplicaAckError[] = [];
    // No replica at all: WAIT answers 0, so the first commit lands on the master unconfirmed.
    const { log, direct } = await logs({ onUnconfirmed: (error) => void unconfirmed.push(error) });
    await expect(log.commit(batch)).rejects.toMatchObject({ name: 'ReplicaAckError' });
    // A step decided before the drop closed the log, from a state without the unconfirmed one: refused, unwritten.
    await expect(log.commit({ ...batch, wal: ['{"type":"test.after"}'] })).rejects.toMatchObject({ name: 'ReplicaAckError' });
    await expect(log.saveSnapshot({ walId: '0-1', data: '{}' })).rejects.toMatchObject({ name: 'ReplicaAckError' });
    expect((await direct.readWal(null, 10)).map((r) => r.data)).toEqual(batch.wal);
    expect(unconfirmed).toHaveLength(1);
  });
});
