import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Engine, EngineLimits } from '../../src/engine/engine.js';
import { defaultEngineLimits } from '../../src/engine/engine.js';
import { ManualClock } from '../../src/engine/clock.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { T0 } from '../core/fixtures.js';
import { bootBtcEngine } from '../support/btc-engine.js';

// EngineLimits.timeSteps false (the backtest's engine, src/backtest/venue.ts): its steps read no wall clock. A
// backtest's clock is simulated and it reports no step times, and four reads a step (~80 ns each here) were ~5 % of
// a quote's cost. Steps and their decisions are the same either way; only their times read 0.

const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'] };

async function bootEngine(limits: EngineLimits): Promise<Engine> {
  const clock = new ManualClock(T0);
  const log = openMemoryLog({ nowMs: () => clock.nowMs() });
  await log.init();
  const engine = await bootBtcEngine({ log, config, clock, onEffects: () => undefined, onEngine: () => undefined, limits });
  await engine.submit({ kind: 'feed_started', venue: 'paper', symbols: ['BTCUSDT'] });
  return engine;
}

/** Wall-clock reads while `work` runs. */
async function wallReadsDuring(work: () => Promise<unknown> | unknown): Promise<number> {
  const now = vi.spyOn(performance, 'now');
  try {
    await work();
    return now.mock.calls.length;
  } finally {
    now.mockRestore();
  }
}

const ticks = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    kind: 'tick' as const,
    venue: 'paper' as const,
    tick: { symbol: 'BTCUSDT', bid: 50_000 + i, ask: 50_010 + i, time: T0 },
  }));

describe('untimed engine steps', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a timed engine (the default) reads the wall clock around each step and each decision', async () => {
    const engine = await bootEngine(defaultEngineLimits);
    const reads = await wallReadsDuring(async () => {
      for (const tick of ticks(10)) await engine.submitNow([tick]);
      await engine.submit(ticks(1)[0] as never);
    });
    expect(reads).toBeGreaterThanOrEqual(40);
    expect(engine.stepTimes.steps).toBeGreaterThan(10);
  });

  it('with timeSteps false, neither submitNow nor a queued step reads it, and the steps are still counted', async () => {
    const engine = await bootEngine({ ...defaultEngineLimits, timeSteps: false });
    const before = engine.stepTimes.steps;
    const reads = await wallReadsDuring(async () => {
      for (const tick of ticks(10)) await engine.submitNow([tick]);
      await engine.submit(ticks(1)[0] as never);
    });
    expect(reads).toBe(0);
    expect(engine.stepTimes.steps - before).toBe(11);
    expect(engine.stepTimes.slowestMs).toBe(0);
  });
});
