import { describe, expect, it } from 'vitest';
import type { Decision, Input } from '../../src/core/decide.js';
import type { BrokenFence } from '../../src/deterministic-sim/cluster.js';
import { faultProfiles } from '../../src/deterministic-sim/faults.js';
import { InvariantViolation } from '../../src/deterministic-sim/check.js';
import { runSeed } from '../../src/deterministic-sim/run-seed.js';
import type { SeedStats } from '../../src/deterministic-sim/world.js';
import { noStats } from '../../src/deterministic-sim/world.js';

// CI slice of the deterministic simulation (`npm run sim -- --seeds N` runs more). Each seed crashes the
// engine at random points, duplicates and reorders deliveries, loses answers and gaps prices, then checks
// the invariants; a failure prints the seed's trace so it can be replayed exactly.

const seeds = Number(process.env.SIM_SEEDS ?? 200);
/** Seeds run with several engines sharing the log under a lease (`npm run sim -- --mode cluster` runs more). */
const clusterSeeds = Number(process.env.SIM_CLUSTER_SEEDS ?? 60);
/** Seeds run with both fault profiles (`npm run sim -- --faults harsh` runs more). */
const harshSeeds = 40;
/** A broken fence must fail a seed within this many (seen: the first failure at seed 1–15). */
const seedsToCatchBrokenFence = 60;

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

  /**
   * Seeds that once failed in longer runs than the CI slice's, kept as they were found (seed, steps): each replays the
   * bug it caught, so long as the simulation still draws the same run for it.
   */
  const seedsFoundFailing: readonly { seed: number; steps: number; cluster: boolean; bug: string }[] = [
    // An answer to a funding read settled a second read asked in the same simulated ms (after a funding push), whose own
    // answer a ban dropped: 4.35 USDT of funding never booked (core/trade-reads-owed.ts settleRead).
    { seed: 50050, steps: 600, cluster: false, bug: 'a read asked again in the same millisecond settled by the earlier read’s answer' },
    // A funding push lost on a user stream that went deaf with no gap noticed asked no read: 172.50 USDT never booked
    // (core/config.ts fundingBackstopMs).
    { seed: 200794, steps: 1500, cluster: true, bug: 'a funding push lost with no gap reported' },
    // A route rejected after six deliveries that died with their workers was not remembered as processed: its
    // producer's retry was answered a second time (core/decide.ts onCommand).
    { seed: 200393, steps: 1500, cluster: true, bug: 'a poison command answered twice' },
    // A stopping session closed on the engine's view of flat after a reconcile it could not act on (its flatten
    // unsettled) had shown the exchange holding more: 0.004 BTC left in no session (core/risk-rules.ts confirmFlat).
    { seed: 501191, steps: 2000, cluster: false, bug: 'a session closed while the exchange still held a position' },
    // A session start whose write landed as its worker died (never adopted, never observed) left the check that no
    // entry follows a liquidation without a new start blind to it: the new session's entries failed it. That failure
    // was itself swallowed by the cluster (below) and surfaced as "order … on the exchange was never planned".
    { seed: 1301135, steps: 1500, cluster: true, bug: 'a start the checks never saw' },
    // The stop-loss check after each beat at first valued a position with no quote yet (after a restart) as worth its
    // entry, so booked losses alone read as a breach the engine left standing; the engine waits for a quote (the
    // stale-feed rule covers a feed that never comes), and so does the check now.
    { seed: 50169, steps: 1000, cluster: false, bug: 'a position with no quote taken for a breached stop' },
  ];
  it.each(seedsFoundFailing)('holds every invariant where it once failed: seed $seed over $steps steps ($bug)', async ({ seed, steps, cluster }) => {
    const result = await runSeed(seed, steps, cluster ? { workers: 2 + (seed % 2), broken: 'none' } : null);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
  });

  it.each([false, true])('fails a seed on a decision check that fails (cluster: %s)', async (cluster) => {
    // With several engines a check's failure rejects the step of the worker that decided it (an engine observer):
    // the cluster took that for a worker's error it had already recorded, and the seed went on as if it held.
    const planted = (_input: Input, d: Decision): void => {
      const order = d.wal.find((e) => e.type === 'order.planned');
      if (order) throw new InvariantViolation(`planted: ${order.type}`);
    };
    const result = await runSeed(1, 300, cluster ? { workers: 2, broken: 'none' } : null, { extraCheck: planted });
    expect(result.error).toMatch(/planted: order.planned/);
  });

  it(`holds every invariant with the harsh fault profile over ${harshSeeds} seeds, which faults more than the standard one`, async () => {
    const failures: string[] = [];
    const totals = { standard: noStats(), harsh: noStats() };
    for (let seed = 1; seed <= harshSeeds; seed += 1) {
      const cluster = seed % 4 === 0 ? { workers: 2 + (seed % 2), broken: 'none' as const } : null;
      for (const name of ['standard', 'harsh'] as const) {
        const result = await runSeed(seed, 300, cluster, { faults: faultProfiles[name] });
        for (const k of Object.keys(totals[name]) as (keyof SeedStats)[]) totals[name][k] += result.stats[k];
        if (!result.ok) failures.push(`${name} seed ${seed}: ${result.error}\n${result.trace.slice(-25).join('\n')}`);
      }
    }
    expect(failures).toEqual([]);
    expect(totals.harsh.crashes).toBeGreaterThan(totals.standard.crashes * 1.5);
    expect(totals.harsh.venueRefusals + totals.harsh.lostCommits).toBeGreaterThan(totals.standard.venueRefusals + totals.standard.lostCommits);
  }, 120_000);

  it('is deterministic: the same seed gives the same run', async () => {
    const a = await runSeed(7, 200);
    const b = await runSeed(7, 200);
    expect(a.trace).toEqual(b.trace);
    expect(a.stats).toEqual(b.stats);
  });

  it(`holds every invariant with 2–3 engines sharing the log under a lease over ${clusterSeeds} seeds`, async () => {
    const failures: string[] = [];
    const totals: SeedStats = noStats();
    for (let seed = 1; seed <= clusterSeeds; seed += 1) {
      const result = await runSeed(seed, 300, { workers: 2 + (seed % 2), broken: 'none' });
      for (const k of Object.keys(totals) as (keyof SeedStats)[]) totals[k] += result.stats[k];
      if (!result.ok) failures.push(`seed ${seed}: ${result.error}\n${result.trace.slice(-25).join('\n')}`);
    }
    expect(failures).toEqual([]);
    // Every kind of fault must happen and every fence must have had to act, or the invariants held on an easy path.
    expect(totals.takeovers).toBeGreaterThan(clusterSeeds);
    expect(totals.deaths).toBeGreaterThan(clusterSeeds / 2);
    expect(totals.zombies).toBeGreaterThan(clusterSeeds / 2);
    expect(totals.leasesLapsed).toBeGreaterThan(clusterSeeds / 10);
    expect(totals.staleWritesRefused).toBeGreaterThan(clusterSeeds / 10);
    expect(totals.lateRequestsRefused).toBeGreaterThan(0);
    expect(totals.requestsNotSigned).toBeGreaterThan(clusterSeeds);
    // Fills depend on the order sessions are visited in (55 over these 60 seeds with sharded maps, 63 before): at least one every other seed.
    expect(totals.fills).toBeGreaterThan(clusterSeeds / 2);
  }, 120_000);

  it.each<[BrokenFence, RegExp]>([
    ['commit', /landed under token \d+ after token \d+ was handed out/],
    ['recvWindow', /reached the exchange while the lease is/],
    ['signing', /reached the exchange while the lease is/],
  ])(
    'catches a broken fence (%s) within a few seeds',
    async (broken, invariant) => {
      let caught: string | undefined;
      for (let seed = 1; seed <= seedsToCatchBrokenFence && caught === undefined; seed += 1) {
        caught = (await runSeed(seed, 300, { workers: 2 + (seed % 2), broken })).error;
      }
      expect(caught).toMatch(invariant);
    },
    60_000,
  );

  it('is deterministic with several engines too', async () => {
    const a = await runSeed(4, 200, { workers: 3, broken: 'none' });
    const b = await runSeed(4, 200, { workers: 3, broken: 'none' });
    expect(a.trace).toEqual(b.trace);
    expect(a.stats).toEqual(b.stats);
  });
});
