import type { Input } from '../core/decide.js';
import { Fifo } from '../util/fifo.js';

// What waits for the engine, and how it is cut into steps. Two lanes, each first in, first out:
// - control: commands, market data (ticks, feed starts, filters), timer beats and the boot decision: what a trader
//   waits on (a /stop, a stop-loss breached by a tick, a stale feed) goes ahead of everything else that waits;
// - bulk: exchange news (answers, order updates, funding), reconciliation reads, a fan-out's next part.
// A step takes what waits in one lane (control first), as many inputs as fit its decide budget (StepSizer), and
// is decided and committed as one (one log write). One input at a time, a thousand orders' answers made a thousand
// log round trips, all queued ahead of the next tick; but a step is not preemptible, so a control input arriving
// meanwhile waits for it whole: 256 answers a step (a fixed bound) made /stop → flatten p99 at 1 000 sessions
// 318 ms instead of 32. Jobs are never split: a batch larger than the bound is a step of its own, as before. The
// lanes reorder only inputs from different sources, which reach the engine in no guaranteed order anyway; each
// source's own inputs stay in order (one lane per kind).
// Control first is not control only: while control inputs keep coming (ticks of many symbols, a flood of commands,
// ten thousand session starts), bulk news that has waited maxBulkWaitMs takes the next step. Without that bound the
// answers to a 10 000-session setup's orders waited past the core's order-result timeout, the core asked the
// exchange about orders it had in fact refused (-2013, 39 000 reads a minute), and no fallback went out.

/** Inputs decided and committed together at most, when several jobs wait (a single larger job is taken whole). */
export const maxStepInputs = 256;
/** Deciding time a step that gathers waiting jobs aims at (ms): what a control input arriving meanwhile waits at most. */
export const stepDecideBudgetMs = 2;
/**
 * The longest the oldest bulk job waits behind control steps (ms, the engine's clock): past it, the next step is
 * bulk. A control input then waits for at most one bulk step (one decide budget) more.
 */
export const maxBulkWaitMs = 20;
/**
 * Commands read together are queued as jobs of at most this many (Engine.submitCommands), so that a step gathers as
 * many as fit stepDecideBudgetMs instead of taking a whole read: 100 stop-loss changes read at once at 1 000 sessions
 * decided in 3–13 ms, one step of up to 31 ms (bench:sweep). 16: one job of the costliest command (a start, ~0.3 ms)
 * stays within a few budgets, and a read of 100 is seven jobs.
 */
export const maxCommandsPerJob = 16;
/** Weight of the newest input in the running mean of the deciding time of its cost class. */
const decideCostSmoothing = 0.2;

/**
 * What an input costs to decide depends on what it is: an order's answer ~0.1 ms, a route's next 20 users ~5 ms at
 * 10 000 sessions. A step gathered by one running mean over all inputs took a dozen route parts at once whenever cheap
 * answers dominated the mean (steps of 190 ms to 1 s at 10 000 sessions), so the mean is kept per cost class: the
 * input's kind, and `continuation` for a fan-out's next part (Engine.submitContinuation).
 */
export type CostClass = Input['kind'] | 'continuation';

/** Weight of the newest step in the running ratio of what steps took to decide to what their inputs' means said. */
const stepCalibrationSmoothing = 0.1;
/** Steps of fewer inputs do not move that ratio: one input's own spread is its class mean's business. */
const minCalibrationInputs = 8;
/** Bounds of the ratio: a run of odd steps moves the estimates at most this far either way. */
const minStepCalibration = 0.5;
const maxStepCalibration = 8;

/**
 * How long a step's waiting jobs should take to decide, from the running mean per cost class of their inputs, scaled
 * by how far whole steps have run from what was estimated when they were gathered. The means follow the last few
 * inputs of each class, and a young-generation GC pause that lands inside one input (4–9 ms at 1 000 sessions, in
 * most steps of a hundred commands) falls out of them within a few inputs: a flood of stop-loss changes was gathered
 * at the 10–20 µs a command its means read between pauses, while its steps averaged ~70, so a step took 100–170 of
 * them and decided for 5–15 ms instead of stepDecideBudgetMs. Each gathered step's deciding time over its estimate
 * is kept as a running ratio (over steps of several inputs), and estimates are scaled by it.
 */
export class StepSizer {
  /**
   * Each class's mean in a box of its own, changed in place: a number stored in a Map is a heap object, so setting one
   * per decided input allocated one (16 MB over four backtests of the sample, a sixth of what a quote allocates).
   */
  private readonly msPerInput = new Map<CostClass, { ms: number }>();
  private calibration = 1;
  /** The step being decided: its inputs, the estimate it was gathered at (ms, unscaled; 0: not gathered) and its deciding time. */
  private stepInputs = 0;
  private stepEstimateMs = 0;
  private stepElapsedMs = 0;

  /** One input of this class took `elapsedMs` to decide. */
  decided(costClass: CostClass, elapsedMs: number): void {
    const mean = this.msPerInput.get(costClass);
    this.stepInputs += 1;
    this.stepElapsedMs += elapsedMs;
    if (mean === undefined) this.msPerInput.set(costClass, { ms: elapsedMs });
    else mean.ms += decideCostSmoothing * (elapsedMs - mean.ms);
  }

  /** A step was gathered at this estimate (ms, as estimateMs gave it): what its deciding is compared with. */
  gathered(estimateMs: number): void {
    this.stepEstimateMs = estimateMs / this.calibration;
    this.stepInputs = 0;
    this.stepElapsedMs = 0;
  }

  /** The step's inputs are decided (each told to `decided`): a gathered step of several moves the ratio. */
  stepDone(): void {
    if (this.stepInputs >= minCalibrationInputs && this.stepEstimateMs > 0) {
      const ratio = Math.min(maxStepCalibration, Math.max(minStepCalibration, this.stepElapsedMs / this.stepEstimateMs));
      this.calibration += stepCalibrationSmoothing * (ratio - this.calibration);
    }
    this.stepInputs = 0;
    this.stepEstimateMs = 0;
    this.stepElapsedMs = 0;
  }

  /** The expected deciding time of a job (ms); a class not yet measured counts as the whole budget (taken alone). */
  estimateMs(job: StepJob): number {
    let ms = 0;
    for (const costClass of job.costClasses) ms += this.msPerInput.get(costClass)?.ms ?? stepDecideBudgetMs;
    return ms * this.calibration;
  }
}

const controlKinds: ReadonlySet<Input['kind']> = new Set<Input['kind']>(['command', 'tick', 'feed_started', 'filters', 'rules_unreadable', 'timer', 'boot']);

export type Lane = 'control' | 'bulk';

export function laneOf(inputs: readonly Input[]): Lane {
  return inputs.some((input) => controlKinds.has(input.kind)) ? 'control' : 'bulk';
}

export interface StepJob {
  /** Inputs known now, or built when the job's step is assembled (the newest tick of a symbol; null: nothing). */
  inputs: Input[] | (() => Input | null);
  count: number;
  /** The cost class of each input, for the step's deciding budget (StepSizer). */
  costClasses: readonly CostClass[];
  /** When it was queued (ms, the engine's clock); set by StepQueue.push. */
  queuedAtMs?: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class StepQueue {
  private readonly lanes: Record<Lane, Fifo<StepJob>> = { control: new Fifo(), bulk: new Fifo() };

  get empty(): boolean {
    return this.lanes.control.length === 0 && this.lanes.bulk.length === 0;
  }

  push(lane: Lane, job: StepJob, nowMs: number): void {
    job.queuedAtMs = nowMs;
    this.lanes[lane].push(job);
  }

  /**
   * The next step's jobs, as many as fit stepDecideBudgetMs by `sizer`'s estimate (at least one) and maxStepInputs: the
   * control lane's first jobs if any wait, else the bulk lane's; but the bulk lane's when its oldest job has waited
   * maxBulkWaitMs.
   */
  takeStep(sizer: StepSizer, nowMs: number): StepJob[] {
    const oldestBulk = this.lanes.bulk.peek();
    const bulkOverdue = oldestBulk !== undefined && nowMs - (oldestBulk.queuedAtMs ?? nowMs) >= maxBulkWaitMs;
    const lane = this.lanes.control.length > 0 && !bulkOverdue ? this.lanes.control : this.lanes.bulk;
    const taken: StepJob[] = [];
    let inputs = 0;
    let ms = 0;
    for (let next = lane.peek(); next; next = lane.peek()) {
      const nextMs = sizer.estimateMs(next);
      if (taken.length > 0 && (inputs + next.count > maxStepInputs || ms + nextMs > stepDecideBudgetMs)) break;
      lane.shift();
      taken.push(next);
      inputs += next.count;
      ms += nextMs;
    }
    sizer.gathered(ms);
    return taken;
  }
}

/** The inputs of a step's jobs, in order, deferred ones built now. */
export function stepInputs(jobs: readonly StepJob[]): Input[] {
  const inputs: Input[] = [];
  for (const job of jobs) {
    if (typeof job.inputs === 'function') {
      const built = job.inputs();
      if (built) inputs.push(built);
    } else {
      for (const input of job.inputs) inputs.push(input);
    }
  }
  return inputs;
}
