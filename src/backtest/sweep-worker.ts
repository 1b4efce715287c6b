import { parentPort, workerData } from 'node:worker_threads';
import { runBacktest } from './run-backtest.js';
import type { SweepAnswer, SweepBaseOptions, SweepTask } from './sweep.js';
import { crossoverOf } from './sweep.js';

// One worker thread of a sweep (sweep.ts): runs the single-run backtest for each pair of windows it is given, one at a
// time, and answers with the run's summary (or why it failed).

const port = parentPort;
if (!port) throw new Error('sweep-worker.ts runs as a worker thread (sweep.ts starts it)');
const base = workerData as SweepBaseOptions;
port.on('message', (task: SweepTask) => {
  runBacktest({ ...base, strategy: crossoverOf(task.point) }).then(
    (result) => port.postMessage({ index: task.index, summary: result.summary } satisfies SweepAnswer),
    (error: unknown) => port.postMessage({ index: task.index, error: error instanceof Error ? error.message : String(error) } satisfies SweepAnswer),
  );
});
