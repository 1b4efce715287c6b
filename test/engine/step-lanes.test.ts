import { describe, expect, it } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Input } from '../../src/core/decide.js';
import type { Engine } from '../../src/engine/engine.js';
import { ManualClock } from '../../src/engine/clock.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { T0 } from '../core/fixtures.js';
import { bootBtcEngine } from '../support/btc-engine.js';

// What waits for the engine is cut into steps (src/engine/step-queue.ts): inputs waiting together share a step and
// its one log commit, and control inputs (ticks, commands, timer beats) go ahead of exchange news. One input a step,
// in arrival order, a tick that came behind a thousand orders' answers waited for a thousand commits.

const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'] };
const newsCount = 300;

async function engineWithCounters(): Promise<{ engine: Engine; order: string[]; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const log = openMemoryLog({ nowMs: () => clock.nowMs() });
  await log.init();
  const commit = log.commit.bind(log);
  log.commit = async (batch) => {
    // A real log answers after a round trip: the event loop turns while a step commits.
    await new Promise((resolve) => setImmediate(resolve));
    return commit(batch);
  };
  const order: string[] = [];
  const engine = await bootBtcEngine({
    log,
    config,
    clock,
    onEffects: () => undefined,
    onEngine: (created) => created.observe((input) => order.push(input.kind), { stateOfEachDecision: false }),
  });
  await engine.submit({ kind: 'feed_started', venue: 'paper', symbols: ['BTCUSDT'] });
  order.length = 0;
  return { engine, order, clock };
}

/** Exchange news the engine has no session for: decided (and answered by nothing), as an unknown order's update is. */
const news = (i: number): Input => ({ kind: 'resync', userId: `nobody-${i}` });
const tick: Input = { kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 50_000, ask: 50_010, time: T0 } };

describe('engine steps', () => {
  it('decide a tick queued behind exchange news before most of it', async () => {
    const { engine, order } = await engineWithCounters();
    const pending = Array.from({ length: newsCount }, (_, i) => engine.submit(news(i)));
    pending.push(engine.submitDeferred(() => tick));
    await Promise.all(pending);
    const tickAt = order.indexOf('tick');
    expect(order.length).toBe(newsCount + 1);
    // At most the step already under way when the tick came (the first) is decided before it.
    expect(tickAt).toBeLessThan(newsCount / 10);
  });

  it('decide news waiting together in shared steps (one log commit each), not one step per input', async () => {
    const { engine } = await engineWithCounters();
    const before = engine.stepTimes.steps;
    await Promise.all(Array.from({ length: newsCount }, (_, i) => engine.submit(news(i))));
    expect(engine.stepTimes.steps - before).toBeLessThan(newsCount / 2);
  });

  it('decide exchange news that waited maxBulkWaitMs while ticks keep coming, not after all of them', async () => {
    const { engine, order, clock } = await engineWithCounters();
    const ticks = 40;
    let sent = 0;
    // Each decided tick brings the next, 5 ms later: the control lane is never empty when a step is taken.
    const more: Promise<void>[] = [];
    engine.observe(
      (input) => {
        if (input.kind !== 'tick' || sent >= ticks) return;
        sent += 1;
        clock.advance(5);
        more.push(engine.submitDeferred(() => ({ ...tick, tick: { ...tick.tick, time: clock.nowMs() } })));
      },
      { stateOfEachDecision: false },
    );
    const first = engine.submitDeferred(() => tick);
    const answer = engine.submit(news(0));
    await first;
    await answer;
    while (more.length < ticks) await new Promise((resolve) => setImmediate(resolve));
    await Promise.all(more);
    const newsAt = order.indexOf('resync');
    expect(order.filter((k) => k === 'tick')).toHaveLength(ticks + 1);
    // Old: strict control first, the answer waited for all 41 ticks. Now: after 20 ms of them (5 ms each), at most 6.
    expect(newsAt).toBeGreaterThan(0);
    expect(newsAt).toBeLessThanOrEqual(6);
  });
});
