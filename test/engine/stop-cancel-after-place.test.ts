import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/core/outputs.js';
import type { StopOutcome } from '../../src/model/protective-stops.js';
import { executorOn } from '../support/executor.js';
import { quietAccount } from '../support/quiet-account.js';

// A protective stop removed while its placement was still on its way: both go on the priority lane, which runs two
// requests at once, so the cancel could reach the exchange first, find nothing, and the placement then rested there
// untracked after the user's /stop (a CI run left one POSTed after its DELETE). The cancel now waits for the
// placement's answer and is sent after it, whatever that answer was.

const clientAlgoId = 'qs1-7';
const placeStop: Effect = {
  kind: 'place_stop',
  userId: 'u',
  lane: 'priority',
  request: { clientAlgoId, symbol: 'BTCUSDT', side: 'SELL', triggerPrice: '60000.0' },
};
const cancelStop: Effect = { kind: 'cancel_stop', userId: 'u', lane: 'priority', symbol: 'BTCUSDT', clientAlgoId };

/** Lets every pending promise callback run (the executor's budget admission and lane pump are a few awaits deep). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
}

/** An account whose stop placement answers only when the test says so, logging the exchange calls in order. */
function slowPlacement(): { calls: string[]; answer: (outcome: StopOutcome) => void; executor: ReturnType<typeof executorOn> } {
  const calls: string[] = [];
  let answer: (outcome: StopOutcome) => void = () => undefined;
  const account = quietAccount({
    placeProtectiveStop: async (req) => {
      calls.push(`place ${req.clientAlgoId}`);
      const outcome = await new Promise<StopOutcome>((resolve) => (answer = resolve));
      calls.push(`placed ${req.clientAlgoId} ${outcome.kind}`);
      return outcome;
    },
    cancelProtectiveStop: async (_symbol, id) => {
      calls.push(`cancel ${id}`);
      return { kind: 'accepted' };
    },
  });
  return { calls, answer: (outcome) => answer(outcome), executor: executorOn(account) };
}

describe('a protective stop cancelled while its placement is on its way', () => {
  it('is cancelled only after the placement was answered, and that answer reached the core first', async () => {
    const { calls, answer, executor: run } = slowPlacement();
    run.executor.submit(placeStop);
    await settle();
    run.executor.submit(cancelStop);
    await settle();
    expect(calls).toEqual([`place ${clientAlgoId}`]); // the lane had a free slot: the old executor sent the cancel here

    answer({ kind: 'accepted' });
    await run.executor.idle();
    expect(calls).toEqual([`place ${clientAlgoId}`, `placed ${clientAlgoId} accepted`, `cancel ${clientAlgoId}`]);
    expect(run.results).toEqual([{ kind: 'stop_placed', userId: 'u', symbol: 'BTCUSDT', clientAlgoId, outcome: { kind: 'accepted' } }]);
  });

  it('is cancelled after a rejected or unknown placement too (the cancel changes nothing in the core; an unknown one may rest)', async () => {
    for (const outcome of [
      { kind: 'rejected', code: -2021, message: 'Order would immediately trigger.' },
      { kind: 'unknown', reason: 'timeout of 3000ms exceeded' },
    ] as const) {
      const { calls, answer, executor: run } = slowPlacement();
      run.executor.submit(placeStop);
      run.executor.submit(cancelStop); // still queued behind the budget's admission: held as well
      run.executor.submit(cancelStop); // asked twice: sent once
      await settle();
      expect(calls).toEqual([`place ${clientAlgoId}`]);
      answer(outcome);
      await run.executor.idle();
      expect(calls).toEqual([`place ${clientAlgoId}`, `placed ${clientAlgoId} ${outcome.kind}`, `cancel ${clientAlgoId}`]);
    }
  });

  it('is not held for another stop, nor once its placement was answered', async () => {
    const { calls, answer, executor: run } = slowPlacement();
    run.executor.submit(placeStop);
    await settle();
    run.executor.submit({ ...cancelStop, clientAlgoId: 'qs1-3' }); // an orphan the listing found: nothing to wait for
    await settle();
    expect(calls).toEqual([`place ${clientAlgoId}`, 'cancel qs1-3']);
    answer({ kind: 'accepted' });
    await run.executor.idle();
    run.executor.submit(cancelStop);
    await run.executor.idle();
    expect(calls).toEqual([`place ${clientAlgoId}`, 'cancel qs1-3', `placed ${clientAlgoId} accepted`, `cancel ${clientAlgoId}`]);
  });
});
