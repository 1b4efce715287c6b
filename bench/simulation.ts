import { runSeed } from '../src/deterministic-sim/run-seed.js';
import { knob, round1 } from './common.js';

// Deterministic simulation seeds per second (each validates every WAL record and outbound event it sees).

export async function simulationRun(): Promise<{ simulationSeeds: number; simulationFailedSeeds: number; simulationSeedsPerSecond: number }> {
  const seeds = knob('BENCH_SIM_SEEDS', 2_000);
  const t = performance.now();
  let failed = 0;
  for (let seed = 1; seed <= seeds; seed += 1) if (!(await runSeed(seed)).ok) failed += 1;
  return { simulationSeeds: seeds, simulationFailedSeeds: failed, simulationSeedsPerSecond: round1(seeds / ((performance.now() - t) / 1000)) };
}
