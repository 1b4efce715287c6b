import type { CoreConfig } from '../core/config.js';
import type { Decision, DecideOptions, Input } from '../core/decide.js';
import { decide, rejectUndecidable } from '../core/decide.js';
import { controlFirst, sentBySignalSource } from '../core/command-priority.js';
import type { WalEvent } from '../core/events.js';
import { foldEvents } from '../core/events.js';
import type { OutboundEvent } from '../contract/outbound.js';
import type { DeadLetter } from '../model/command-delivery.js';
import { ownedDicts } from '../core/dict.js';
import { ledgerEntriesOf } from '../core/ledger.js';
import { nextTimerWorkMs } from '../core/timer-due.js';
import { serializeLedgerEntry } from '../contract/ledger.js';
import type { DurableState, EngineState } from '../core/state.js';
import { emptyDurableState } from '../core/state.js';
import { parseSnapshot, snapshotSlices } from '../contract/snapshot.js';
import { parseWalRecord, serializeWalEvent } from '../contract/wal.js';
import type { CommitBatch, EngineLog } from '../log/port.js';
import { CommitOutcomeUnknownError } from '../log/port.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from './clock.js';
import { defaultCommitOutcomeResolveMs, resolveCommitOutcome } from './commit-outcome.js';
import type { CostClass, StepJob } from './step-queue.js';
import { laneOf, maxCommandsPerJob, StepQueue, StepSizer, stepInputs } from './step-queue.js';

// The imperative shell around decide(): one step at a time (step-queue.ts cuts what waits into steps), its inputs
// decided in order. For each step it commits the WAL events, outbound events and acks in one atomic log write, and only then adopts the new state and
// hands effects to the executor. If the commit fails, the state is unchanged and the command stays
// unacknowledged (it will be redelivered), so nothing is half-done. If its answer was lost (the log cannot say
// whether it was written), the WAL is read before anything else is done: a step found there is adopted as if the
// commit had answered, one not found fails as above, and anything else stops the engine (commitOrResolve).

export interface EngineLimits {
  /** A snapshot is written after this many WAL events, so boot time does not grow with history. */
  snapshotEveryWalEvents: number;
  /** WAL records read per batch during replay. */
  replayBatchEntries: number;
  /** A snapshot is also written once this long has passed since the last with WAL events since (ms; absent = by count only). */
  snapshotEveryMs?: number;
  /**
   * By count, a snapshot is due only once the WAL written since the last one (bytes) is at least this many times
   * that snapshot's size (absent = by count alone). A snapshot costs its whole state (up to 100 000 remembered
   * command ids, every session): written every 1 000 events it was 40 % of a command's cost (bench/command-cost.ts).
   * Tied to its size, writing snapshots costs at most 1/ratio byte per WAL byte, and a boot replays at most about
   * ratio × the snapshot's bytes of WAL beyond it (or snapshotEveryWalEvents events, whichever is more). The default
   * is 4: at 1, snapshots wrote as many bytes as the WAL, about a tenth of a command's CPU at 60 000 remembered ids
   * (5 snapshots of 1 MB per 20 000 commands, 2 at 4: bench/command-cost.ts); a boot after the longest run then
   * replays about 4 MB of WAL more at worst (1.8 MB snapshots at 100 000 ids), a few tenths of a second at the
   * replay rates npm run bench measures (bench/boot.ts places its fixture's snapshot by this ratio).
   */
  snapshotWalBytesPerSnapshotByte?: number;
  /**
   * An engine step (decide a batch, commit it) that takes longer than this is logged as a warning (ms): every
   * input queued behind it, a /stop included, waited that long. Fan-outs are cut into steps to stay under it.
   */
  stepBudgetMs?: number;
  /**
   * A snapshot is written outside the steps, in slices with an event-loop turn between them (contract/snapshot.ts
   * snapshotSlices), so a /stop waits behind at most one slice, never a whole snapshot: remembered command ids per
   * slice (absent: defaultSnapshotIdsPerSlice)...
   */
  snapshotIdsPerSlice?: number;
  /** ...and sessions, orders (entries of the state's keyed records) per slice (absent: defaultSnapshotEntriesPerSlice). */
  snapshotEntriesPerSlice?: number;
  /**
   * A commit whose answer was lost is looked for in the WAL for at most this long (ms, absent:
   * defaultCommitOutcomeResolveMs); past it the engine stops (onFatal). No other step runs meanwhile.
   */
  commitOutcomeResolveMs?: number;
  /**
   * false: steps are not timed against the wall clock (their times read 0: no over-budget warning, slowest step 0,
   * step sizes gathered by count alone). For a backtest, whose clock is simulated and which reports no step times:
   * four wall-clock reads a step (~80 ns each on this machine) were ~5 % of a quote. Absent: timed.
   */
  timeSteps?: boolean;
}

export const defaultStepBudgetMs = 100;
/** A deferred input is market data's newest tick (submitDeferred). */
const deferredCostClasses: readonly CostClass[] = ['tick'];
/** A continuation is a fan-out's next part (submitContinuation). */
const continuationCostClasses: readonly CostClass[] = ['continuation'];
/** About 1–2 ms of JSON each on this (shared, 2-core) machine: 5 000 ids of 30 characters, 250 fresh sessions. */
export const defaultSnapshotIdsPerSlice = 5_000;
export const defaultSnapshotEntriesPerSlice = 250;
export const defaultEngineLimits: EngineLimits = {
  snapshotEveryWalEvents: 1_000,
  replayBatchEntries: 1_000,
  snapshotEveryMs: 60_000,
  snapshotWalBytesPerSnapshotByte: 4,
  stepBudgetMs: defaultStepBudgetMs,
};

/** How the engine's steps measured up against their budget since it started. */
export interface StepTimes {
  steps: number;
  overBudget: number;
  slowestMs: number;
  /**
   * The slowest slice of a snapshot (ms), or the join of its slices into the one string the log takes (a copy of the
   * whole text, 4 MB at 100 000 ids and 1 000 sessions): each runs between steps, so an input may wait behind one.
   */
  slowestSnapshotSliceMs: number;
}

export interface ReplayResult {
  durable: DurableState;
  lastWalId: string | null;
  replayedEvents: number;
  fromSnapshot: boolean;
}

/** Snapshot + WAL replay: the state exactly as it was after the last committed decision. */
export async function replayLog(log: EngineLog, config: CoreConfig, limits: EngineLimits = defaultEngineLimits): Promise<ReplayResult> {
  const snapshot = await log.loadSnapshot();
  // Every record is checked on the way in: replay stops with the entry id and the reason on one it cannot read.
  let durable = snapshot ? parseSnapshot(snapshot.walId, snapshot.data) : emptyDurableState();
  let lastWalId = snapshot?.walId ?? null;
  let replayedEvents = 0;
  // Nobody sees the state between batches: the whole replay owns what it folds (each map is copied once).
  const owned = ownedDicts();
  let reading = log.readWal(lastWalId, limits.replayBatchEntries);
  for (;;) {
    const records = await reading;
    if (records.length === 0) break;
    // The next batch is read while this one is parsed and folded: the log's round trip overlaps the work here.
    // (If this batch cannot be read, replay stops with its error and that read's outcome is dropped.)
    reading = log.readWal(records[records.length - 1]?.id ?? lastWalId, limits.replayBatchEntries);
    reading.catch(() => undefined);
    durable = foldEvents(
      durable,
      records.map((r) => parseWalRecord(r.id, r.data)),
      config,
      owned,
    );
    replayedEvents += records.length;
    lastWalId = records[records.length - 1]?.id ?? lastWalId;
  }
  return { durable, lastWalId, replayedEvents, fromSnapshot: snapshot !== null };
}

export type DecisionObserver = (input: Input, decision: Decision) => void;

/**
 * What a step's decisions write, in decision order. One decision (most steps: a tick, a beat) hands on its own
 * arrays, which nothing writes after decide() returned; several are concatenated in one pass.
 */
function stepOutputs(decisions: readonly Decision[]): Pick<Decision, 'wal' | 'outbound' | 'ack' | 'deadLetters'> {
  const only = decisions.length === 1 ? decisions[0] : undefined;
  if (only) return only;
  const out: Pick<Decision, 'wal' | 'outbound' | 'ack' | 'deadLetters'> = { wal: [], outbound: [], ack: [], deadLetters: [] };
  // Index loops, not for…of: the array iterators' results were allocated here at every step of two inputs or more (a
  // backtest's tick with its beat, a stop check's two answers), 1.6 MB a run of the sample.
  for (let i = 0; i < decisions.length; i += 1) {
    const d = decisions[i] as Decision;
    for (let j = 0; j < d.wal.length; j += 1) out.wal.push(d.wal[j] as WalEvent);
    for (let j = 0; j < d.outbound.length; j += 1) out.outbound.push(d.outbound[j] as OutboundEvent);
    for (let j = 0; j < d.ack.length; j += 1) out.ack.push(d.ack[j] as string);
    for (let j = 0; j < d.deadLetters.length; j += 1) out.deadLetters.push(d.deadLetters[j] as DeadLetter);
  }
  return out;
}

/** decide()'s options for a decision on no shared maps: one object for all (decide reads its options, never writes them). */
const unshared: DecideOptions = Object.freeze({});
/** The wall clock steps are timed with (ms), or none (EngineLimits.timeSteps false). */
const wallMs = (): number => performance.now();
const noWallMs = (): number => 0;

/** A step decided and not yet committed: the state it leads to, its decisions, and what they write. */
interface DecidedStep {
  state: EngineState;
  decisions: Decision[];
  outputs: Pick<Decision, 'wal' | 'outbound' | 'ack' | 'deadLetters'>;
}

/** An outbound entry for a log whose outbound stream nobody reads (EngineLog.outboundUnread): not serialized. */
const unwritten = (): string => '';

/**
 * What submitNow hands back for a step a log committed at once (EngineLog.commitNow): settled, shared by all, so a
 * caller may tell it apart and go on without awaiting it (the step is committed and adopted when submitNow returns).
 */
export const committedAtOnce: Promise<void> = Promise.resolve();

/** What submitNow returned, as a commit still to wait for: null when it wrote nothing or was committed at once. */
export function stillCommitting(committing: Promise<void> | null): Promise<void> | null {
  return committing === committedAtOnce ? null : committing;
}

/** Whether a step's decisions write anything to the log (a step writing nothing skips the commit). */
function writesAnything(o: DecidedStep['outputs']): boolean {
  return o.wal.length + o.outbound.length + o.ack.length + o.deadLetters.length > 0;
}

export class Engine {
  private readonly waiting = new StepQueue();
  private readonly stepSizes = new StepSizer();
  /** Inputs costed as a fan-out's part (StepSizer): its next parts, and signal sources' commands. Weak: forgotten with the input. */
  private readonly continuations = new WeakSet<Input>();
  /**
   * The configured signal sources (submitCommands), read once: a lane is chosen outside decide(), where nothing may
   * throw for one command and take its read with it (as a bug in the config's list would, poison-batch.test.ts).
   */
  private readonly signalSources: ReadonlySet<string>;
  /** The loop running steps while anything waits (null: idle). */
  private running: Promise<void> | null = null;
  private walEventsSinceSnapshot = 0;
  /** WAL bytes committed since the last snapshot, and that snapshot's size (bytes; 0 before the first). */
  private walBytesSinceSnapshot = 0;
  private lastSnapshotBytes = 0;
  private lastSnapshotAtMs: number | null = null;
  private queuedInputs = 0;
  private waitingContinuations = 0;
  private readonly observers: DecisionObserver[] = [];
  /** Observers that read each decision's own state (the simulation's checks): a step then copies maps per decision. */
  private observersOfEachState = 0;
  private readonly times: StepTimes = { steps: 0, overBudget: 0, slowestMs: 0, slowestSnapshotSliceMs: 0 };
  /** A snapshot captured by a step and not written yet (startSnapshot takes it once the step's inputs are answered). */
  private snapshotCaptured: CapturedSnapshot | null = null;
  /** The snapshot being written, if any: at most one at a time. */
  private snapshotting: Promise<void> | null = null;
  /** Set by abandon(): nothing more is saved. */
  private abandoned = false;
  /** Set when a commit's outcome could not be told (commitOrResolve): no further step is decided or committed. */
  private stopped: Error | null = null;
  /** Times steps and decisions (ms): the wall clock, or 0 when steps are not timed (EngineLimits.timeSteps). */
  private readonly stopwatchMs: () => number;

  constructor(
    private state: EngineState,
    private lastWalId: string | null,
    private readonly log: EngineLog,
    private readonly clock: Clock,
    private readonly config: CoreConfig,
    private readonly onEffects: (decision: Decision) => void,
    private readonly onFatal: (error: unknown) => void,
    private readonly logger: Logger,
    private readonly limits: EngineLimits = defaultEngineLimits,
  ) {
    this.signalSources = new Set(config.signalSourceIds);
    this.stopwatchMs = limits.timeSteps === false ? noWallMs : wallMs;
  }

  get current(): EngineState {
    return this.state;
  }

  get pendingInputs(): number {
    return this.queuedInputs;
  }

  get stepTimes(): StepTimes {
    return { ...this.times };
  }

  /**
   * Calls `observer` with each decision once its step is committed. `stateOfEachDecision` false: the observer reads
   * of `decision.state` nothing a later decision of the same step may change (an order's user, its venue), so the
   * step's decisions may share the maps they make (DecideOptions.owned) instead of copying them per decision.
   */
  observe(observer: DecisionObserver, options: { stateOfEachDecision: boolean } = { stateOfEachDecision: true }): void {
    this.observers.push(observer);
    if (options.stateOfEachDecision) this.observersOfEachState += 1;
  }

  /** Queues an input; resolves once it is decided and committed (rejects if the commit failed). */
  submit(input: Input): Promise<void> {
    return this.submitBatch([input]);
  }

  /**
   * Queues inputs decided one after another and committed together in one log write (group commit): the
   * batch is applied entirely or, if the write fails, not at all. Control commands are decided first
   * (command-priority.ts), each user's own commands in their order. Batches waiting together may share a step
   * (step-queue.ts): control inputs (commands, ticks, timer beats) go ahead of exchange news and fan-out parts.
   */
  submitBatch(inputs: Input[]): Promise<void> {
    if (inputs.length === 0) return Promise.resolve();
    return this.enqueueInputs(controlFirst(inputs));
  }

  /**
   * Queues commands read together (the execution service's command loop). Each command stands alone (its own reply,
   * ack and WAL events), so the read is queued as jobs of at most maxCommandsPerJob, control first as in submitBatch,
   * and a step gathers as many as fit its deciding budget (step-queue.ts) instead of the whole read. Each step commits
   * its own: if one's commit fails, the commands committed before it stay committed and answered, and its own stay
   * unacknowledged to be redelivered, as a failed read's do (processed ids answer a redelivered command only once).
   * Signal sources' commands are queued apart, behind control work (submitSignalCommand).
   * Resolves once every part is committed; rejects with the first part that failed.
   */
  submitCommands(inputs: Input[]): Promise<void> {
    const fromSources: Input[] = [];
    const fromTraders: Input[] = [];
    for (const input of inputs) (sentBySignalSource(input, this.signalSources) ? fromSources : fromTraders).push(input);
    const parts: Promise<void>[] = [];
    if (fromTraders.length > maxCommandsPerJob) {
      const ordered = controlFirst(fromTraders);
      for (let at = 0; at < ordered.length; at += maxCommandsPerJob) parts.push(this.enqueueInputs(ordered.slice(at, at + maxCommandsPerJob)));
    } else if (fromTraders.length > 0) parts.push(this.submitBatch(fromTraders));
    for (const input of fromSources) parts.push(this.submitSignalCommand(input));
    return parts.length === 1 ? (parts[0] as Promise<void>) : Promise.all(parts).then(() => undefined);
  }

  /**
   * A signal source's command (a signals.route, a fan-out to up to 1 000 users) waits in the bulk lane, a job of its
   * own costed as a fan-out's part, as its next parts do. In the control lane it was sized as a command (a stop-loss
   * change's microseconds), so a step took a read's sixteen-command jobs with dozens of routes' first parts in them:
   * one step at 10 000 sessions decided 216 stop-loss changes and 37 routes in 24 ms, and a /stop read meanwhile
   * waited for all of it. Each route a control job of its own instead (tried) made a burst of routes that many
   * control steps, each with its commit's round trip, ahead of the next /stop (stop → flatten p99 210 ms). In the
   * bulk lane, commands from control surfaces go first, and the route still goes within maxBulkWaitMs. A source's
   * commands all take this lane, so its own stay in order.
   */
  private submitSignalCommand(input: Input): Promise<void> {
    return this.enqueueFanOutPart(input);
  }

  /** Queues an input as a fan-out's part: a job of its own in the bulk lane, costed (and measured) as `continuation`. */
  private enqueueFanOutPart(input: Input): Promise<void> {
    this.continuations.add(input);
    return this.enqueue('bulk', [input], 1, continuationCostClasses);
  }

  /** Queues inputs, in the order given, as one job: its lane and its inputs' cost classes from the inputs. */
  private enqueueInputs(inputs: Input[]): Promise<void> {
    return this.enqueue(
      laneOf(inputs),
      inputs,
      inputs.length,
      inputs.map((input) => this.costClassOf(input)),
    );
  }

  /**
   * Queues an input built only when its turn comes (null = nothing to do). Market data uses it to keep at
   * most one tick per symbol waiting, always the newest, however far the feed runs ahead of the engine.
   */
  submitDeferred(make: () => Input | null): Promise<void> {
    return this.enqueue('control', make, 1, deferredCostClasses);
  }

  /**
   * Queues an input's continuation (Decision.continuation) after the event loop has had a turn: commands read
   * meanwhile (a /stop) are queued before it even when the log commits without real I/O (memory, a fast disk). It
   * waits in the bulk lane: though a command (a route's next users), it is bulk work, and in the control lane a /stop
   * waited behind every route's next part queued (ten at a time at 10 000 sessions: 25–750 ms from read to step).
   */
  submitContinuation(input: Input): Promise<void> {
    this.queuedInputs += 1;
    this.waitingContinuations += 1;
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.queuedInputs -= 1;
      this.waitingContinuations -= 1;
      return this.enqueueFanOutPart(input);
    });
  }

  /**
   * Whether a timer beat decided at `nowMs` could decide anything (core/timer-due.ts): a caller beating on a cadence
   * (the backtest) skips the beats that could not, and decides exactly what it would have. True while a step runs or
   * inputs wait: the state they leave is not known yet.
   */
  timerMayAct(nowMs: number): boolean {
    if (this.running !== null || !this.waiting.empty) return true;
    return nowMs >= nextTimerWorkMs(this.state, this.config);
  }

  /**
   * submitBatch for a caller that waits for each batch before its next (the backtest, venue.ts): when no step runs and
   * nothing waits, the batch is decided at once as the next step, and if its decisions write nothing (most ticks and
   * timer beats: no WAL event, outbound event, ack or dead letter) the step ends here and null is returned, with no
   * promise turn — a quote costs its decision, not the step loop's round trip. A step that writes is committed as
   * the running step (the promise returned), or at once by a log that can (EngineLog.commitNow, the memory log):
   * then it is committed and adopted before this returns `committedAtOnce`. When busy, the batch is queued as
   * submitBatch queues it. The decisions are the same either way: decide() is pure and the clock is the same as the
   * step loop would read.
   */
  submitNow(inputs: Input[]): Promise<void> | null {
    if (this.running !== null || !this.waiting.empty || inputs.length === 0) return this.submitBatch(inputs);
    const ordered = controlFirst(inputs);
    const startedAt = this.stopwatchMs();
    let decided: DecidedStep;
    try {
      decided = this.decideStep(ordered);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (!writesAnything(decided.outputs)) {
      this.adoptStep(ordered, decided);
      this.timeStep(ordered, this.stopwatchMs() - startedAt);
      this.startSnapshot();
      return null;
    }
    if (this.log.commitNow !== undefined) return this.commitAtOnce(this.log.commitNow, ordered, decided, startedAt);
    this.queuedInputs += ordered.length;
    const committed = this.commitDecided(ordered, decided).finally(() => {
      this.queuedInputs -= ordered.length;
      this.timeStep(ordered, this.stopwatchMs() - startedAt);
      this.startSnapshot();
      // Inputs queued meanwhile (they found this step running) are stepped now; else the engine is idle again
      // before the caller hears of the commit, so its next batch takes this path too.
      this.running = this.waiting.empty ? null : this.runSteps();
    });
    this.running = committed.then(
      () => undefined,
      () => undefined,
    );
    return committed;
  }

  /**
   * submitNow's commit on a log that commits at once (the memory log): the step is committed and adopted here, with no
   * promise chain and no running step in between; the caller still gets a promise, as for any step that wrote
   * (`committedAtOnce`, settled already). Kept out of submitNow, which every quote of a backtest passes through.
   */
  private commitAtOnce(commitNow: (batch: CommitBatch) => string[], ordered: Input[], decided: DecidedStep, startedAt: number): Promise<void> {
    try {
      const batch = this.commitBatchOf(decided);
      this.committed(batch, commitNow(batch));
      this.adoptStep(ordered, decided);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.timeStep(ordered, this.stopwatchMs() - startedAt);
    }
    this.startSnapshot();
    return committedAtOnce;
  }

  /** A fan-out's next part costs what its step of users costs, whatever the kind of the input it continues. */
  private costClassOf(input: Input): CostClass {
    return this.continuations.has(input) ? 'continuation' : input.kind;
  }

  private enqueue(lane: 'control' | 'bulk', inputs: StepJob['inputs'], count: number, costClasses: readonly CostClass[]): Promise<void> {
    this.queuedInputs += count;
    const done = new Promise<void>((resolve, reject) => this.waiting.push(lane, { inputs, count, costClasses, resolve, reject }, this.clock.nowMs()));
    this.running ??= this.runSteps();
    return done;
  }

  /**
   * Runs steps while anything waits, each taking what waits in one lane (step-queue.ts). It marks itself finished
   * in the same turn it finds nothing waiting, so an input queued after that starts a new run (never a lost one).
   */
  private async runSteps(): Promise<void> {
    // One turn first: inputs submitted in the same turn as the first (a burst of exchange answers) share its step.
    await Promise.resolve();
    while (!this.waiting.empty) {
      const jobs = this.waiting.takeStep(this.stepSizes, this.clock.nowMs());
      let count = 0;
      for (const job of jobs) count += job.count;
      try {
        const inputs = stepInputs(jobs);
        if (inputs.length > 0) await this.step(inputs);
        for (const job of jobs) job.resolve();
      } catch (error) {
        for (const job of jobs) job.reject(error);
      } finally {
        this.queuedInputs -= count;
      }
      this.startSnapshot();
    }
    this.running = null;
  }

  private async step(inputs: Input[]): Promise<void> {
    const startedAt = this.stopwatchMs();
    try {
      await this.decideAndCommit(inputs);
    } finally {
      this.timeStep(inputs, this.stopwatchMs() - startedAt);
    }
  }

  private timeStep(inputs: Input[], elapsedMs: number): void {
    const budgetMs = this.limits.stepBudgetMs ?? defaultStepBudgetMs;
    this.times.steps += 1;
    this.times.slowestMs = Math.max(this.times.slowestMs, elapsedMs);
    if (elapsedMs <= budgetMs) return;
    this.times.overBudget += 1;
    const kinds = [...new Set(inputs.map((i) => i.kind))];
    this.logger.warn(
      { elapsedMs: Math.round(elapsedMs), budgetMs, inputs: inputs.length, kinds, queued: this.queuedInputs },
      'engine step over its time budget',
    );
  }

  /**
   * Decides a step's inputs in order from the committed state. `share`: the decisions write in place the maps earlier
   * ones of the step made (a thousand sessions are not copied per command); a decision that throws may have
   * written some already, so then it answers 'again' and the step is decided once more without sharing, at the
   * same times (`nows`), which decides the same. Throws where the engine cannot go on.
   */
  private decideInputs(inputs: Input[], share: boolean, nows: number[]): { state: EngineState; decisions: Decision[] } | 'again' {
    let state = this.state;
    // Sized up front: a first push onto an empty array reserves room for 17 (~150 bytes a step, most steps one input).
    const decisions: Decision[] = new Array<Decision>(inputs.length);
    const owned = share ? ownedDicts() : undefined;
    // An index loop, not entries(): its iterator and an [i, input] pair per input were allocated on every step.
    for (let i = 0; i < inputs.length; i += 1) {
      const input = inputs[i] as Input;
      const nowMs = (nows[i] ??= this.clock.nowMs());
      try {
        const decideStartedAt = this.stopwatchMs();
        const decision = decide(state, input, nowMs, this.config, owned ? { owned } : unshared);
        // A route's first step is a fan-out's part too: counted as one, it does not make every command look costly.
        this.stepSizes.decided(decision.continuation ? 'continuation' : this.costClassOf(input), this.stopwatchMs() - decideStartedAt);
        decisions[i] = decision;
        state = decision.state;
      } catch (error) {
        if (owned) return 'again';
        if (input.kind === 'command') {
          // decide() is pure: a command that makes it throw changed nothing. Set that command aside (dead
          // letter, rejection, alert) and go on with the rest of the batch; restarting would only crash again
          // on its redelivery and take the innocent commands read with it.
          this.logger.error({ err: error, entryId: input.delivery.entryId }, 'command could not be decided; dead-lettered');
          const decision = rejectUndecidable(
            state,
            input.delivery,
            error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            nowMs,
            this.config,
          );
          decisions[i] = decision;
          continue;
        }
        // Anything else that throws (a tick, a timer beat, exchange news) means the engine's own state or
        // logic cannot be trusted: stop trading rather than guess.
        this.onFatal(error);
        throw error;
      }
    }
    return { state, decisions };
  }

  private async decideAndCommit(inputs: Input[]): Promise<void> {
    await this.commitDecided(inputs, this.decideStep(inputs));
  }

  /** Decides a step's inputs from the committed state (shared maps where it may, see decideInputs). */
  private decideStep(inputs: Input[]): DecidedStep {
    // The state may disagree with the log: nothing is decided from it, nothing more is written or sent.
    if (this.stopped !== null) throw this.stopped;
    const nows: number[] = new Array<number>(inputs.length);
    let decided = this.decideInputs(inputs, this.observersOfEachState === 0 && inputs.length > 1, nows);
    if (decided === 'again') decided = this.decideInputs(inputs, false, nows);
    this.stepSizes.stepDone();
    if (decided === 'again') throw new Error('a step decided without shared maps cannot ask to be decided again');
    // A literal, not `{ ...decided, outputs }`: a spread plus a key takes V8's slow copy (about 1 µs, see withQuote).
    return { state: decided.state, decisions: decided.decisions, outputs: stepOutputs(decided.decisions) };
  }

  /** Commits a decided step's writes (if any) in one log write, then adopts it (adoptStep). */
  private async commitDecided(inputs: Input[], decided: DecidedStep): Promise<void> {
    if (writesAnything(decided.outputs)) {
      const batch = this.commitBatchOf(decided);
      this.committed(batch, await this.commitOrResolve(batch));
    }
    this.adoptStep(inputs, decided);
  }

  /**
   * log.commit; when its answer was lost (CommitOutcomeUnknownError), what the WAL holds after lastWalId tells
   * (commit-outcome.ts): the step's WAL ids if it landed (it is then adopted like any committed step: state, effects,
   * observers, snapshot counters), the commit's error if nothing is there (it fails like a refused commit). Anything
   * else, or a WAL that cannot be read within commitOutcomeResolveMs, calls onFatal and stops the engine: the service
   * exits and boots again from the log. Runs inside the step, so no other step is decided or committed meanwhile.
   */
  private async commitOrResolve(batch: CommitBatch): Promise<string[]> {
    try {
      return await this.log.commit(batch);
    } catch (error) {
      if (!(error instanceof CommitOutcomeUnknownError)) throw error;
      // A step without WAL events (an equity sample or an alert on its own, a redelivered command acknowledged again,
      // a dead letter) leaves nothing in the WAL to tell by; it fails as a refused commit does, which is sound either
      // way. The durable state is what the WAL makes it (core/context.ts emit), so this step left it as it was:
      // replay agrees with the engine's. What else it did comes again: its inputs are decided again (exchange news
      // the service keeps, the next tick or beat), and commands are redelivered unless it acknowledged them, and then
      // they had their answer (in this step, or before it for a duplicate). Had it landed, an outbound entry may be
      // written twice (an equity sample, an alert), which outbound readers take already: delivery is at least once
      // (a reader reads again what it had not acknowledged). Stopping instead would gain nothing: a boot rebuilds
      // the same durable state, without the market view.
      if (batch.wal.length === 0) throw error;
      this.logger.warn({ err: error, walEvents: batch.wal.length, lastWalId: this.lastWalId }, 'commit answer lost; reading the WAL to tell whether it landed');
      const resolveMs = this.limits.commitOutcomeResolveMs ?? defaultCommitOutcomeResolveMs;
      const outcome = await resolveCommitOutcome(this.log, this.lastWalId, batch.wal, resolveMs, (readError) =>
        this.logger.warn({ err: readError }, 'WAL not readable yet; reading again'),
      );
      if (outcome.kind === 'landed') {
        this.logger.warn({ walIds: outcome.walIds }, 'the lost commit had landed: its step is adopted');
        return outcome.walIds;
      }
      if (outcome.kind === 'not_landed') {
        this.logger.warn('the lost commit had not landed: its step fails');
        throw error;
      }
      const fatal = new Error(`a commit's outcome cannot be told from the log: ${outcome.reason}`, { cause: error });
      this.stopped = fatal;
      this.onFatal(fatal);
      throw fatal;
    }
  }

  /** What a decided step writes, as one log batch. */
  private commitBatchOf(decided: DecidedStep): CommitBatch {
    const { wal, outbound, ack, deadLetters } = decided.outputs;
    // The fill ledger's entries, from the same events and the state they were decided on: written in the same
    // atomic step, so the ledger and the WAL cannot disagree.
    const ledger = ledgerEntriesOf(this.state.durable, wal).map(({ walIndex, entry }) => ({
      walIndex,
      userId: entry.userId,
      sessionId: entry.sessionId,
      data: serializeLedgerEntry(entry),
    }));
    return {
      wal: wal.map(serializeWalEvent),
      // A log nobody tails the outbound stream of (a backtest's) gets each entry unwritten (''): its observers have
      // the events, and the entries keep their places in the log's sequence (the ledger's ids stay as they were).
      outbound: this.log.outboundUnread === true ? outbound.map(unwritten) : outbound.map((e) => JSON.stringify(e)),
      ack,
      deadLetters,
      // Always the key (undefined: none), so every batch has one shape: with it spread in only when there were entries,
      // the two shapes deoptimized the commit path (--trace-deopt, at that spread, in a backtest's first two runs).
      ledger: ledger.length > 0 ? ledger : undefined,
    };
  }

  /** A batch is committed with these WAL ids: the engine's WAL position and the snapshot counters move on. */
  private committed(batch: CommitBatch, ids: string[]): void {
    if (ids.length !== batch.wal.length) throw new Error(`log returned ${ids.length} ids for ${batch.wal.length} WAL events`);
    this.lastWalId = ids[ids.length - 1] ?? this.lastWalId;
    this.walEventsSinceSnapshot += ids.length;
    for (const data of batch.wal) this.walBytesSinceSnapshot += data.length;
  }

  /** The step's state becomes the engine's; its effects and decisions are handed on; a snapshot due is captured. */
  private adoptStep(inputs: Input[], { state, decisions }: DecidedStep): void {
    this.state = state;
    for (let i = 0; i < decisions.length; i += 1) {
      const decision = decisions[i] as Decision;
      const input = inputs[i];
      if (!input) continue;
      // The logger's level asked only of a decision with something to log (most steps, a tick's, have none).
      if ((decision.wal.length > 0 || decision.effects.length > 0) && this.logger.isLevelEnabled('debug')) {
        this.logger.debug({ input: input.kind, events: decision.wal.map((e) => e.type), effects: decision.effects.length }, 'decided');
      }
      this.onEffects(decision);
      for (let o = 0; o < this.observers.length; o += 1) (this.observers[o] as DecisionObserver)(input, decision); // (no iterator per decision)
    }
    const nowMs = this.clock.nowMs();
    this.lastSnapshotAtMs ??= nowMs;
    const { snapshotEveryWalEvents, snapshotEveryMs, snapshotWalBytesPerSnapshotByte } = this.limits;
    const dueByCount =
      this.walEventsSinceSnapshot >= snapshotEveryWalEvents &&
      (snapshotWalBytesPerSnapshotByte === undefined || this.walBytesSinceSnapshot >= this.lastSnapshotBytes * snapshotWalBytesPerSnapshotByte);
    const due = dueByCount || (snapshotEveryMs !== undefined && nowMs - this.lastSnapshotAtMs >= snapshotEveryMs);
    // Due while one is being written: the next step that finds it due once that one is saved captures the next.
    if (due && this.walEventsSinceSnapshot > 0 && this.lastWalId !== null && this.snapshotting === null && this.snapshotCaptured === null) {
      const { idsPerSlice, entriesPerSlice } = this.sliceBounds();
      this.snapshotCaptured = {
        walId: this.lastWalId,
        // The committed state: no later step writes it (each makes its own copy of what it changes, see core/dict.ts).
        slices: snapshotSlices(this.state.durable, { idsPerSlice, entriesPerSlice }),
        atMs: nowMs,
        walEvents: this.walEventsSinceSnapshot,
        walBytes: this.walBytesSinceSnapshot,
      };
    }
  }

  private sliceBounds(): { idsPerSlice: number; entriesPerSlice: number } {
    return {
      idsPerSlice: this.limits.snapshotIdsPerSlice ?? defaultSnapshotIdsPerSlice,
      entriesPerSlice: this.limits.snapshotEntriesPerSlice ?? defaultSnapshotEntriesPerSlice,
    };
  }

  /** Writes the snapshot a step captured, once that step's inputs are answered (its slices never run inside a step). */
  private startSnapshot(): void {
    const captured = this.snapshotCaptured;
    if (captured === null) return;
    this.snapshotCaptured = null;
    this.snapshotting = this.writeSnapshot(captured).finally(() => {
      this.snapshotting = null;
    });
  }

  /**
   * Serializes a captured snapshot slice by slice, a turn of the event loop between slices (inputs queued meanwhile
   * are decided there), then saves it. Nothing is saved unless every slice was written: a crash part-way leaves the
   * previous snapshot and the WAL after it, which replay reads as before. The WAL since the capture counts toward
   * the next snapshot; if the save fails, the WAL before it counts too, so the next step that finds it due retries.
   */
  private async writeSnapshot(captured: CapturedSnapshot): Promise<void> {
    try {
      const parts: string[] = [];
      // The first slice after the step's own continuations; each further one after a turn of the event loop. A
      // snapshot of one slice (a small state) is written without waiting for a turn, as it was inside the step.
      await Promise.resolve();
      for (;;) {
        if (this.abandoned) return;
        const slice = this.timeSlice(() => captured.slices.next());
        parts.push(slice.value);
        if (slice.done === true) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (this.abandoned) return;
      const data = this.timeSlice(() => parts.join(''));
      await this.log.saveSnapshot({ walId: captured.walId, data });
      this.walEventsSinceSnapshot -= captured.walEvents;
      this.walBytesSinceSnapshot -= captured.walBytes;
      this.lastSnapshotBytes = data.length;
      this.lastSnapshotAtMs = captured.atMs;
    } catch (error) {
      // The WAL holds everything the snapshot would have: boot replays a longer tail, nothing is lost.
      this.logger.warn({ err: error, walId: captured.walId }, 'snapshot not saved; the next one due retries');
    }
  }

  private timeSlice<T>(work: () => T): T {
    const startedAt = performance.now();
    try {
      return work();
    } finally {
      this.times.slowestSnapshotSliceMs = Math.max(this.times.slowestSnapshotSliceMs, performance.now() - startedAt);
    }
  }

  /**
   * Resolves when every input queued so far has been processed and a snapshot being written is saved (or failed),
   * so a log closed after it does not cut a save short.
   */
  async drain(): Promise<void> {
    for (;;) {
      if (this.queuedInputs > 0) {
        await this.running;
        if (this.waitingContinuations > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      } else if (this.snapshotting !== null) await this.snapshotting;
      else return;
    }
  }

  /**
   * The process is gone (a simulated crash): a snapshot being written is dropped, never saved. Without this, a
   * dead engine's snapshot could land after its successor saved a newer one, over it, with the WAL between them
   * already trimmed.
   */
  abandon(): void {
    this.abandoned = true;
    this.snapshotCaptured = null;
  }
}

/** What a step captured for a snapshot: the text to write (in slices), and the counters to settle once saved. */
interface CapturedSnapshot {
  walId: string;
  slices: Iterator<string, string>;
  /** The step's clock reading: the next snapshot by time is due snapshotEveryMs after it. */
  atMs: number;
  /** WAL events and bytes committed since the previous snapshot, up to walId. */
  walEvents: number;
  walBytes: number;
}
