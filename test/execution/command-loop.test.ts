import { describe, expect, it } from 'vitest';
import type { Input } from '../../src/core/decide.js';
import type { CommandDelivery } from '../../src/model/command-delivery.js';
import { createCommandLoop } from '../../src/services/execution/command-loop.js';
import { silentLogger } from '../../src/util/logger.js';

// The command loop reads the next batch while the last one commits, keeps the read order into the engine even when
// a batch's account preflight is slow, and stops reading at maxBatchesInFlight uncommitted batches.

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const turns = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i += 1) await new Promise((r) => setImmediate(r));
};
const delivery = (n: number): CommandDelivery => ({ entryId: `${n}-0`, raw: `{"n":${n}}`, deliveryCount: 1 });

/** A stream of `batches` one-command batches; each engine submission waits for its commit to be released. */
function harness(batches: number, opts: { maxBatchesInFlight?: number; slowPrepare?: (n: number) => Promise<void> } = {}) {
  let next = 0;
  const submitted: string[] = [];
  const commits: Deferred[] = [];
  const committed: string[] = [];
  let reads = 0;
  const loop = createCommandLoop({
    roomToRead: async () => undefined,
    read: async () => {
      reads += 1;
      if (next >= batches) {
        await new Promise((r) => setTimeout(r, 5));
        return [];
      }
      next += 1;
      return [delivery(next)];
    },
    route: (deliveries) => [...deliveries],
    prepare: async (deliveries) => {
      for (const d of deliveries) await opts.slowPrepare?.(Number(d.entryId.split('-')[0]));
      return deliveries.map((d): Input => ({ kind: 'command', delivery: d }));
    },
    submit: (inputs) => {
      if (inputs.length === 0) return Promise.resolve();
      submitted.push(...inputs.map((i) => (i.kind === 'command' ? i.delivery.entryId : '?')));
      const commit = deferred();
      commits.push(commit);
      return commit.promise;
    },
    committed: (deliveries) => committed.push(...deliveries.map((d) => d.entryId)),
    nowMs: () => 0,
    logger: silentLogger(),
    ...(opts.maxBatchesInFlight !== undefined ? { maxBatchesInFlight: opts.maxBatchesInFlight } : {}),
  });
  return { loop, submitted, commits, committed, reads: () => reads };
}

describe('command loop', () => {
  it('hands the next batch to the engine while the last one is still committing', async () => {
    const h = harness(3, { maxBatchesInFlight: 4 });
    h.loop.start();
    await turns();
    // None committed yet, and all three already queued in the engine (the old loop: one, then waited for its commit).
    expect(h.committed).toEqual([]);
    expect(h.submitted).toEqual(['1-0', '2-0', '3-0']);
    for (const c of h.commits) c.resolve();
    await turns();
    expect(h.committed).toEqual(['1-0', '2-0', '3-0']);
    await h.loop.stop();
  });

  it('stops reading at maxBatchesInFlight uncommitted batches, and reads on as they commit', async () => {
    const h = harness(5, { maxBatchesInFlight: 2 });
    h.loop.start();
    await turns();
    expect(h.submitted).toEqual(['1-0', '2-0']);
    const readsWhileFull = h.reads();
    await turns();
    expect(h.reads()).toBe(readsWhileFull);
    h.commits[0]?.resolve();
    await turns();
    expect(h.submitted).toEqual(['1-0', '2-0', '3-0']);
    for (const c of h.commits) c.resolve();
    await turns();
    for (const c of h.commits) c.resolve();
    await turns();
    for (const c of h.commits) c.resolve();
    await h.loop.stop();
    expect(h.committed).toEqual(['1-0', '2-0', '3-0', '4-0', '5-0']);
  });

  it('keeps the read order into the engine when an earlier batch waits on its preflight', async () => {
    const slow = deferred();
    const h = harness(3, { slowPrepare: (n) => (n === 1 ? slow.promise : Promise.resolve()) });
    h.loop.start();
    await turns();
    expect(h.submitted).toEqual([]);
    slow.resolve();
    await turns();
    expect(h.submitted).toEqual(['1-0', '2-0', '3-0']);
    for (const c of h.commits) c.resolve();
    await h.loop.stop();
  });

  it('a batch whose commit fails is not answered; the batches after it still commit', async () => {
    const h = harness(3);
    h.loop.start();
    await turns();
    h.commits[0]?.reject(new Error('log down'));
    h.commits[1]?.resolve();
    h.commits[2]?.resolve();
    await turns();
    await h.loop.stop();
    expect(h.committed).toEqual(['2-0', '3-0']);
  });
});
