import type { CoreConfig } from '../core/config.js';
import { defaultCoreConfig } from '../core/config.js';
import type { Input } from '../core/decide.js';
import type { Effect } from '../core/outputs.js';
import { paperCredentials } from '../engine/accounts.js';
import { ManualClock } from '../engine/clock.js';
import type { Engine } from '../engine/engine.js';
import type { ExchangeAccount } from '../exchange/port.js';
import type { MemoryLog } from '../log/memory-log.js';
import type { EngineLog } from '../log/port.js';
import { openMemoryLog } from '../log/memory-log.js';
import { CommitOutcomeUnknownError } from '../log/port.js';
import { createPrng } from '../paper-exchange/price-process.js';
import type { SimCluster } from './cluster.js';
import type { FaultProfile } from './faults.js';
import { asDelivered, faultProfiles } from './faults.js';
import { SimExchange } from './sim-exchange.js';
import type { VenueState } from './venue-faults.js';
import { openVenue, pushFromExchange } from './venue-faults.js';

// Everything one seed's run acts on: the seeded PRNG, the simulated clock, the in-process exchange, the
// in-memory log, each user's account, and what is in flight between them. All randomness comes from one
// PRNG, drawn in a fixed order, so the same seed gives the same run.

const simUsers = ['u1', 'u2', 'u3', 'u4'];
const simSymbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];

/** Where every run's simulated clock starts (epoch ms). */
const simStartMs = Date.UTC(2026, 0, 1);
/** Commands pending this long (simulated ms) are reclaimable, as if their consumer had died. */
const simReclaimIdleMs = 5_000;

export interface SeedStats {
  steps: number;
  crashes: number;
  orders: number;
  fills: number;
  kills: number;
  commands: number;
  /** Requests the venue refused with 429 or 418 (venue-faults.ts). */
  venueRefusals: number;
  /** Trades of orders that left them partly filled, as pushed. */
  partialFills: number;
  /** Several engines sharing the log under a lease (cluster.ts); all zero in a single-engine run. */
  takeovers: number;
  deaths: number;
  zombies: number;
  /** Leases lost to missed renewals, without a pause: the worker dropped the partition on its own. */
  leasesLapsed: number;
  /** Writes the store refused because the writer's lease was no longer current. */
  staleWritesRefused: number;
  /** Requests the exchange refused as arriving after timestamp + recvWindow (-1021). */
  lateRequestsRefused: number;
  /** Requests a worker did not sign because its own view of the lease had ended. */
  requestsNotSigned: number;
  /** Commits that landed but whose answer was lost (lost-answers.ts): the engine found each in its WAL. */
  lostCommitAnswers: number;
  /** Commits lost before the log wrote them (lost-answers.ts): their steps failed and came again. */
  lostCommits: number;
  /** Exchange news kept after its step's commit was lost, and delivered again. */
  inputsKeptAfterLostCommits: number;
}

export function noStats(): SeedStats {
  return {
    steps: 0,
    crashes: 0,
    orders: 0,
    fills: 0,
    kills: 0,
    commands: 0,
    venueRefusals: 0,
    partialFills: 0,
    takeovers: 0,
    deaths: 0,
    zombies: 0,
    leasesLapsed: 0,
    staleWritesRefused: 0,
    lateRequestsRefused: 0,
    requestsNotSigned: 0,
    lostCommitAnswers: 0,
    lostCommits: 0,
    inputsKeptAfterLostCommits: 0,
  };
}

/**
 * One engine process: its engine, the effects it decided but has not performed, the answers and pushes not yet
 * delivered to it (all lost when the process dies), the log as it writes it and the accounts as it reaches them.
 */
export interface EngineNode {
  /** Its consumer name on the command stream (and, with several engines, its lease owner): unique per process run. */
  readonly id: string;
  engine: Engine;
  pendingEffects: Effect[];
  pendingInputs: Input[];
  readonly log: EngineLog;
  accountOf(userId: string): ExchangeAccount;
}

export class World {
  readonly users: readonly string[] = simUsers;
  readonly symbols: readonly string[] = simSymbols;
  readonly random: () => number;
  readonly clock = new ManualClock(simStartMs);
  /**
   * Routes of two users a step: every route to the simulation's users runs in several steps, crashes between them. The
   * funding backstop within a run's minutes (the exchange funds every few simulated seconds here, not every 8 h): a
   * payment whose push a silent stream lost is read back while the run lasts.
   */
  readonly config: CoreConfig = { ...defaultCoreConfig, symbols: [...simSymbols], maxUsersPerRouteStep: 2, fundingBackstopMs: 20_000 };
  readonly exchange: SimExchange;
  /** The venue's limits, bans, storms and silent streams (venue-faults.ts). */
  readonly venue: VenueState;
  readonly log: MemoryLog;
  readonly trace: string[] = [];
  readonly stats: SeedStats = noStats();
  /** Every raw command appended, valid or not; duplicate deliveries re-send one of them. */
  readonly appended: string[] = [];
  /** Market data is withheld until this simulated time (a silent feed). */
  feedSilentUntilMs = 0;
  /** The running engine process; set by restart() at boot and after every crash, or by the cluster at a takeover. */
  node!: EngineNode;
  /** Several engines sharing the log under a lease (cluster.ts); absent in a single-engine run. */
  cluster: SimCluster | null = null;
  /** Whether commits may be lost before the log (lost-answers.ts): not while an engine boots, nor while settling. */
  refusedCommitsOn = false;
  private readonly accounts = new Map<string, ExchangeAccount>();

  constructor(
    readonly seed: number,
    /** How often things go wrong (faults.ts): every seed of CI runs the standard profile. */
    readonly faults: FaultProfile = faultProfiles.standard,
  ) {
    this.random = createPrng(seed);
    this.exchange = new SimExchange(this.random, () => this.clock.nowMs(), { ...faults.exchange });
    this.venue = openVenue(this);
    this.log = openMemoryLog({ nowMs: () => this.clock.nowMs(), limits: { reclaimIdleMs: simReclaimIdleMs } });
    for (const u of simUsers) this.accountOf(u);
  }

  get engine(): Engine {
    return this.node.engine;
  }

  /** Effects decided but not yet performed: they die with the process in a crash. */
  get pendingEffects(): Effect[] {
    return this.node.pendingEffects;
  }

  /** Exchange answers and pushes not yet delivered to the engine: they die in a crash too. */
  get pendingInputs(): Input[] {
    return this.node.pendingInputs;
  }

  /** Passes simulated time; with several engines, the lease holder renews on its beat meanwhile. */
  advance(ms: number): void {
    if (this.cluster) this.cluster.advance(ms);
    else this.clock.advance(ms);
  }

  /** Hands inputs to the running engine; with several engines, to whichever process runs now (cluster.ts). */
  async submit(...inputs: Input[]): Promise<void> {
    if (this.cluster) return this.cluster.submit(inputs);
    try {
      await this.engine.submitBatch(inputs);
    } catch (error) {
      if (!(error instanceof CommitOutcomeUnknownError)) throw error;
      // The step's commit was lost before the log (lost-answers.ts): as the service does, exchange news is kept and
      // delivered again (uncommitted-inputs.ts); commands stay unacknowledged and are redelivered; a tick, a beat or
      // a route's next part comes again (the next tick or beat, the route's redelivery).
      for (const input of inputs) {
        if (input.kind === 'command' || input.kind === 'tick' || input.kind === 'timer') continue;
        this.pendingInputs.push(input);
        this.stats.inputsKeptAfterLostCommits += 1;
      }
    }
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)] as T;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  /** The user's account on the in-process exchange; its pushes wait in pendingInputs like any answer. */
  accountOf(userId: string): ExchangeAccount {
    let account = this.accounts.get(userId);
    if (!account) {
      account = this.exchange.account(paperCredentials(userId).apiKey);
      void account.subscribeOrderUpdates(
        (order) => pushFromExchange(this, userId, asDelivered(this, userId, order)),
        (payment) => pushFromExchange(this, userId, [{ kind: 'funding', userId, payment }]),
        { onStopUpdate: (update) => pushFromExchange(this, userId, [{ kind: 'stop_news', userId, mode: 'paper', update }]) },
      );
      this.accounts.set(userId, account);
    }
    return account;
  }
}
