import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineLog, WriterOwner } from '../../src/log/port.js';
import { WriterLostError, WriterTakenError } from '../../src/log/port.js';
import { openSqliteLog } from '../../src/log/sqlite-log.js';

// One engine writes a log file at a time. Two `npm start`s (or two execution services) on one SQLite file both
// replayed it, both took commands and both committed, each from its own state: the same client order ids from both,
// orders sent twice, a WAL of two histories. The second is now refused, naming the first; a holder that is gone (its
// process dead, or silent past the stale bound) is taken over, and its next write is refused.

const batch = (event: string) => ({ wal: [JSON.stringify({ event })], outbound: [], ack: [], deadLetters: [] });

/** A pid no process has: a child's, once it has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid as number;
}

describe('SQLite log: one writer at a time', () => {
  const dirs: string[] = [];
  const logs: EngineLog[] = [];
  afterEach(async () => {
    for (const log of logs.splice(0)) await log.close().catch(() => undefined);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const file = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'qe-writer-'));
    dirs.push(dir);
    return join(dir, 'log.db');
  };
  const open = (path: string, nowMs?: () => number, beatEveryMs = 1_000, staleAfterMs = 10_000): EngineLog => {
    const log = openSqliteLog({ path, ...(nowMs ? { nowMs } : {}), writer: { beatEveryMs, staleAfterMs } });
    logs.push(log);
    return log;
  };
  const me = (what: string): WriterOwner => ({ pid: process.pid, host: hostname(), what });
  /** Another live process on this host (the test runner's parent): an engine running beside this one. */
  const other = (what: string): WriterOwner => ({ pid: process.ppid, host: hostname(), what });
  const claim = (log: EngineLog, owner: WriterOwner, lost: Error[] = []) => {
    if (!log.claimWriter) throw new Error('the SQLite log claims no writer');
    return log.claimWriter(owner, (error) => lost.push(error));
  };

  it('refuses a second engine while the first runs, naming it; the first writes on', async () => {
    const path = file();
    const first = open(path);
    await claim(first, other('quant-engine all'));
    const second = open(path);
    const refused = await claim(second, me('quant-engine execution')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WriterTakenError);
    expect((refused as Error).message).toMatch(
      new RegExp(`^another engine is writing ${path}: quant-engine all, pid ${process.ppid} on ${hostname()}, since .*Z, its last heartbeat \\d+ ms ago`),
    );
    expect(await first.commit(batch('a'))).toEqual(['1']);
  });

  it('is free again once the first stops cleanly (close releases the claim)', async () => {
    const path = file();
    const first = open(path);
    await claim(first, me('first'));
    await first.close();
    const next = await claim(open(path), me('second'));
    expect(next.tookOverFrom).toBeNull();
  });

  it('takes over at once from an engine whose process is gone (SIGKILL), whose next write is refused', async () => {
    const path = file();
    const killed = open(path);
    const lost: Error[] = [];
    await claim(killed, { pid: await deadPid(), host: hostname(), what: 'killed' }, lost);
    const successor = open(path);
    const taken = await claim(successor, me('successor'));
    expect(taken.tookOverFrom?.what).toBe('killed');
    await expect(killed.commit(batch('late'))).rejects.toBeInstanceOf(WriterLostError);
    expect(lost).toHaveLength(1);
    expect(await successor.commit(batch('b'))).toEqual(['1']);
  });

  it('takes over from a live process only once its heartbeat is older than the stale bound', async () => {
    const path = file();
    let now = 1_000_000;
    const clock = () => now;
    // Its clock stands still: its heartbeats (if any come within the test) say it was last alive at the claim, as a
    // frozen process's (SIGSTOP, a stalled disk) would.
    const frozen = open(path, () => 1_000_000);
    const lost: Error[] = [];
    await claim(frozen, other('frozen'), lost);
    now += 9_999;
    await expect(claim(open(path, clock), me('early'))).rejects.toBeInstanceOf(WriterTakenError);
    now += 2;
    const successor = open(path, clock);
    expect((await claim(successor, me('successor'))).tookOverFrom?.what).toBe('frozen');
    await expect(frozen.saveSnapshot({ walId: '0', data: '{}' })).rejects.toBeInstanceOf(WriterLostError);
    await expect(frozen.commit(batch('late'))).rejects.toBeInstanceOf(WriterLostError);
    expect(lost).toHaveLength(1);
    expect(await successor.readWal(null, 10)).toEqual([]);
  });

  it("takes over a claim naming this very process: an earlier run's (a container's engine is pid 1 again)", async () => {
    const path = file();
    await claim(open(path, undefined, 60_000, 600_000), me('the last run'));
    const taken = await claim(open(path), me('this run'));
    expect(taken.tookOverFrom).toMatchObject({ what: 'the last run', why: 'its process is gone' });
  });

  it('heartbeats keep a live holder claimed past the stale bound', async () => {
    const path = file();
    await claim(open(path, undefined, 20, 200), other('beating'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(claim(open(path, undefined, 20, 200), me('second'))).rejects.toBeInstanceOf(WriterTakenError);
  });
});
