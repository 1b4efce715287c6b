import type { LeaseBounds } from '../cluster/lease-rules.js';
import { defaultLeaseBounds } from '../cluster/lease-rules.js';
import { defaultWorkerBeatMs } from '../cluster/worker.js';
import type { Input } from '../core/decide.js';
import type { Effect } from '../core/outputs.js';
import type { DecisionObserver, Engine } from '../engine/engine.js';
import type { ExchangeAccount } from '../exchange/port.js';
import type { EngineLog } from '../log/port.js';
import { StaleLeaseError } from '../log/redis-fence.js';
import { fencedLog } from './fenced-log.js';
import { InvariantViolation } from './check.js';
import { bootNode } from './restart.js';
import { LeaseNotHeldError, signedAccount } from './signed-account.js';
import { SimLeaseHolder, SimLeaseStore } from './sim-lease.js';
import { readCommands } from './steps.js';
import { performThroughVenue } from './venue-faults.js';
import type { EngineNode, World } from './world.js';

// Several engines sharing one partition's log and the exchange under a lease with fencing (issue 13), driven by
// the simulation's scheduler. One holds the lease and runs; the others stand by. Faults hit the holder: death
// (between two steps, or in the middle of a write, before or after it landed), a pause past its lease (between
// steps holding unsent effects, between its look at the lease and the write reaching the store, or between signing
// a request and its arrival at the exchange) and then a resume, and missed renewals without a pause. A standby
// claims the lease once its TTL has run and boots on the partition's snapshot and WAL (and may die or pause while
// it boots: then another takes over).
//
// Checked every step: every write that lands carries the newest token (one writer per token epoch, epochs in
// order), tokens only grow, and no order-changing request reaches the exchange from a worker whose lease is not
// current at arrival. At the end the single-engine checks apply to the last holder: every command answered
// exactly once across the takeovers, positions equal the exchange's, the WAL replays to the live state.

/**
 * A deliberately broken fence, to show that the invariants catch it: the store's lease check ('commit'), the recvWindow
 * bound ('recvWindow': the lease is re-checked before signing, but the window is Binance's default), or both parts
 * of the signing rule ('signing').
 */
export type BrokenFence = 'none' | 'commit' | 'recvWindow' | 'signing';
export const brokenFences: readonly BrokenFence[] = ['none', 'commit', 'recvWindow', 'signing'];

export interface ClusterOptions {
  /** Engine processes sharing the partition (the holder and its standbys). */
  workers: number;
  broken: BrokenFence;
}

export const clusterDefaults: ClusterOptions = { workers: 3, broken: 'none' };

const brokenSigningOf = { none: 'none', commit: 'none', recvWindow: 'window', signing: 'all' } as const satisfies Record<BrokenFence, string>;

type NodeState = 'running' | 'paused' | 'resumed' | 'dropped' | 'dead';

/** Where a fault armed on the holder strikes: at its next write or its next order-changing request. */
interface Armed {
  at: 'write' | 'request';
  then: 'pause' | 'die';
  /** A death at a write: after the write landed (else before it reached the store). */
  afterLanding: boolean;
}

type ClusterFault = 'death' | 'death_in_write' | 'pause' | 'pause_in_write' | 'pause_in_request' | 'missed_renewals';
const clusterFaults: readonly ClusterFault[] = ['death', 'death_in_write', 'pause', 'pause_in_write', 'pause_in_request', 'missed_renewals'];
/** Chance that a successor is hit by a fault while it boots. */
const faultWhileBootingChance = 0.1;
/** Chance that a resumed process reads the command stream once more before it notices its lease is gone. */
const readOnResumeChance = 0.5;
/** How long renewals fail, in lease TTLs: half a TTL is survived, two are not. */
const missedRenewalTtls = [0.5, 1, 2];

/** One engine process and its lease. */
class SimNode implements EngineNode {
  engine!: Engine;
  pendingEffects: Effect[] = [];
  pendingInputs: Input[] = [];
  state: NodeState = 'running';
  armed: Armed | null = null;
  /** Its renewals do not get through until then (simulated ms). */
  renewalsFailUntilMs = 0;
  /** Its next renewal beat (simulated ms). */
  nextRenewalAtMs: number;
  /** Work a pause or death cut short (each settles, never rejects): a resumed process finishes it first. */
  readonly cutShort: Promise<void>[] = [];
  /** Resolves once the process stops running (paused or dead): nobody waits on its work any longer. */
  readonly stopped: Promise<void>;
  private markStopped!: () => void;
  private resumeGate: (() => void) | null = null;
  readonly log: EngineLog;
  readonly accountOf: (userId: string) => ExchangeAccount;

  constructor(
    readonly id: string,
    /** Which of the cluster's worker processes this is (1..workers). */
    readonly slot: number,
    readonly holder: SimLeaseHolder,
    private readonly cluster: SimCluster,
    world: World,
  ) {
    this.nextRenewalAtMs = world.clock.nowMs() + cluster.bounds.leaseRenewEveryMs;
    this.stopped = new Promise((resolve) => {
      this.markStopped = resolve;
    });
    const { store, counts } = cluster;
    this.log = fencedLog(world.log, {
      holder,
      store,
      beforeStore: () => this.strike('write', false),
      afterStore: () => this.strike('write', true),
      unfenced: cluster.options.broken === 'commit',
      onLanded: (what) => cluster.landed(this, what),
      counts,
    });
    const accounts = new Map<string, ExchangeAccount>();
    this.accountOf = (userId) => {
      let account = accounts.get(userId);
      if (!account) {
        account = signedAccount(world.accountOf(userId), {
          holder,
          store,
          nowMs: () => world.clock.nowMs(),
          inFlight: () => this.strike('request', false),
          brokenSigning: brokenSigningOf[cluster.options.broken],
          onStaleWriteArrived: (what) => cluster.violate(what),
          counts,
        });
        accounts.set(userId, account);
      }
      return account;
    };
  }

  /** Whether inputs and effects reach its engine now. */
  get runs(): boolean {
    return this.state === 'running' || this.state === 'resumed';
  }

  stop(state: 'paused' | 'dead'): void {
    this.state = state;
    // A dead process writes nothing more: a snapshot it was writing between steps dies with it. (A paused one's save
    // is fenced like a commit: refused once a successor holds the lease.)
    if (state === 'dead') (this.engine as Engine | undefined)?.abandon();
    this.armed = null; // it struck, or another fault came first
    this.markStopped();
    this.cluster.stopped(this);
  }

  /** A fault armed at this point strikes: the process pauses here until resumed, or dies here (never goes on). */
  private async strike(at: Armed['at'], landed: boolean): Promise<void> {
    const armed = this.armed;
    if (!armed || armed.at !== at || (armed.then === 'die' ? armed.afterLanding : false) !== landed) return;
    if (armed.then === 'die') {
      this.stop('dead');
      return new Promise<void>(() => undefined);
    }
    this.stop('paused');
    await new Promise<void>((resolve) => {
      this.resumeGate = resolve;
    });
  }

  /** Lets a paused process go on from where it stopped. */
  resume(): void {
    this.state = 'resumed';
    this.resumeGate?.();
    this.resumeGate = null;
  }
}

export class SimCluster {
  readonly store: SimLeaseStore;
  readonly bounds: LeaseBounds = defaultLeaseBounds;
  readonly counts = { staleRefused: 0, lateRefused: 0, notSigned: 0 };
  /** Chance per step that a paused process resumes. */
  readonly resumeChance = 0.1;
  /** Paused processes, once a successor took their place: at most workers - 1, so a standby is always up. */
  readonly paused: SimNode[] = [];
  readonly violations: string[] = [];
  /** Process runs started so far (ids are unique per run). */
  private runs = 0;
  /** Set once the run settles: no more faults (a successor booting then is not hit either). */
  private calmed = false;
  /** Per token, who wrote under it. */
  private readonly writerOf = new Map<number, string>();
  private newestLandedToken = 0;
  private lastSeenToken = 0;

  constructor(
    private readonly world: World,
    readonly options: ClusterOptions,
    private readonly observe: DecisionObserver,
  ) {
    this.store = new SimLeaseStore(() => world.clock.nowMs());
  }

  private get holder(): SimNode {
    return this.world.node as SimNode;
  }

  violate(message: string): never {
    this.violations.push(message);
    throw new InvariantViolation(message);
  }

  /** The first holder claims the partition and boots. */
  async start(): Promise<void> {
    await this.takeOver('start');
  }

  /** Simulated time passes; the running holder renews on its beat (every leaseRenewEveryMs), unless its renewals fail. */
  advance(ms: number): void {
    const { clock } = this.world;
    const untilMs = clock.nowMs() + ms;
    for (;;) {
      const node = this.world.node as SimNode | undefined; // none before the first claim
      const beatAtMs = node?.state === 'running' ? node.nextRenewalAtMs : Infinity;
      if (!node || beatAtMs > untilMs) break;
      clock.advance(beatAtMs - clock.nowMs());
      node.nextRenewalAtMs = beatAtMs + this.bounds.leaseRenewEveryMs;
      node.holder.renew(clock.nowMs() >= node.renewalsFailUntilMs);
    }
    clock.advance(untilMs - clock.nowMs());
  }

  /** A commit or snapshot of `node` landed at the store: it must carry the newest token, and be the only writer of it. */
  landed(node: SimNode, what: string): void {
    const token = node.holder.token;
    const writer = this.writerOf.get(token);
    if (writer !== undefined && writer !== node.id) this.violate(`${what} of ${node.id} landed under token ${token}, which ${writer} writes under`);
    this.writerOf.set(token, node.id);
    if (token !== this.store.lastToken) this.violate(`${what} of ${node.id} landed under token ${token} after token ${this.store.lastToken} was handed out`);
    if (token < this.newestLandedToken) this.violate(`${what} of ${node.id} landed under token ${token} after a write under ${this.newestLandedToken}`);
    this.newestLandedToken = token;
  }

  /** The holder stopped running (a fault struck): counted; a takeover follows after the step. */
  stopped(node: SimNode): void {
    if (node.state === 'dead') this.world.stats.deaths += 1;
    else this.world.stats.zombies += 1;
  }

  /** Inputs to the process that runs now: a paused one finds them when it resumes; a dead or dropped one never. */
  async submit(inputs: Input[]): Promise<void> {
    const node = this.holder;
    if (node.state === 'paused') node.pendingInputs.push(...inputs);
    if (!node.runs) return;
    await this.run(node, node.engine.submitBatch(inputs));
  }

  /** One of the running holder's effects, through its executor: signed under its lease. */
  async perform(effect: Effect): Promise<void> {
    const node = this.holder;
    if (node.state === 'paused') node.pendingEffects.push(effect); // still the paused process's to send
    if (!node.runs) return;
    await this.run(
      node,
      performThroughVenue(this.world, effect, node).then((input) => {
        if (input) node.pendingInputs.push(input);
      }),
    );
  }

  /** Waits for the node's work, unless the node stops meanwhile: then the work is left to finish if it resumes. */
  private async run(node: SimNode, work: Promise<void>): Promise<void> {
    const settled = work.catch((error: unknown) => this.failed(node, error));
    if (node.state === 'resumed') return settled;
    await Promise.race([settled, node.stopped]);
    if (!node.runs) node.cutShort.push(settled);
  }

  /**
   * A write refused for a stale lease, or a request not signed, is how a stale writer must end; anything else is a bug.
   * An invariant the fences broke was recorded where it was seen (violate); one a decision's checks broke (run-seed.ts
   * decisionChecks, an engine observer) rejects the step's promise and surfaces only here. It was dropped here before,
   * so a cluster seed went on past it (seed 1301135: an entry planned after a liquidation ended as "never planned").
   */
  private failed(node: SimNode, error: unknown): void {
    if (error instanceof StaleLeaseError || error instanceof LeaseNotHeldError) {
      if (node.state === 'running') this.drop(node, error.message);
      return;
    }
    if (error instanceof InvariantViolation && this.violations.includes(error.message)) return;
    this.violations.push(`${node.id}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }

  /** The worker learnt its lease is gone: it stops the partition's service at once (what it had in flight is dropped). */
  private drop(node: SimNode, why: string): void {
    node.state = 'dropped';
    this.world.trace.push(`  ${node.id} drops the partition: ${why}`);
  }

  /** A fault of the holder, chosen by the seed. */
  async fault(n: number): Promise<void> {
    const node = this.holder;
    let fault = this.world.pick(clusterFaults);
    // A standby must stay up: at most workers - 1 processes paused.
    if (fault.startsWith('pause') && this.paused.length >= this.options.workers - 1) fault = 'death';
    this.world.trace.push(`${n} ${node.id} FAULT ${fault}`);
    switch (fault) {
      case 'death':
        node.stop('dead');
        return;
      case 'pause':
        node.stop('paused');
        return;
      case 'death_in_write':
        node.armed = { at: 'write', then: 'die', afterLanding: this.world.chance(0.5) };
        return;
      case 'pause_in_write':
        node.armed = { at: 'write', then: 'pause', afterLanding: false };
        return;
      case 'pause_in_request':
        node.armed = { at: 'request', then: 'pause', afterLanding: false };
        return;
      case 'missed_renewals':
        node.renewalsFailUntilMs = this.world.clock.nowMs() + this.world.pick(missedRenewalTtls) * this.bounds.leaseTtlMs;
        return;
    }
  }

  /** After every step: the invariants, then a takeover if the holder no longer runs. */
  async afterStep(n: number | string): Promise<void> {
    this.check();
    // Missed renewals: the holder notices its own view of the lease ended (at its renewal beat, or its next write).
    // A successor may itself stop while it boots: then another takes over.
    for (let node = this.holder; !(node.state === 'running' && node.holder.held()); node = this.holder) {
      if (node.state === 'paused') this.paused.push(node);
      await this.takeOver(n);
    }
    this.check();
  }

  /** The invariants checked every step (a violation seen inside a write or request was recorded there too). */
  check(): void {
    const [first] = this.violations;
    if (first !== undefined) throw new InvariantViolation(first);
    if (this.store.lastToken < this.lastSeenToken) throw new InvariantViolation(`lease token went back from ${this.lastSeenToken} to ${this.store.lastToken}`);
    this.lastSeenToken = this.store.lastToken;
  }

  /**
   * A standby claims the partition once the lease's TTL has run (it finds the lease free at its next beat) and boots
   * on the partition's snapshot and WAL; what its predecessor had in flight is lost or stays with the paused process.
   */
  private async takeOver(n: number | string): Promise<void> {
    const freeInMs = Math.max(0, this.store.expiresAt - this.world.clock.nowMs());
    this.advance(freeInMs + Math.floor(this.world.random() * defaultWorkerBeatMs));
    // A dead process is restarted as a standby, a dropped one stands by: only paused ones are not available.
    const busy = new Set(this.paused.map((p) => p.slot));
    const slot = Array.from({ length: this.options.workers }, (_, i) => i + 1).find((s) => !busy.has(s));
    if (slot === undefined) throw new Error(`no standby among ${this.options.workers} workers`);
    this.runs += 1;
    const id = `w${slot}.${this.runs}`;
    const tokenBefore = this.store.lastToken;
    let node: SimNode | null = null;
    const holder = SimLeaseHolder.claim(
      this.store,
      id,
      this.bounds,
      () => this.world.clock.nowMs(),
      (reason) => {
        if (node?.state !== 'running') return;
        this.world.stats.leasesLapsed += 1;
        this.drop(node, reason);
      },
    );
    if (!holder) throw new InvariantViolation(`${id} found the lease still held at ${this.world.clock.nowMs()} after its TTL ran`);
    if (holder.token <= tokenBefore) throw new InvariantViolation(`claim by ${id} got token ${holder.token}, not above ${tokenBefore}`);
    node = new SimNode(id, slot, holder, this, this.world);
    this.world.node = node;
    if (n !== 'start') this.world.stats.takeovers += 1;
    this.world.trace.push(`${n} ${id} takes over with token ${holder.token} at ${this.world.clock.nowMs()}`);
    if (n !== 'start' && !this.calmed && this.world.chance(faultWhileBootingChance)) this.armWhileBooting(node, n);
    await this.run(node, bootNode(this.world, this.observe, node));
  }

  /**
   * The successor dies or pauses at its first write: its boot's, if booting had anything to write (else a later one).
   * Booting on a long WAL takes time, and faults come meanwhile.
   */
  private armWhileBooting(node: SimNode, n: number | string): void {
    const pause = this.paused.length < this.options.workers - 1 && this.world.chance(0.5);
    node.armed = { at: 'write', then: pause ? 'pause' : 'die', afterLanding: !pause && this.world.chance(0.5) };
    this.world.trace.push(`${n} ${node.id} FAULT ${pause ? 'pause' : 'death'}_in_write while booting`);
  }

  /**
   * The paused process resumes and carries on before it notices anything: the write or request it stopped in, the
   * inputs that reached it meanwhile, its executor's unsent effects. None may land: then it drops the partition.
   */
  async resume(n: number | string): Promise<void> {
    const [node] = this.paused.splice(Math.floor(this.world.random() * this.paused.length), 1);
    if (!node) return;
    this.world.trace.push(`${n} ${node.id} RESUMES (lease ${this.store.current() ?? 'free'})`);
    node.resume();
    await Promise.all(node.cutShort.splice(0));
    for (const effect of node.pendingEffects.splice(0))
      await this.run(
        node,
        performThroughVenue(this.world, effect, node).then(() => undefined),
      );
    // Paused while it booted, it may have no engine: its boot failed on its lease when it resumed.
    const engine = node.engine as Engine | undefined;
    const inputs = node.pendingInputs.splice(0);
    // Its command loop may read once more, taking commands (new, or reclaimed from the successor) it cannot answer.
    if (engine && this.world.chance(readOnResumeChance)) inputs.push(...(await readCommands(this.world, node)));
    if (engine && inputs.length > 0) await this.run(node, engine.submitBatch(inputs));
    node.state = 'dropped';
    this.check();
  }

  /** Before settling: faults end, a paused process resumes, and a holder that stopped is replaced. */
  async calm(): Promise<void> {
    this.calmed = true;
    this.holder.armed = null;
    this.holder.renewalsFailUntilMs = 0;
    while (this.paused.length > 0) await this.resume('settle');
    await this.afterStep('settle');
  }
}
