import { parseFlags } from '../util/args.js';
import type { BrokenFence, ClusterOptions } from './cluster.js';
import { brokenFences } from './cluster.js';
import type { FaultProfileName } from './faults.js';
import { faultProfileNames, faultProfiles } from './faults.js';
import { runSeed } from './run-seed.js';
import { noStats } from './world.js';

// `npm run sim -- --seeds N [--from S] [--steps K] [--trace] [--mode mixed|single|cluster] [--faults standard|harsh] [--break commit|recvWindow|signing]`:
// deterministic simulation over N seeds. Mixed (the default) runs every clusterEverySeeds-th seed with several
// engines sharing the log under a lease (cluster.ts), 2 or 3 of them by the seed, and the rest with one engine.
// `--break` disables a fence on purpose, to show the invariants catch it (the run must then fail).
// Prints one JSON summary line; a failing seed prints its replayable trace (run it again with --from).

/** In mixed mode, every this many seeds one runs with several engines. */
const clusterEverySeeds = 4;

const flags = parseFlags(process.argv.slice(2));
const seeds = Number(flags.seeds ?? 200);
const from = Number(flags.from ?? 1);
const steps = Number(flags.steps ?? 300);
const mode = flags.mode ?? 'mixed';
if (!['mixed', 'single', 'cluster'].includes(mode)) throw new Error(`--mode must be mixed, single or cluster, not ${mode}`);
const faultsName = (flags.faults ?? 'standard') as FaultProfileName;
if (!faultProfileNames.includes(faultsName)) throw new Error(`--faults must be one of ${faultProfileNames.join(', ')}, not ${faultsName}`);
const faults = faultProfiles[faultsName];
const broken = (flags.break ?? 'none') as BrokenFence;
if (!brokenFences.includes(broken)) throw new Error(`--break must be one of ${brokenFences.join(', ')}, not ${broken}`);

/** The seed's engines: one, or a cluster of 2 or 3. */
function clusterOf(seed: number): ClusterOptions | null {
  const clustered = mode === 'cluster' || (mode === 'mixed' && seed % clusterEverySeeds === 0);
  return clustered ? { workers: 2 + (seed % 2), broken } : null;
}

const started = performance.now();
const failures: { seed: number; error: string }[] = [];
const totals = noStats();
let clusterSeeds = 0;
let firstFailureAfterSeeds: number | null = null;
for (let seed = from; seed < from + seeds; seed += 1) {
  const cluster = clusterOf(seed);
  if (cluster) clusterSeeds += 1;
  const result = await runSeed(seed, steps, cluster, { faults });
  for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += result.stats[k];
  if (!result.ok) {
    failures.push({ seed, error: result.error ?? 'unknown' });
    firstFailureAfterSeeds ??= seed - from + 1;
    process.stderr.write(
      `seed ${seed} FAILED: ${result.error}\n  replay: npm run sim -- --seeds 1 --from ${seed} --steps ${steps} --mode ${cluster ? 'cluster' : 'single'}${faultsName === 'standard' ? '' : ` --faults ${faultsName}`}${broken === 'none' ? '' : ` --break ${broken}`}\n${result.trace
        .slice(-40)
        .map((l) => `  ${l}`)
        .join('\n')}\n`,
    );
  } else if (flags.trace === 'true') {
    process.stderr.write(`${result.trace.join('\n')}\n`);
  }
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({ seeds, from, stepsPerSeed: steps, mode, faults: faultsName, clusterSeeds, ...(broken === 'none' ? {} : { broken, firstFailureAfterSeeds }), failed: failures.length, seconds: Math.round(seconds * 10) / 10, seedsPerSecond: Math.round((seeds / seconds) * 10) / 10, ...totals, failures: failures.slice(0, 20) })}\n`,
);
process.exitCode = failures.length > 0 ? 1 : 0;
