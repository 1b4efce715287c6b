import { round1 } from './common.js';
import type { SweepEntry } from './sweep.js';
import { runSweepSize, sweepSizes } from './sweep.js';

// `npm run bench:sweep`: the session sweep alone (BENCH_SWEEP picks the sizes, e.g. BENCH_SWEEP=1000), for
// working on one size without the ~8 min of the full bench. Prints { sessionSweep } with the same entry fields
// as `npm run bench`, so its figures compare with a full run's.

const startedAt = performance.now();
const sessionSweep: SweepEntry[] = [];
for (const size of sweepSizes()) {
  const entry = await runSweepSize(size);
  process.stderr.write(`${JSON.stringify({ part: `sweep ${size}`, atSeconds: Math.round((performance.now() - startedAt) / 1000), figures: entry })}\n`);
  sessionSweep.push(entry);
}
process.stdout.write(`${JSON.stringify({ sessionSweep, benchSeconds: round1((performance.now() - startedAt) / 1000) })}\n`);
