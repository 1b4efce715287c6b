import { describe, expect, it } from 'vitest';
import { runSeed } from '../../src/deterministic-sim/run-seed.js';

// CI slice of the deterministic simulation (`npm run sim -- --seeds N` runs more). Each seed crashes the
// engine at random points, duplicates and reorders deliveries, loses answers and gaps prices, then checks
// the invariants; a failure prints the seed's trace so it can be replayed exactly.

const seeds = Number(process.env.SIM_SEEDS ?? 200);

describe('deterministic simulation', () => {
  it(`holds every invariant over ${seeds} seeds`, async () => {
    const failures: string[] = [];
    const totals = { crashes: 0, orders: 0, fills: 0, kills: 0 };
    for (let seed = 1; seed <= seeds; seed += 1) {
      const result = await runSeed(seed);
      totals.crashes += result.stats.crashes;
      totals.orders += result.stats.orders;
      totals.fills += result.stats.fills;
      totals.kills += result.stats.kills;
      if (!result.ok) failures.push(`seed ${seed}: ${result.error}\n${result.trace.slice(-25).join('\n')}`);
    }
    expect(failures).toEqual([]);
    // The faults must actually happen, or the invariants were checked on an easy path.
    expect(totals.crashes).toBeGreaterThan(seeds);
    expect(totals.fills).toBeGreaterThan(seeds);
    expect(totals.kills).toBeGreaterThan(seeds / 10);
  }, 120_000);

  it('is deterministic: the same seed gives the same run', async () => {
    const a = await runSeed(7, 200);
    const b = await runSeed(7, 200);
    expect(a.trace).toEqual(b.trace);
    expect(a.stats).toEqual(b.stats);
  });
});
