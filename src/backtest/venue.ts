import type { CoreConfig } from '../core/config.js';
import type { Input } from '../core/decide.js';
import type { Effect } from '../core/outputs.js';
import { noFaults } from '../deterministic-sim/faults.js';
import { SimExchange } from '../deterministic-sim/sim-exchange.js';
import { paperCredentials } from '../engine/accounts.js';
import { boot } from '../engine/boot.js';
import { ManualClock } from '../engine/clock.js';
import type { DecisionObserver, Engine, EngineLimits } from '../engine/engine.js';
import { stillCommitting } from '../engine/engine.js';
import { performEffect } from '../engine/perform-effect.js';
import type { ExchangeAccount } from '../exchange/port.js';
import type { MemoryLog } from '../log/memory-log.js';
import { openMemoryLog } from '../log/memory-log.js';
import type { BookSettings } from '../paper-exchange/order-book.js';
import { orderRecord } from '../paper-exchange/order-record.js';
import { createPrng } from '../paper-exchange/price-process.js';
import type { SimOrderRecord, SimSymbolSpec, SimTradeRecord } from '../paper-exchange/types.js';
import { silentLogger } from '../util/logger.js';

// The backtest's world: the engine kernel (boot(), the Engine, decide()) on a manual clock and the in-memory log,
// trading on the paper exchange's matching engine in process (deterministic-sim/sim-exchange.ts) with no faults, its
// touch set from historical quotes. The same pieces the deterministic simulation and the live service run; only
// where prices and fills come from differs. Effects reach the exchange `latencyMs` after they were decided.

/**
 * Snapshots keep the in-memory WAL short: one after this many events (its WAL before it is dropped), once the WAL
 * since the last is at least 4 times that snapshot's bytes, as live (engine.ts snapshotWalBytesPerSnapshotByte). By
 * count alone, each snapshot wrote the whole state every 5 000 events however large it grew: the remembered command
 * ids (a route a bar, up to 100 000 kept) made snapshots a cost per quote that grew through a month-long run. Steps
 * are not timed against the wall clock (timeSteps): the run's clock is simulated and it reports no step times.
 */
const backtestEngineLimits: EngineLimits = {
  snapshotEveryWalEvents: 5_000,
  snapshotWalBytesPerSnapshotByte: 4,
  replayBatchEntries: 1_000,
  stepBudgetMs: 60_000,
  timeSteps: false,
};
/** Settling rounds at one instant before the run counts as stuck (each round delivers everything due). */
const maxSettleRounds = 10_000;

/** A trade of the account as the exchange booked it (maker or taker, commission), as the simulator server lists its own. */
export type VenueTrade = SimTradeRecord;

export class BacktestVenue {
  readonly clock: ManualClock;
  readonly exchange: SimExchange;
  readonly log: MemoryLog;
  readonly accountKey: string;
  engine!: Engine;
  /** Orders the engine sent (place effects performed). */
  ordersSent = 0;
  /** Every trade of the account on the exchange, as the venue booked it (maker or taker, commission). */
  readonly trades: VenueTrade[] = [];
  private readonly account: ExchangeAccount;
  private readonly inputs: Input[] = [];
  /** Effects decided, waiting for their latency to pass: in decision order, so due times never decrease. */
  private readonly effects: { dueMs: number; effect: Effect }[] = [];
  private lastTradeId = 0;
  /** Called as the clock reaches a time effects are due at, before they are performed (the kline path moves the touch). */
  onEffectsDue: ((atMs: number) => void) | null = null;

  constructor(
    readonly userId: string,
    readonly config: CoreConfig,
    startMs: number,
    readonly latencyMs: number,
    seed: number,
    /** The symbols the exchange lists, with their trading rules (BacktestOptions.symbolSpecs). */
    symbols: readonly SimSymbolSpec[],
    /** The synthetic depth behind the touch (BacktestOptions.depthUsd); the tape is always off. */
    depth: Partial<BookSettings> = {},
  ) {
    this.clock = new ManualClock(startMs);
    // The book's tape off: a resting order fills when a quote trades through it, or (queue fills) from the aggTrades
    // prints the run hands the exchange (run-backtest.ts), never from a random tape.
    this.exchange = new SimExchange(createPrng(seed), () => this.clock.nowMs(), { ...noFaults }, { ...depth, maxTouchTradeFraction: 0 }, symbols);
    // The engine's outbound events are read from its decisions (start's observer), never from the log: it keeps none,
    // and the engine serializes none.
    this.log = openMemoryLog({ nowMs: () => this.clock.nowMs(), outboundUnread: true });
    this.accountKey = paperCredentials(userId).apiKey;
    this.account = this.exchange.account(this.accountKey);
  }

  /**
   * `observe` reads of each decision only what it says (its outbound events), never `decision.state`: the engine
   * may then decide a batch's inputs on shared maps (Engine.observe, stateOfEachDecision), as it does live.
   */
  async start(observe: DecisionObserver): Promise<void> {
    await this.account.subscribeOrderUpdates(
      (order) => this.inputs.push({ kind: 'order_update', order, userId: this.userId, mode: 'paper' }),
      (payment) => this.inputs.push({ kind: 'funding', userId: this.userId, payment }),
      { onStopUpdate: (update) => this.inputs.push({ kind: 'stop_news', userId: this.userId, mode: 'paper', update }) },
    );
    ({ engine: this.engine } = await boot({
      log: this.log,
      config: this.config,
      clock: this.clock,
      logger: silentLogger(),
      limits: backtestEngineLimits,
      loadFilters: async () => ({ paper: this.exchange.filters() }),
      accountOf: (userId) => (userId === this.userId ? this.account : null),
      onEffects: (d) => {
        // An index loop: for…of allocated an iterator result per decision here (every step's handing on).
        for (let i = 0; i < d.effects.length; i += 1) this.effects.push({ dueMs: this.clock.nowMs() + this.latencyMs, effect: d.effects[i] as Effect });
        if (d.continuation) this.inputs.push(d.continuation);
      },
      onFatal: (error) => {
        throw error;
      },
      onEngine: (created) => created.observe(observe, { stateOfEachDecision: false }),
      retry: { attempts: 1, readDelayMs: 0, sleep: async (ms) => this.clock.advance(ms) },
    }));
    await this.engine.submit({ kind: 'feed_started', venue: 'paper', symbols: [...this.config.symbols] });
    await this.settle();
  }

  /**
   * Appends a command and has the engine decide it (as the execution service's command loop does): at once when the
   * engine is idle (submitNow, the same decisions as the step loop's, without its queue and promise turns), else
   * queued behind the running step.
   */
  async command(json: string): Promise<void> {
    await this.log.appendCommand(json);
    const deliveries = await this.log.readCommands('backtest', 100, 0);
    const committing = this.engine.submitNow(deliveries.map((delivery): Input => ({ kind: 'command', delivery })));
    if (committing) await committing;
    await this.settle();
  }

  /**
   * Whether anything waits to be delivered by `timeMs`: an exchange answer or push, or an effect whose latency has
   * passed by then. When nothing does, advanceTo and settle have nothing to do and the run skips their promise turns
   * (the exchange's trades come with pushes, so none are left unread either).
   */
  pendingBy(timeMs: number): boolean {
    return this.inputs.length > 0 || (this.effects.length > 0 && (this.effects[0] as { dueMs: number }).dueMs <= timeMs);
  }

  /**
   * Moves the clock to `timeMs`, performing on the way every effect whose latency has passed, at its due time: with no
   * promise turn while every step commits at once and every effect due is answered at once (readNow: the protective
   * stops' periodic check, every 5 s of a held position), else a promise for the rest, done as settle does it.
   */
  advanceTo(timeMs: number): Promise<void> | undefined {
    for (let next = this.effects[0]; next && next.dueMs <= timeMs; next = this.effects[0]) {
      if (next.dueMs > this.clock.nowMs()) {
        this.clock.set(next.dueMs);
        this.onEffectsDue?.(next.dueMs);
      }
      const settling = this.settle();
      if (settling) return settling.then(() => this.advanceTo(timeMs));
    }
    if (timeMs > this.clock.nowMs()) this.clock.set(timeMs);
    return undefined;
  }

  /**
   * Delivers everything due now: exchange answers and pushes, effects whose latency has passed, until quiet. Rounds run
   * here while nothing needs a promise turn (each turn cost more than the check it carried); at the first that does —
   * a step's commit to wait for, an effect performed through the account — the promise returned goes on from exactly
   * there, in the same order.
   */
  settle(): Promise<void> | undefined {
    return this.settleFrom(0);
  }

  /** settle's rounds from `fromRound` on (the rounds before it ran already: the bound counts them all). */
  private settleFrom(fromRound: number): Promise<void> | undefined {
    for (let round = fromRound; round < maxSettleRounds; round += 1) {
      const now = this.clock.nowMs();
      if (this.inputs.length > 0) {
        // Decided one after another and committed together: the same decisions as one submit each (the clock stands
        // still, effects wait for their latency anyway, exchange news arrives only as effects are performed).
        const committing = stillCommitting(this.engine.submitNow(this.inputs.splice(0)));
        if (committing) return committing.then(() => this.settleFrom(round + 1));
        continue;
      }
      const first = this.effects[0];
      if (!first || first.dueMs > now) {
        this.collectTrades();
        return undefined;
      }
      // Every effect due now reaches the exchange before the engine hears any answer, and the answers (with the
      // pushes they caused, in arrival order) are decided in one batch: the same exchange operations in the same
      // order and the same decisions as one round each. Deciding touches no exchange state, and what it decides is
      // queued behind these effects (due no earlier); effect results never continue (only commands do).
      for (let next: typeof first | undefined = first; next && next.dueMs <= now; next = this.effects[0]) {
        this.effects.shift();
        if (next.effect.kind === 'place') this.ordersSent += 1;
        const answered = this.readNow(next.effect);
        if (answered === undefined) return this.performDue(next.effect, now).then(() => this.settleFrom(round + 1));
        this.inputs.push(answered);
      }
    }
    return Promise.reject(this.unsettled());
  }

  /** The effect performed through the account, then the rest of the effects due `now` of its round, in order. */
  private async performDue(effect: Effect, now: number): Promise<void> {
    for (let next: { effect: Effect } | undefined = { effect }; next;) {
      const result = this.readNow(next.effect) ?? (await performEffect(this.account, next.effect, now));
      if (result) this.inputs.push(result);
      const due = this.effects[0];
      next = due && due.dueMs <= now ? this.effects.shift() : undefined;
      if (next?.effect.kind === 'place') this.ordersSent += 1;
    }
  }

  private unsettled(): Error {
    return new Error(`the engine did not settle within ${maxSettleRounds} rounds at ${new Date(this.clock.nowMs()).toISOString()}`);
  }

  /**
   * The periodic protective-stop check's two reads (list_stops, reconcile: every few seconds while a position is held)
   * answered at once, as performEffect would answer them from the account: with no request gate (the backtest's
   * exchange has none) the account's methods only read the exchange, and their promise turns were most of the check's
   * round trip. undefined: any other effect, performed through the account.
   */
  readNow(effect: Effect): Input | undefined {
    if (this.exchange.gate !== null) return undefined;
    if (effect.kind === 'list_stops')
      return {
        kind: 'stops_listed',
        userId: effect.userId,
        stops: this.exchange.openProtectiveStops(this.accountKey, effect.symbols),
        askedAtMs: effect.askedAtMs,
      };
    if (effect.kind === 'reconcile')
      return { kind: 'reconcile', userId: effect.userId, positions: this.exchange.heldPositions(this.accountKey), requestedAtMs: effect.requestedAtMs };
    return undefined;
  }

  /** Every order the exchange accepted, in arrival order, as the simulator server lists its own (order-record.ts). */
  orders(): SimOrderRecord[] {
    return this.exchange.matching.allOrders().map((order) => orderRecord(order, this.exchange.matching.rules(order.symbol)));
  }

  /** The account's trades the venue booked since the last look (its list is bounded; read after every settle). */
  private collectTrades(): void {
    const list = this.exchange.matching.account(this.accountKey).trades;
    let i = list.length;
    while (i > 0 && (list[i - 1]?.id ?? 0) > this.lastTradeId) i -= 1;
    for (const t of list.slice(i)) {
      this.trades.push({ symbol: t.symbol, side: t.side, price: t.price, qty: t.qty, commission: t.commission, maker: t.maker, timeMs: t.time });
      this.lastTradeId = t.id;
    }
  }
}
