import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Input } from '../../src/core/decide.js';
import { Engine } from '../../src/engine/engine.js';
import type { Strategy } from '../../src/strategies/strategy.js';
import { sampleBacktest } from '../support/sample-backtest.js';

// The backtest beats the watchdog every simulated second, as live. On the shipped sample (about a quote a second) a
// beat came with nearly every quote and cost more than the quote: yet with nothing due (no open order, no check or
// equity sample due, no silent feed) a beat decides nothing. Those beats are now skipped (core/timer-due.ts); the
// results are unchanged (same-runs.test.ts fingerprints five runs; the simulation checks every skipped beat would have
// decided nothing). Here: how many beats reach the engine.

/** Targets one weight at every bar: 0 never trades; 0.5 enters once and holds. */
const holding = (weight: number): Strategy => ({ name: 'hold', onBar() {}, targets: () => [{ symbol: 'BTCUSDT', weight }] });

async function beatsDecided(weight: number): Promise<{ beats: number; quotes: number }> {
  let beats = 0;
  const submitNow = Engine.prototype.submitNow;
  vi.spyOn(Engine.prototype, 'submitNow').mockImplementation(function (this: Engine, inputs: Input[]) {
    for (const input of inputs) if (input.kind === 'timer') beats += 1;
    return submitNow.call(this, inputs);
  });
  // The sample's first hour (it starts at 06:00): about 3 600 quotes, a second apart.
  const { summary } = await sampleBacktest(holding(weight), '2026-01-01T07:00:00Z');
  return { beats, quotes: summary.quotes };
}

describe('watchdog beats in a backtest', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a flat session gets the beats that sample or check it, not one a second', { timeout: 60_000 }, async () => {
    const { beats, quotes } = await beatsDecided(0);
    expect(quotes).toBeGreaterThan(3_000);
    // Idle equity samples and stop checks are a minute apart: ~60 in the hour, plus the few a route's changes wake.
    // Every beat was decided before: ~3 600.
    expect(beats).toBeLessThan(quotes / 20);
  });

  it('a holding session gets a beat per due sample or check (every 5 s), not one a second', { timeout: 60_000 }, async () => {
    const { beats, quotes } = await beatsDecided(0.5);
    expect(beats).toBeLessThan(quotes / 3);
    // Not skipped into silence: its equity is sampled every 5 s (equitySampleMs) and its stop checked as often.
    expect(beats).toBeGreaterThan(quotes / 10);
  });
});
