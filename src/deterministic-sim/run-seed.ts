import type { ClusterOptions } from './cluster.js';
import type { FaultProfile } from './faults.js';
import { SimCluster } from './cluster.js';
import { decisionChecks, nothingPlanned, settledChecks } from './invariants.js';
import { restart } from './restart.js';
import { settle, step, ticks } from './steps.js';
import type { SeedStats } from './world.js';
import { World } from './world.js';
import type { DecisionObserver } from '../engine/engine.js';
import { venueDecisionChecks } from './venue-faults.js';

const bothChecks =
  (a: DecisionObserver, b: DecisionObserver): DecisionObserver =>
  (input, d) => {
    a(input, d);
    b(input, d);
  };

function collectVenueStats(world: World): void {
  world.stats.venueRefusals = world.venue.refusals;
  world.stats.partialFills = world.venue.partialFills;
  const counts = world.cluster?.counts;
  if (!counts) return;
  world.stats.staleWritesRefused = counts.staleRefused;
  world.stats.lateRequestsRefused = counts.lateRefused;
  world.stats.requestsNotSigned = counts.notSigned;
}

// One deterministic simulation run: the real core and engine kernel, the in-memory log and the in-process
// exchange, all driven by one seeded PRNG and a simulated clock. Faults — crashes between any two steps,
// duplicate and reordered deliveries, lost answers, refusals, price gaps, a silent feed — are chosen by the
// seed, and partial fills are delivered as such; invariants are checked after every decision and once
// everything has settled. Same seed, same run.

export interface SeedResult {
  seed: number;
  ok: boolean;
  error?: string;
  trace: string[];
  stats: SeedStats;
}

/**
 * One seed's run; with `cluster`, several engines share the log and the exchange under a lease (cluster.ts) and the
 * engine's faults are theirs (death, pauses past the lease, missed renewals) instead of crash-restarts.
 */
export async function runSeed(
  seed: number,
  steps = 300,
  cluster: ClusterOptions | null = null,
  options: {
    /** A check of the caller's own on every decision, after the invariants' (a test's: one that throws must fail the seed). */
    extraCheck?: DecisionObserver;
    /** How often things go wrong (faults.ts); standard unless given. */
    faults?: FaultProfile;
  } = {},
): Promise<SeedResult> {
  const { extraCheck } = options;
  const world = new World(seed, options.faults);
  const planned = nothingPlanned();
  const invariants = bothChecks(decisionChecks(world, planned), venueDecisionChecks(world));
  const checks = extraCheck ? bothChecks(invariants, extraCheck) : invariants;
  const restartEngine = (): Promise<void> => restart(world, checks);
  try {
    if (cluster) {
      world.cluster = new SimCluster(world, cluster, checks);
      await world.cluster.start();
    } else await restartEngine();
    await ticks(world);
    for (let n = 0; n < steps; n += 1) {
      world.stats.steps += 1;
      await step(world, n, restartEngine);
      await world.cluster?.afterStep(n);
    }
    world.trace.push('settle');
    await settle(world);
    world.cluster?.check();
    await settledChecks(world, planned);
    collectVenueStats(world);
    return { seed, ok: true, trace: world.trace, stats: world.stats };
  } catch (error) {
    return { seed, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), trace: world.trace, stats: world.stats };
  }
}
