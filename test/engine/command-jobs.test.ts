import { describe, expect, it } from 'vitest';
import { maxCommandsPerJob } from '../../src/engine/step-queue.js';
import { gatedEngine, unreadable, untilHeld } from '../support/gated-engine.js';

// Commands read together are queued as jobs of at most maxCommandsPerJob (Engine.submitCommands), so a step takes as
// many as fit its deciding budget instead of the whole read: at 1 000 sessions a read of 100 stop-loss changes was one
// step of up to 31 ms (bench:sweep; the slowest-step target is 20 ms).

const read = (count: number, tag: string) => Array.from({ length: count }, (_, i) => unreadable(`${tag}-${i}`));

/** Lands held commits until `done` settles; the commands each commit acknowledged (acks and dead letters), in order. */
async function landAll(gated: Awaited<ReturnType<typeof gatedEngine>>, done: Promise<unknown>): Promise<number[]> {
  const acksPerCommit: number[] = [];
  let settled = false;
  void done.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let turn = 0; turn < 500 && !settled; turn += 1) {
    const next = gated.held[0];
    if (next) {
      acksPerCommit.push(next.batch.ack.length + next.batch.deadLetters.length);
      await gated.land();
    } else await new Promise((resolve) => setImmediate(resolve));
  }
  await done;
  return acksPerCommit;
}

describe('commands read together', () => {
  it('are decided in steps of at most a job each while their cost is not known, in order', async () => {
    const gated = await gatedEngine();
    const count = 2 * maxCommandsPerJob + 3;
    const acks = await landAll(gated, gated.engine.submitCommands(read(count, '1')));
    // A class not measured yet is estimated at the whole budget: a job alone (step-queue.ts). Taken whole, the read
    // was one step and one commit of every ack.
    expect(acks[0]).toBe(maxCommandsPerJob);
    expect(acks.length).toBeGreaterThan(1);
    expect(acks.reduce((a, b) => a + b, 0)).toBe(count);
    expect(gated.decided).toEqual(read(count, '1').map((input) => (input.kind === 'command' ? input.delivery.entryId : '')));
  });

  it('leave a read no larger than a job as one step', async () => {
    const gated = await gatedEngine();
    const acks = await landAll(gated, gated.engine.submitCommands(read(maxCommandsPerJob, '2')));
    expect(acks).toEqual([maxCommandsPerJob]);
  });

  it('keep the parts committed before a part whose commit failed, and reject', async () => {
    const gated = await gatedEngine();
    const done = gated.engine.submitCommands(read(maxCommandsPerJob + 1, '3'));
    await untilHeld(gated.held, 1);
    await gated.land();
    await untilHeld(gated.held, 1);
    const failing = gated.held.shift();
    failing?.reject(new Error('log down'));
    await expect(done).rejects.toThrow('log down');
    expect(gated.decided).toHaveLength(maxCommandsPerJob);
  });
});
