import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { crossoverStrategy, defaultCrossoverParams } from '../strategies/crossover.js';
import type { Strategy } from '../strategies/strategy.js';
import type { BacktestOptions, BacktestResult } from './run-backtest.js';

// A parameter sweep of the crossover (`--sweep fast=5..20 slow=20..60`): every pair of windows is the same backtest a
// single run with --fast/--slow is (the same options, the same strategy object built by crossoverOf), run in worker
// threads, at most `workers` at a time, each worker taking the next pair as it finishes one.

/** The sweep's parameters: the crossover's windows, in bars. */
export interface SweepPoint {
  fast: number;
  slow: number;
}

/** The options a worker's run takes: everything of a single run but the strategy (built from the point) and progress. */
export type SweepBaseOptions = Omit<BacktestOptions, 'strategy' | 'onProgress'>;

export interface SweepRow extends SweepPoint {
  summary: BacktestResult['summary'];
}

/** Points a sweep may hold: more is a typo (fast=1..1000000), not a plan. */
export const maxSweepPoints = 10_000;

/** The crossover with these windows, as a single run and a sweep's run build it. */
export function crossoverOf(point: SweepPoint): Strategy {
  return crossoverStrategy({ ...defaultCrossoverParams, shortWindow: point.fast, longWindow: point.slow });
}

/** `5..20`, `5..20:5` (a step), `5,8,13` or `7`: whole numbers ≥ 1, ascending, no repeats. */
function parseRange(name: string, text: string): number[] {
  const range = /^(\d+)\.\.(\d+)(?::(\d+))?$/.exec(text);
  let values: number[];
  if (range) {
    const [from, to, step] = [Number(range[1]), Number(range[2]), Number(range[3] ?? 1)];
    if (step < 1 || to < from) throw new Error(`${name}=${text}: a range is FROM..TO[:STEP] with FROM ≤ TO and STEP ≥ 1`);
    if ((to - from) / step + 1 > maxSweepPoints) throw new Error(`${name}=${text}: more than ${maxSweepPoints} values`);
    values = [];
    for (let v = from; v <= to; v += step) values.push(v);
  } else if (/^\d+(,\d+)*$/.test(text)) values = text.split(',').map(Number);
  else throw new Error(`${name}=${text}: not a range (5..20, 5..20:5) or a list (5,8,13)`);
  if (values.some((v) => v < 1)) throw new Error(`${name}=${text}: windows are whole numbers of bars ≥ 1`);
  return values;
}

/**
 * The grid of `fast=… slow=…` (both required, in any order): every pair with slow > fast (a single run refuses the
 * others: equal windows never trade), fast-major. Throws with the reason on a malformed spec or an empty or oversized grid.
 */
export function parseSweep(words: readonly string[]): SweepPoint[] {
  const ranges = new Map<string, number[]>();
  for (const word of words.flatMap((w) => w.split(/\s+/)).filter((w) => w !== '')) {
    const eq = word.indexOf('=');
    const name = word.slice(0, eq);
    if (eq < 0 || (name !== 'fast' && name !== 'slow')) throw new Error(`--sweep takes fast=RANGE slow=RANGE, not ${JSON.stringify(word)}`);
    if (ranges.has(name)) throw new Error(`--sweep names ${name} twice`);
    ranges.set(name, parseRange(name, word.slice(eq + 1)));
  }
  const fasts = ranges.get('fast');
  const slows = ranges.get('slow');
  if (!fasts || !slows) throw new Error('--sweep needs both fast=RANGE and slow=RANGE');
  const points = fasts.flatMap((fast) => slows.filter((slow) => slow > fast).map((slow) => ({ fast, slow })));
  if (points.length === 0) throw new Error('--sweep has no pair with slow > fast');
  if (points.length > maxSweepPoints) throw new Error(`--sweep has ${points.length} pairs, more than ${maxSweepPoints}`);
  return points;
}

/** Default bound on the sweep's worker threads: one per CPU the process may use. */
export function defaultSweepWorkers(): number {
  return availableParallelism();
}

/** What a worker is told (one pair at a time) and answers. */
export type SweepTask = { index: number; point: SweepPoint };
export type SweepAnswer = { index: number; summary: BacktestResult['summary'] } | { index: number; error: string };

/**
 * A worker thread running sweep-worker.ts. It registers tsx's loader itself: a worker does not inherit loader hooks
 * registered in the main thread (bin/quant-engine.js registers tsx that way), and under `tsx` it gets them twice,
 * which tsx allows.
 */
function startWorker(base: SweepBaseOptions): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./sweep-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData: base });
}

/**
 * Runs every point of the grid, at most `workers` at a time (named bound, ≥ 1), and gives the rows in the grid's
 * order. The first failed run stops the sweep with its error.
 */
export async function runSweep(
  base: SweepBaseOptions,
  points: readonly SweepPoint[],
  workers: number,
  onDone?: (done: number, total: number) => void,
): Promise<SweepRow[]> {
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a whole number ≥ 1, got ${workers}`);
  const rows: (SweepRow | undefined)[] = points.map(() => undefined);
  let next = 0;
  let done = 0;
  const pool = Array.from({ length: Math.min(workers, points.length) }, () => startWorker(base));
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const give = (): void => {
              if (next >= points.length) {
                resolve();
                return;
              }
              const task: SweepTask = { index: next, point: points[next] as SweepPoint };
              next += 1;
              worker.postMessage(task);
            };
            worker.on('message', (answer: SweepAnswer) => {
              if ('error' in answer) {
                reject(new Error(`sweep run ${JSON.stringify(points[answer.index])}: ${answer.error}`));
                return;
              }
              rows[answer.index] = { ...(points[answer.index] as SweepPoint), summary: answer.summary };
              done += 1;
              onDone?.(done, points.length);
              give();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (next < points.length || rows.some((r) => r === undefined))
                reject(new Error(`a sweep worker exited (code ${code}) before the sweep was done`));
            });
            give();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return rows as SweepRow[];
}

/** The results as a text table, one row per pair, in the grid's order. */
export function sweepTable(rows: readonly SweepRow[]): string {
  const columns: [string, (r: SweepRow) => string][] = [
    ['fast', (r) => String(r.fast)],
    ['slow', (r) => String(r.slow)],
    ['trades', (r) => String(r.summary.trades)],
    ['return %', (r) => r.summary.totalReturnPct.toFixed(4)],
    ['max dd %', (r) => r.summary.maxDrawdownPct.toFixed(4)],
    ['sharpe', (r) => r.summary.sharpe.toFixed(3)],
    ['sortino', (r) => r.summary.sortino.toFixed(3)],
    ['win %', (r) => r.summary.winRatePct.toFixed(2)],
    ['maker %', (r) => r.summary.makerSharePct.toFixed(2)],
    ['fees USD', (r) => r.summary.feesUsd.toFixed(4)],
    ['funding USD', (r) => r.summary.fundingUsd.toFixed(4)],
    // A pair whose kill switch ended its run early (a stop-loss, the horizon): its figures are of the run up to then.
    ['ended by', (r) => r.summary.killSwitch?.reason ?? 'data end'],
  ];
  const cells = [columns.map(([name]) => name), ...rows.map((r) => columns.map(([, cell]) => cell(r)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => (row[i] as string).length)));
  return cells.map((row) => row.map((cell, i) => cell.padStart(widths[i] as number)).join('  ')).join('\n');
}
