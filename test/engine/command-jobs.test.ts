import { describe, expect, it } from 'vitest';
import type { Input } from '../../src/core/decide.js';
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

  it("queue a signal source's route behind the traders' commands read with it, in a step of its own", async () => {
    const gated = await gatedEngine();
    // Cheap commands first, so a command's cost class is measured (microseconds each).
    await landAll(gated, gated.engine.submitCommands(read(maxCommandsPerJob, 'warm')));
    // From the configured signal source ('signals'); not a valid route (dead-lettered at once), but its sender reads.
    const route: Input = {
      kind: 'command',
      delivery: { entryId: 'route', raw: JSON.stringify({ id: 'r', userId: 'signals', type: 'signals.route', signals: 'none' }), deliveryCount: 1 },
    };
    const before = read(5, 'before');
    const after = read(5, 'after');
    const acks = await landAll(gated, gated.engine.submitCommands([...before, route, ...after]));
    // In the control lane, sized as a command, it shared the read's one step ([11], in read order). In the bulk lane
    // the traders' commands go first, and the route, sized as a fan-out's part, takes a step of its own.
    expect(acks).toEqual([10, 1]);
    const ids = (inputs: Input[]) => inputs.map((input) => (input.kind === 'command' ? input.delivery.entryId : ''));
    expect(gated.decided.slice(-11)).toEqual([...ids(before), ...ids(after), 'route']);
  });

  it("keep a signal source's own commands in their order", async () => {
    const gated = await gatedEngine();
    const fromSource = (entryId: string): Input => ({
      kind: 'command',
      delivery: { entryId, raw: JSON.stringify({ id: entryId, userId: 'signals', type: 'session.status' }), deliveryCount: 1 },
    });
    const batch = [fromSource('s1'), ...read(3, 'trader'), fromSource('s2'), fromSource('s3')];
    await landAll(gated, gated.engine.submitCommands(batch));
    expect(gated.decided.filter((id) => id.startsWith('s'))).toEqual(['s1', 's2', 's3']);
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
