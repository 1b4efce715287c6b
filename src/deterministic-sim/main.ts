import { parseFlags } from '../util/args.js';
import { runSeed } from './run-seed.js';

// `npm run sim -- --seeds N [--from S] [--steps K] [--trace]`: deterministic simulation over N seeds.
// Prints one JSON summary line; a failing seed prints its replayable trace (run it again with --from).

const flags = parseFlags(process.argv.slice(2));
const seeds = Number(flags.seeds ?? 200);
const from = Number(flags.from ?? 1);
const steps = Number(flags.steps ?? 300);
const started = performance.now();
const failures: { seed: number; error: string }[] = [];
const totals = { steps: 0, crashes: 0, orders: 0, fills: 0, kills: 0, commands: 0, venueRefusals: 0, partialFills: 0 };
for (let seed = from; seed < from + seeds; seed += 1) {
  const result = await runSeed(seed, steps);
  for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += result.stats[k];
  if (!result.ok) {
    failures.push({ seed, error: result.error ?? 'unknown' });
    process.stderr.write(
      `seed ${seed} FAILED: ${result.error}\n  replay: npm run sim -- --seeds 1 --from ${seed} --steps ${steps}\n${result.trace
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
  `${JSON.stringify({ seeds, from, stepsPerSeed: steps, failed: failures.length, seedsPerSecond: Math.round((seeds / seconds) * 10) / 10, ...totals, failures: failures.slice(0, 20) })}\n`,
);
process.exitCode = failures.length > 0 ? 1 : 0;
