import type { Input } from '../core/decide.js';
import type { Effect } from '../core/outputs.js';
import type { Lane } from '../model/lane.js';
import type { ExchangeAccount } from '../exchange/port.js';
import type { Logger } from '../util/logger.js';
import { laneOf, performWithinBudget } from './budgeted-effect.js';
import type { RateBudget } from '../exchange/rate-budget.js';
import { memoryRateBudget } from '../exchange/rate-budget.js';

// Runs exchange effects off the decision path. Each account has two lanes with their own concurrency, so a
// burst of slow entry orders can never hold up a flatten or a cancel (the priority lane). Results come back
// as inputs for decide(); nothing here decides anything. Every request, on either lane, asks its venue's
// budget first: the priority lane may use the reserve, never more, and waits out a ban like everything else
// (a refused flatten comes back to the core as a rejection, which re-plans it after its back-off).

export interface ExecutorLimits {
  /** Concurrent requests per account for flatten/cancel (and queries about them). */
  priorityConcurrencyPerAccount: number;
  /** Concurrent requests per account for entries, reductions and their queries. */
  normalConcurrencyPerAccount: number;
  /** Normal-lane effects queued per account beyond which new ones are dropped (the core re-plans them). */
  maxQueuedNormalEffectsPerAccount: number;
}

export const defaultExecutorLimits: ExecutorLimits = {
  priorityConcurrencyPerAccount: 2,
  normalConcurrencyPerAccount: 2,
  maxQueuedNormalEffectsPerAccount: 500,
};

export { localRateBudgetCode } from './budgeted-effect.js';

export type AccountResolver = (userId: string) => ExchangeAccount | null;
/** The request budget of the venue a user trades on (one per venue and IP). */
export type BudgetResolver = (userId: string) => RateBudget;

interface LaneState {
  running: number;
  queue: Effect[];
}

function effectKey(effect: Effect): string {
  switch (effect.kind) {
    case 'reconcile':
    case 'list_stops':
      return `${effect.kind}:${effect.userId}`;
    case 'place':
      return `place:${effect.order.clientOrderId}`;
    case 'place_stop':
      return `place_stop:${effect.request.clientAlgoId}`;
    case 'cancel_stop':
      return `cancel_stop:${effect.clientAlgoId}`;
    case 'read_trades':
      return `read_trades:${effect.userId}:${effect.symbol}:${'fromId' in effect.from ? `id${effect.from.fromId}` : `t${effect.from.startTimeMs}`}`;
    case 'read_income':
      return `read_income:${effect.userId}:${effect.incomeType}:t${effect.startTimeMs}`;
    case 'read_trade_origin':
      return `read_trade_origin:${effect.userId}:${effect.symbol}:${effect.exchangeOrderId}`;
    default:
      return `${effect.kind}:${effect.clientOrderId}`;
  }
}

export class EffectExecutor {
  private readonly lanes = new Map<string, Record<Lane, LaneState>>();
  /** Queries and reconciles already queued or in flight: asking twice adds load and no information. */
  private readonly inFlight = new Set<string>();
  /**
   * Orders whose place is queued or in flight, with the queries about them held back meanwhile. The core asks about
   * an order once its answer is late (orderResultTimeoutMs); a query sent while the place is still on its way reads
   * "does not exist" (-2013) for an order the exchange then refuses (-5022: rejected post-only orders are not kept),
   * spending weight for nothing, and that "not found" can reach the core before the refusal does, which then loses
   * the bounded fallback. So a query waits for its order's place answer: an exchange error code (or not sent) means
   * the order did nothing, an accepted order is known from its answer: the query is dropped (the core queries again
   * by its timer while the order is open). Only an unknown outcome (timeout, 5xx, -1000/-1001/-1006/-1007) is queried.
   */
  private readonly placing = new Map<string, Effect[]>();
  /**
   * Protective stops (clientAlgoId) whose placement is queued or in flight, with the cancel held back meanwhile (null:
   * none asked yet). Both travel on the priority lane, which runs priorityConcurrencyPerAccount requests at once and
   * cannot order their arrival: a cancel sent while its placement is on its way can reach the exchange first, find
   * nothing, and the placement then rests there untracked after a /stop (an orphan that could open a position later;
   * the core's sweep finds such an orphan only within its window). So the cancel waits for the placement's answer
   * and is sent after it, whatever that answer was (stopPlaceAnswered). One held cancel per placement: a second of
   * the same id asks nothing more. The wait is bounded by the placement itself: once sent, by its HTTP request's own
   * timeout (restTimeoutMs); before that, by the same slot and budget waits the cancel would have had to pass. After a
   * timeout the exchange may still take the placement, until its recvWindow ends (5 s by default, past the 3 s
   * timeout): that orphan is left to the core's sweep (3 protectiveStopCheckMs after the removal, 15 s by default).
   */
  private readonly placingStops = new Map<string, Effect | null>();
  private idleWaiters: (() => void)[] = [];
  private active = 0;

  constructor(
    private readonly resolve: AccountResolver,
    private readonly onResult: (input: Input) => void,
    private readonly limits: ExecutorLimits,
    private readonly logger: Logger,
    budget: RateBudget | BudgetResolver = memoryRateBudget(),
    private readonly nowMs: () => number = () => Date.now(),
  ) {
    this.budgetOf = typeof budget === 'function' ? budget : () => budget;
  }

  private readonly budgetOf: BudgetResolver;

  submit(effect: Effect): void {
    const key = effectKey(effect);
    const idempotent = effect.kind === 'query' || effect.kind === 'reconcile' || effect.kind === 'list_stops' || effect.kind === 'read_trades';
    if (idempotent && this.inFlight.has(key)) return;
    if (effect.kind === 'query') {
      const heldBack = this.placing.get(effect.clientOrderId);
      if (heldBack) {
        this.inFlight.add(key);
        heldBack.push(effect);
        return;
      }
    }
    if (effect.kind === 'cancel_stop' && this.placingStops.has(effect.clientAlgoId)) {
      if (this.placingStops.get(effect.clientAlgoId) === null) this.placingStops.set(effect.clientAlgoId, effect);
      return;
    }
    const lanes = this.lanesFor(effect.userId);
    const laneName = laneOf(effect);
    const lane = lanes[laneName];
    // A read of the income history already queued (not yet sent) will see whatever this one would: funding pushes
    // of several symbols arrive together and each asks. One already sent may have been answered before the newest
    // payment, so it does not stand in for this one.
    if (effect.kind === 'read_income' && lane.queue.some((queued) => effectKey(queued) === key)) return;
    if (laneName === 'normal' && lane.queue.length >= this.limits.maxQueuedNormalEffectsPerAccount) {
      this.logger.warn({ effect: key }, 'normal lane full; effect dropped (the core re-plans or re-queries it)');
      if (effect.kind === 'place')
        this.onResult({
          kind: 'place_result',
          clientOrderId: effect.order.clientOrderId,
          outcome: { kind: 'rejected', code: -1, message: 'local queue full; not sent' },
        });
      return;
    }
    if (idempotent) this.inFlight.add(key);
    if (effect.kind === 'place' && !this.placing.has(effect.order.clientOrderId)) this.placing.set(effect.order.clientOrderId, []);
    if (effect.kind === 'place_stop' && !this.placingStops.has(effect.request.clientAlgoId)) this.placingStops.set(effect.request.clientAlgoId, null);
    lane.queue.push(effect);
    this.pump(effect.userId, laneName);
  }

  /** Resolves when no effect is queued or running (tests and orderly shutdown). */
  async idle(): Promise<void> {
    if (this.active === 0 && [...this.lanes.values()].every((l) => l.normal.queue.length === 0 && l.priority.queue.length === 0)) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private lanesFor(userId: string): Record<Lane, LaneState> {
    let lanes = this.lanes.get(userId);
    if (!lanes) {
      lanes = { priority: { running: 0, queue: [] }, normal: { running: 0, queue: [] } };
      this.lanes.set(userId, lanes);
    }
    return lanes;
  }

  private pump(userId: string, laneName: Lane): void {
    const lane = this.lanesFor(userId)[laneName];
    const limit = laneName === 'priority' ? this.limits.priorityConcurrencyPerAccount : this.limits.normalConcurrencyPerAccount;
    while (lane.running < limit && lane.queue.length > 0) {
      const effect = lane.queue.shift();
      if (!effect) break;
      lane.running += 1;
      this.active += 1;
      void this.perform(effect).finally(() => {
        lane.running -= 1;
        this.active -= 1;
        this.inFlight.delete(effectKey(effect));
        this.pump(userId, laneName);
        this.notifyIdle();
      });
    }
  }

  private notifyIdle(): void {
    // Nobody waiting (the engine's usual case): no look at the lanes, which are one per account ever served, so a
    // pass over them after every effect that left none running cost O(accounts) per effect (a tenth of the engine's
    // time at 10 000 sessions).
    if (this.active > 0 || this.idleWaiters.length === 0) return;
    if ([...this.lanes.values()].some((l) => l.normal.queue.length > 0 || l.priority.queue.length > 0)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async perform(effect: Effect): Promise<void> {
    let outcome: Input | null = null;
    try {
      outcome = await this.performOnAccount(effect);
    } finally {
      if (effect.kind === 'place') this.placeAnswered(effect.order.clientOrderId, outcome);
      if (effect.kind === 'place_stop') this.stopPlaceAnswered(effect.request.clientAlgoId);
    }
  }

  /**
   * After the stop's placement was answered (its result went to the core first): the cancel held back for it is sent
   * now. Also after a rejection, unlike a held query: the cancel's result goes nowhere (perform-effect.ts), and the
   * core stopped tracking the stop when it asked for the cancel (a late stop_placed for an untracked id changes
   * nothing, protective-stops.ts onStopPlaced), so a needless cancel costs one request (weight 1) and changes no
   * state. Dropping it would save that request only after an exchange error code, and would need the answer told
   * apart from the ones that leave the stop's fate open (unknown, not sent, or none at all: held back by the budget,
   * thrown): one rule for all of them cannot leave an orphan by a misread answer.
   */
  private stopPlaceAnswered(clientAlgoId: string): void {
    const cancel = this.placingStops.get(clientAlgoId) ?? null;
    this.placingStops.delete(clientAlgoId);
    if (cancel) this.submit(cancel);
  }

  /** After the place's answer went to the core: queries held back for it are sent only if that answer was unknown. */
  private placeAnswered(clientOrderId: string, result: Input | null): void {
    const heldBack = this.placing.get(clientOrderId) ?? [];
    this.placing.delete(clientOrderId);
    const definitive = result?.kind === 'place_result' && result.outcome.kind !== 'unknown';
    for (const query of heldBack) {
      this.inFlight.delete(effectKey(query));
      if (definitive) this.logger.debug({ effect: effectKey(query) }, 'query dropped: its order was answered');
      else this.submit(query);
    }
  }

  private async performOnAccount(effect: Effect): Promise<Input | null> {
    const account = this.resolve(effect.userId);
    if (!account) {
      this.logger.error({ userId: effect.userId, effect: effect.kind }, 'no exchange account for user');
      if (effect.kind !== 'place') return null;
      const result: Input = {
        kind: 'place_result',
        clientOrderId: effect.order.clientOrderId,
        outcome: { kind: 'rejected', code: -1, message: 'no exchange account configured for this user' },
      };
      this.onResult(result);
      return result;
    }
    try {
      const result = await performWithinBudget(account, this.budgetOf(effect.userId), effect, this.nowMs, (reason) =>
        this.logger.warn({ effect: effectKey(effect), reason }, 'held back by the rate budget'),
      );
      if (result) this.onResult(result);
      return result;
    } catch (error) {
      // Port methods resolve with outcomes; only getPositions throws. Anything else is logged, and the
      // watchdog's level-triggered rules will ask again.
      this.logger.error({ err: error, effect: effectKey(effect) }, 'effect failed');
      return null;
    }
  }
}
