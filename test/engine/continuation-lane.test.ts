import { describe, expect, it } from 'vitest';
import { gatedEngine, unreadable, untilHeld } from '../support/gated-engine.js';

// A fan-out's next part (Engine.submitContinuation: a signals.route's next users) waits in the bulk lane
// (step-queue.ts), not in the control lane with the commands: at 10 000 sessions ten routes' parts were queued at any
// time, and a /stop read meanwhile waited behind all of them (25–750 ms between read and step in bench:sweep with
// BENCH_TRACE_STOPS). Bulk still moves: its oldest job takes a step once it has waited maxBulkWaitMs.

describe('a fan-out part waits in the bulk lane', () => {
  it('decides a command queued after two routes’ next parts before them', async () => {
    const { engine, held, land, decided } = await gatedEngine();
    const busy = engine.submit(unreadable('1-1')); // a step committing: what comes next waits
    await untilHeld(held, 1);
    const parts = [engine.submitContinuation(unreadable('2-1')), engine.submitContinuation(unreadable('2-2'))];
    await new Promise((resolve) => setImmediate(resolve)); // the parts are queued a turn after they are submitted
    const stop = engine.submit(unreadable('3-1'));
    await land();
    await busy;
    const all = Promise.all([...parts, stop]);
    let settled = false;
    void all.then(() => (settled = true));
    for (let turn = 0; turn < 200 && !settled; turn += 1) {
      if (held.length > 0) await land();
      else await new Promise((resolve) => setImmediate(resolve));
    }
    await all;
    expect(decided).toEqual(['1-1', '3-1', '2-1', '2-2']);
  });
});
