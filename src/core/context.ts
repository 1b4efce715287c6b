import type { SharedDict } from './shared-dict.js';
import type { Side } from '../model/orders.js';
import type { DeadLetter } from '../model/command-delivery.js';
import type { CoreConfig } from './config.js';
import type { WalEvent } from './events.js';
import { applyEvent } from './events.js';
import type { ReplyAnswer } from '../contract/command-results.js';
import type { AlertKind, FillNotice, OutboundEvent } from '../contract/outbound.js';
import type { Effect } from './outputs.js';
import type { OwnedDicts } from './dict.js';
import { ownedDicts } from './dict.js';
import type { DurableState, EngineState, MarketState } from './state.js';
import { countInWindow, oneMoreInWindow } from './state.js';
import { Schedule, scheduleFor } from './schedule.js';
import { copyMarket } from './record-copies.js';

/** The market's maps of when something was last done, per key. */
type NotedTimes = { [K in keyof MarketState]: MarketState[K] extends SharedDict<number> ? K : never }[keyof MarketState];

/**
 * What a decision that wrote none of a kind hands on for it: one shared empty array, frozen (a push on it throws).
 * Most decisions (a tick, a quiet beat) write nothing, and five fresh arrays each were five allocations a quote.
 */
const nothing: never[] = Object.freeze([]) as unknown as never[];

/**
 * Accumulates one decision. Local and short-lived: decide() creates it, handlers record into it, and it is
 * turned into an immutable Decision at the end. Emitting an event applies it at once, so later logic in the
 * same decision sees the updated state, and the state returned is exactly fold(previous, events).
 */
export class DecisionContext {
  durable: DurableState;
  market: MarketState;
  /** This decision's WAL events, outbound events, effects, acknowledgements and dead letters: `nothing` until the first. */
  wal: WalEvent[] = nothing;
  outbound: OutboundEvent[] = nothing;
  effects: Effect[] = nothing;
  ack: string[] = nothing;
  deadLetters: DeadLetter[] = nothing;
  /** This input has more to do in a later step (see Decision.continuation). */
  continues = false;
  /** The equity pass left samples due that this second still allows: the beat continues with them (decide.ts). */
  equityDue = false;
  private readonly start: EngineState;
  private taken: Schedule | null = null;
  private ownedMaps: OwnedDicts | undefined;
  /** The market view this context made by marketToWrite, which it may write in place while it is still ctx.market. */
  private madeMarket: MarketState | null = null;

  constructor(
    state: EngineState,
    readonly nowMs: number,
    readonly config: CoreConfig,
    /** False for a scratch decision (decide's `scratch`): it must not take the state's index or schedule. */
    readonly keepsIndex = true,
    /** True: the timer passes scan every session (decide's `fullScan`, the simulation's reference). */
    private readonly fullScan = false,
    /** The maps this decision (or its engine step) made: first write copies, later ones write in place (dict.ts). */
    owned?: OwnedDicts,
  ) {
    this.durable = state.durable;
    this.market = state.market;
    this.start = state;
    this.ownedMaps = owned;
  }

  /** Made on the first write: most decisions (a tick, a quiet watchdog beat) write no map, and a WeakSet is not free. */
  private get owned(): OwnedDicts {
    return (this.ownedMaps ??= ownedDicts());
  }

  /**
   * The market view to note a time or a count in: the current one when this context made it (no one else has seen it:
   * a decision's market reaches the state only at its end), else a copy of it, made now. A watchdog beat notes four or
   * five things (an equity sample and its second's count, a stop check and its minute's count, ...), and each copied all
   * twenty of the view's fields once more. Code that sets ctx.market itself makes a market this context did not make:
   * the next note copies it again.
   */
  private marketToWrite(): MarketState {
    if (this.market !== this.madeMarket) {
      this.madeMarket = copyMarket(this.market);
      this.market = this.madeMarket;
    }
    return this.madeMarket;
  }

  /** Which sessions the timer passes must visit (schedule.ts): taken from the starting state on first use. */
  get schedule(): Schedule {
    this.taken ??= this.fullScan ? new Schedule(this.start.durable) : scheduleFor(this.start, this.keepsIndex);
    return this.taken;
  }

  /** The schedule if a pass used it (decide hands it on to the state it makes). */
  get usedSchedule(): Schedule | null {
    return this.taken;
  }

  emit(event: WalEvent): void {
    this.durable = applyEvent(this.durable, event, this.config, { owned: this.owned, index: this.keepsIndex });
    if (this.wal === nothing) this.wal = [];
    this.wal.push(event);
  }

  /** One more outbound event (a reply, an alert, an equity sample). */
  publish(event: OutboundEvent): void {
    if (this.outbound === nothing) this.outbound = [];
    this.outbound.push(event);
  }

  /** The command entry is done with (acknowledged). */
  acknowledge(entryId: string): void {
    if (this.ack === nothing) this.ack = [];
    this.ack.push(entryId);
  }

  /** The command entry is set aside for inspection, with why. */
  deadLetter(letter: DeadLetter): void {
    if (this.deadLetters === nothing) this.deadLetters = [];
    this.deadLetters.push(letter);
  }

  /** Answers a command that was refused: nothing changed for it. */
  reject(commandId: string, userId: string | null, commandType: string | null, reason: string): void {
    this.publish({ type: 'reply', commandId, userId, commandType, status: 'rejected', reason, result: null, atMs: this.nowMs });
  }

  /** Answers a command with the result its type and status carry (see the contract's replyResultSchemas). */
  answer(commandId: string, userId: string | null, answer: ReplyAnswer): void {
    this.publish({ type: 'reply', commandId, userId, reason: null, ...answer, atMs: this.nowMs });
  }

  /** `fill`: the typed notice of the fill this alert reports (the contract's FillNotice), for readers that group or tabulate fills. */
  alert(userId: string, kind: AlertKind, message: string, fill?: FillNotice): void {
    this.publish({ type: 'alert', userId, kind, message, atMs: this.nowMs, ...(fill !== undefined ? { fill } : {}) });
  }

  effect(effect: Effect): void {
    if (this.effects === nothing) this.effects = [];
    this.effects.push(effect);
  }

  /** Notes `atMs` under `key` in one of the market's time maps, in place once this decision owns the map. */
  private noteTime(field: NotedTimes, key: string, value: number): void {
    const next = this.marketToWrite();
    next[field] = this.market[field].set(key, value, this.owned);
  }

  noteCancel(clientOrderId: string): void {
    this.noteTime('lastCancelAtMs', clientOrderId, this.nowMs);
  }

  noteStopCheck(userId: string): void {
    this.noteTime('lastStopCheckAtMs', userId, this.nowMs);
  }

  /**
   * A periodic stop check of the user's started now: its time, and one more in this minute
   * (protectiveStopChecksPerMinute), in one copy of the market view.
   */
  noteStopCheckStarted(userId: string): void {
    const next = this.marketToWrite();
    next.lastStopCheckAtMs = this.market.lastStopCheckAtMs.set(userId, this.nowMs, this.owned);
    next.stopChecksInMinute = oneMoreInWindow(this.market.stopChecksInMinute, Math.floor(this.nowMs / 60_000));
  }

  noteStopAttempt(key: string): void {
    this.noteTime('lastStopAttemptAtMs', key, this.nowMs);
  }

  /** Lifts the placement throttle under `key`: the next stop pass may place at once. */
  forgetStopAttempt(key: string): void {
    const lastStopAttemptAtMs = this.market.lastStopAttemptAtMs.delete([key], this.owned);
    this.marketToWrite().lastStopAttemptAtMs = lastStopAttemptAtMs;
  }

  /**
   * A read under `key` asked now; asked again in the millisecond it was owed since, that is noted too (an answer of
   * this millisecond no longer tells which read it answers), and a later ask clears the note.
   */
  noteTradeReadAsked(key: string): void {
    const again = this.market.owedReadsAskedAtMs.get(key) === this.nowMs;
    const next = this.marketToWrite();
    next.owedReadsAskedAtMs = this.market.owedReadsAskedAtMs.set(key, this.nowMs, this.owned);
    if (again) next.owedReadsAskedAgainInMs = this.market.owedReadsAskedAgainInMs.set(key, true, this.owned);
    else if (this.market.owedReadsAskedAgainInMs.has(key)) next.owedReadsAskedAgainInMs = this.market.owedReadsAskedAgainInMs.delete([key], this.owned);
  }

  /** The user's funding history asked for now: what it held before is covered by this read. */
  noteFundingReadAt(userId: string): void {
    const next = this.marketToWrite();
    next.lastFundingReadAtMs = this.market.lastFundingReadAtMs.set(userId, this.nowMs, this.owned);
    if (this.market.heldSinceFundingRead.has(userId)) next.heldSinceFundingRead = this.market.heldSinceFundingRead.delete([userId], this.owned);
  }

  /** Whether a backstop funding read may start now (config.fundingBackstopReadsPerMinute); if so, it is counted. */
  takeFundingBackstop(): boolean {
    const minute = Math.floor(this.nowMs / 60_000);
    const started = this.market.fundingBackstopsInMinute;
    if (countInWindow(started, minute) >= this.config.fundingBackstopReadsPerMinute) return false;
    const fundingBackstopsInMinute = oneMoreInWindow(started, minute);
    this.marketToWrite().fundingBackstopsInMinute = fundingBackstopsInMinute;
    return true;
  }

  /** The user was seen holding a position (at a periodic check) since its funding history was last asked for. */
  noteHeldSinceFundingRead(userId: string): void {
    if (this.market.heldSinceFundingRead.has(userId)) return;
    const heldSinceFundingRead = this.market.heldSinceFundingRead.set(userId, true, this.owned);
    this.marketToWrite().heldSinceFundingRead = heldSinceFundingRead;
  }

  /** A reconcile asked for at `asOfMs` disagreed with the engine on a symbol it could not adopt yet. */
  noteReconcileDisagreed(userId: string, asOfMs: number): void {
    this.noteTime('reconcileDisagreedAtMs', userId, asOfMs);
  }

  forgetReconcileDisagreed(userId: string): void {
    const reconcileDisagreedAtMs = this.market.reconcileDisagreedAtMs.delete([userId], this.owned);
    this.marketToWrite().reconcileDisagreedAtMs = reconcileDisagreedAtMs;
  }

  forgetTradeRead(key: string): void {
    const next = this.marketToWrite();
    next.owedReadsAskedAtMs = this.market.owedReadsAskedAtMs.delete([key], this.owned);
    if (this.market.owedReadsAskedAgainInMs.has(key)) next.owedReadsAskedAgainInMs = this.market.owedReadsAskedAgainInMs.delete([key], this.owned);
  }

  /** The rejection of `clientOrderId` said when to try again (see MarketState.retryAt). */
  noteRetryAt(key: string, clientOrderId: string, retryAtMs: number): void {
    const retryAt = this.market.retryAt.set(key, { clientOrderId, retryAtMs }, this.owned);
    this.marketToWrite().retryAt = retryAt;
  }

  noteStopRetired(userId: string, symbol: string, side: Side): void {
    const retiredStops = this.market.retiredStops.set(`${userId}:${symbol}`, { side, atMs: this.nowMs }, this.owned);
    this.marketToWrite().retiredStops = retiredStops;
  }

  /** The user of `key` (user:symbol) was told that signals there are skipped, for a reason of this shape (route-signals.ts). */
  noteSignalSkipTold(key: string, shape: string): void {
    const signalSkipsReported = this.market.signalSkipsReported.set(key, shape, this.owned);
    this.marketToWrite().signalSkipsReported = signalSkipsReported;
  }

  forgetSignalSkipTold(key: string): void {
    const signalSkipsReported = this.market.signalSkipsReported.delete([key], this.owned);
    this.marketToWrite().signalSkipsReported = signalSkipsReported;
  }

  noteQuery(clientOrderId: string): void {
    this.noteTime('lastQueryAtMs', clientOrderId, this.nowMs);
  }

  /** A sample of the user's equity published now: its time, and one more in this second (maxEquitySamplesPerSecond). */
  noteEquitySample(userId: string): void {
    const next = this.marketToWrite();
    next.lastEquitySampleAtMs = this.market.lastEquitySampleAtMs.set(userId, this.nowMs, this.owned);
    next.equitySamplesInSecond = oneMoreInWindow(this.market.equitySamplesInSecond, Math.floor(this.nowMs / 1_000));
  }
}
