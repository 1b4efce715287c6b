import type { Decision, Input } from '../core/decide.js';
import { isTerminal } from '../core/orders.js';
import type { Effect } from '../core/outputs.js';
import type { DurableState, Session } from '../core/state.js';
import { paperCredentials } from '../engine/accounts.js';
import { performWithinBudget } from '../engine/budgeted-effect.js';
import type { DecisionObserver } from '../engine/engine.js';
import type { RateBudget, RateBudgetLimits } from '../exchange/rate-budget.js';
import { memoryRateBudget } from '../exchange/rate-budget.js';
import { isZero } from '../model/decimal.js';
import { InvariantViolation } from './check.js';
import type { SimRefusal, SimRequestCost } from './sim-exchange.js';
import type { EngineNode, World } from './world.js';

// The venue's harsh side, as seeded faults of the deterministic simulation (issue 11): a user stream that goes
// silent while its socket looks open, 429 storms, a 418 IP ban with Retry-After, thin books on which resting
// orders fill in several parts over steps, and a protective stop the exchange cancels by itself (ALGO_UPDATE). Every request the engine sends passes the same budget as in production
// (engine/budgeted-effect.ts) and then the venue's gate below, which counts weight and orders as Binance does
// (https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info, "LIMITS": IP weight per
// minute, orders per 10 s per account; 429 over a limit, 418 for an IP that keeps going, both with Retry-After).
// What must hold: every request is let out by the budget first, the engine never exceeds a limit itself, sends
// nothing once it was told of a ban (requests already in flight excepted), and plans a flatten for every session that owes one within a bound after the ban lifts; positions still
// converge (the settled checks).

/**
 * The venue's limits in the simulation: Binance's 2 400 weight a minute and 300 orders per 10 s scaled down to a
 * handful of users, so the budget is actually reached; the reserve for exits keeps its share.
 */
export const simRateLimits: Required<RateBudgetLimits> = {
  weightPerMinute: 360,
  reservedForRiskReducingWeight: 60,
  defaultBackoffMs: 30_000,
  ordersPer10s: 20,
  reservedForRiskReducingOrders10s: 5,
  ordersPerMinute: 60,
  reservedForRiskReducingOrders1m: 15,
};

// Durations are scaled to a seed's run (about a simulated minute), as the limits are to its handful of users.
/** How long a 429 storm lasts (simulated ms), and the Retry-After each of its 429s carries. */
const stormMsChoices = [5_000, 15_000];
const stormRetryAfterMs = 2_000;
/** How long a 418 ban lasts (simulated ms); Binance's run from 2 minutes up. */
const banMsChoices = [15_000, 45_000];
/** How long a user stream stays silent (simulated ms). */
const silentStreamMsChoices = [10_000, 30_000];
/**
 * Chance that the adapter notices a silence on a quiet account anyway (its out-of-turn keep-alive finds the key dead)
 * and reports a gap; else the stream just resumes. Where an order of ours went unechoed, the gap is always reported.
 */
const silenceDetectedChance = 0.5;
/** A thin book: levels this small (USD), so resting orders queue behind little and fill from a thin tape, in parts. */
const thinBook = { minLevelNotionalUsd: 1_000, maxLevelNotionalUsd: 5_000 };
/** Chance, per step and thin symbol, that the market trades at the touch again before the price moves. */
const retradeChance = 0.5;

/**
 * After a ban lifts, every session that owes a flatten has one planned (or still working) within this long
 * (simulated ms): one flatten retry period plus the longest clock advance between two beats of the simulation.
 * The wait a refusal announced is volatile (MarketState.retryAt): after a restart during the ban, the doubling
 * back-off applies again, and its bound (maxRejectionBackoffMs) comes on top.
 */
export const flattenAfterBanBoundMs = 2_000 + 4_000 + 1_000;

export type VenueFault = 'storm' | 'ban' | 'silent_stream' | 'thin_book' | 'stop_cancelled';
const venueFaultChoices: readonly VenueFault[] = ['storm', 'ban', 'silent_stream', 'thin_book', 'stop_cancelled'];

interface Silence {
  userId: string;
  untilMs: number;
  detected: boolean;
}

/** What the venue knows and counts, and what went wrong (checked after every step and at the end). */
export class VenueState {
  /**
   * The venue's IP budget in the engine, shared by every restart as Redis shares it in production, watched: every
   * request must have been let out by it, and none once it knows of a ban.
   */
  readonly budget: RateBudget = this.watched(memoryRateBudget(simRateLimits));
  stormUntilMs = 0;
  bannedUntilMs = 0;
  /** When the venue first answered 418 in the current ban. */
  banAnnouncedAtMs: number | null = null;
  /** Requests the budget let out that have not reached the venue yet (sent concurrently, or never: a place too late). */
  private admittedInFlight = 0;
  /** Until when the budget has been told of a ban. */
  private knownBanUntilMs = 0;
  /** The latest ban's end, once it has passed, and the users who owed a flatten then. */
  banLiftedAtMs: number | null = null;
  owedFlatten = new Set<string>();
  /** The engine restarted while the current ban ran: what its refusals said about the ban's end is forgotten. */
  restartedDuringBan = false;
  silences: Silence[] = [];
  /** Symbols whose book is thin (from the fault on). */
  readonly thinSymbols = new Set<string>();
  readonly violations: string[] = [];
  refusals = 0;
  /** Requests the budget held back. */
  heldBack = 0;
  partialFills = 0;
  private minute = -1;
  private weightThisMinute = 0;
  private readonly orders10s = new Map<string, { window: number; count: number }>();

  /** The venue's gate: counts the request, and refuses it (429/418) or lets it through (null). */
  arrive(accountKey: string, cost: SimRequestCost, nowMs: number): SimRefusal | null {
    if (this.admittedInFlight === 0) this.violations.push(`a request (weight ${cost.weight}) reached the venue at ${nowMs} without the budget letting it out`);
    else this.admittedInFlight -= 1;
    if (nowMs < this.bannedUntilMs) {
      this.banAnnouncedAtMs ??= nowMs;
      this.refusals += 1;
      return { status: 418, retryAfterMs: this.bannedUntilMs - nowMs };
    }
    const minute = Math.floor(nowMs / 60_000);
    if (minute !== this.minute) [this.minute, this.weightThisMinute] = [minute, 0];
    this.weightThisMinute += cost.weight;
    const window = Math.floor(nowMs / 10_000);
    const counted = this.orders10s.get(accountKey);
    const orders = (counted?.window === window ? counted.count : 0) + cost.orders;
    this.orders10s.set(accountKey, { window, count: orders });
    if (this.weightThisMinute > simRateLimits.weightPerMinute)
      this.violations.push(`request weight ${this.weightThisMinute} this minute at ${nowMs}, over the venue's ${simRateLimits.weightPerMinute}`);
    if (orders > simRateLimits.ordersPer10s)
      this.violations.push(`${orders} orders in 10 s for ${accountKey} at ${nowMs}, over the venue's ${simRateLimits.ordersPer10s}`);
    if (nowMs < this.stormUntilMs) {
      this.refusals += 1;
      return { status: 429, retryAfterMs: stormRetryAfterMs };
    }
    return null;
  }

  private watched(budget: RateBudget): RateBudget {
    return {
      ...budget,
      admit: async (lane, nowMs, cost) => {
        const admission = await budget.admit(lane, nowMs, cost);
        if (!admission.ok) return admission;
        if (nowMs < this.knownBanUntilMs)
          this.violations.push(`the budget let a ${lane} request out at ${nowMs} during a ban it knew of until ${this.knownBanUntilMs}`);
        this.admittedInFlight += 1;
        return admission;
      },
      recordBackoff: async (retryAfterMs, nowMs, kind) => {
        if (kind === 'banned') this.knownBanUntilMs = Math.max(this.knownBanUntilMs, nowMs + retryAfterMs);
        await budget.recordBackoff(retryAfterMs, nowMs, kind);
      },
    };
  }
}

/** Wires the venue into the world's exchange: its gate, and its refusals told to the budget as the adapter does. */
export function openVenue(world: World): VenueState {
  const venue = new VenueState();
  world.exchange.gate = (accountKey, cost, nowMs) => venue.arrive(accountKey, cost, nowMs);
  world.exchange.onRefused = (refusal) =>
    venue.budget.recordBackoff(refusal.retryAfterMs, world.clock.nowMs(), refusal.status === 418 ? 'banned' : 'rate_limited');
  return venue;
}

/**
 * Performs one effect as the executor does: through the budget, then the venue. A read the venue refused throws
 * (as the adapter's do); the executor logs it and the watchdog asks again, so here it is dropped too.
 */
export async function performThroughVenue(world: World, effect: Effect, node: EngineNode): Promise<Input | null> {
  try {
    return await performWithinBudget(
      node.accountOf(effect.userId),
      world.venue.budget,
      effect,
      () => world.clock.nowMs(),
      (reason) => {
        world.venue.heldBack += 1;
        world.trace.push(`  (held back: ${reason})`);
      },
    );
  } catch (error) {
    world.trace.push(`  (effect ${effect.kind} failed: ${error instanceof Error ? error.message : String(error)})`);
    return null;
  } finally {
    assertVenueHeld(world);
  }
}

function assertVenueHeld(world: World): void {
  const [first] = world.venue.violations;
  if (first !== undefined) throw new InvariantViolation(first);
}

/** Pushes from the exchange for `userId`: delivered, unless the user's stream is silent (then lost, as on the wire). */
export function pushFromExchange(world: World, userId: string, inputs: Input[]): void {
  for (const input of inputs)
    if (input.kind === 'order_update' && input.order.status === 'PARTIALLY_FILLED' && input.order.trade) world.venue.partialFills += 1;
  const silence = world.venue.silences.find((s) => s.userId === userId && world.clock.nowMs() < s.untilMs);
  if (!silence) {
    world.pendingInputs.push(...inputs);
    return;
  }
  for (const input of inputs) {
    // An order of ours the stream does not echo proves it deaf (exchange/binance/user-stream.ts): the gap is reported.
    if (input.kind === 'order_update' && input.order.clientOrderId.startsWith('qe')) silence.detected = true;
    // Funding and trades of orders the engine did not place are read back after the gap (income and trade lists).
  }
}

/** Silences that are over: the stream delivers again, and where the adapter noticed the gap it reports one. */
function endSilences(world: World, allNow: boolean): void {
  const now = world.clock.nowMs();
  const [over, going] = partition(world.venue.silences, (s) => allNow || now >= s.untilMs);
  world.venue.silences = going;
  for (const s of over) {
    if (s.detected) world.pendingInputs.push({ kind: 'resync', userId: s.userId });
    world.trace.push(`  stream of ${s.userId} speaks again${s.detected ? ' (gap reported)' : ''}`);
  }
}

function partition<T>(xs: readonly T[], p: (x: T) => boolean): [T[], T[]] {
  return [xs.filter(p), xs.filter((x) => !p(x))];
}

/** A venue fault, chosen by the seed. */
export async function venueFault(world: World, n: number): Promise<void> {
  const fault = world.pick(venueFaultChoices);
  const now = world.clock.nowMs();
  const { venue } = world;
  switch (fault) {
    case 'storm':
      venue.stormUntilMs = now + world.pick(stormMsChoices);
      world.trace.push(`${n} venue: 429 storm until ${venue.stormUntilMs}`);
      return;
    case 'ban':
      if (now < venue.bannedUntilMs) return void world.trace.push(`${n} venue: already banned`);
      venue.bannedUntilMs = now + world.pick(banMsChoices);
      venue.banAnnouncedAtMs = null;
      venue.restartedDuringBan = false;
      world.trace.push(`${n} venue: 418 ban until ${venue.bannedUntilMs}`);
      return;
    case 'silent_stream': {
      const userId = world.pick(world.users);
      const silence = { userId, untilMs: now + world.pick(silentStreamMsChoices), detected: world.chance(silenceDetectedChance) };
      venue.silences.push(silence);
      world.trace.push(`${n} venue: ${userId}'s stream silent until ${silence.untilMs}${silence.detected ? ', then a gap' : ''}`);
      return;
    }
    case 'stop_cancelled': {
      // The exchange cancels a resting stop by itself; its ALGO_UPDATE CANCELED is pushed (core/stop-news.ts).
      const userId = world.pick(world.users);
      const key = paperCredentials(userId).apiKey;
      const open = world.exchange.algo.open(key);
      const stop = open.length > 0 ? world.pick(open) : undefined;
      if (stop) world.exchange.algo.cancel(key, { algoId: stop.algoId }, now);
      world.trace.push(`${n} venue: ${stop ? `${userId}'s stop ${stop.clientAlgoId} cancelled by the exchange` : `no stop of ${userId} to cancel`}`);
      return;
    }
    case 'thin_book': {
      const symbol = world.pick(world.symbols);
      const depth = world.exchange.markets.get(symbol)?.depth;
      if (depth) Object.assign(depth.settings, thinBook);
      venue.thinSymbols.add(symbol);
      world.trace.push(`${n} venue: ${symbol}'s book thin from now on`);
      return;
    }
  }
}

/**
 * Before every step: silences that ran out end, and on a thin book the market may trade at the touch again before
 * the price moves (the step's tape once more), so an order resting there fills in parts over steps.
 */
export function venueTick(world: World): void {
  endSilences(world, false);
  for (const symbol of world.venue.thinSymbols) if (world.chance(retradeChance)) world.exchange.matching.onBookChange(symbol, world.clock.nowMs());
}

/** settle(): the stream speaks again and storms end; a ban runs out on its own (bans are bounded, settle is longer). */
export function calmVenue(world: World): void {
  world.venue.stormUntilMs = 0;
  endSilences(world, true);
}

/** Whether the session must be flat: a kill switch, a halt, or a stop under way. */
function owesFlat(durable: DurableState, s: Session): boolean {
  return (s.killSwitch.engaged || durable.halted || s.status === 'stopping') && Object.values(s.positions).some((p) => !isZero(p.qty));
}

/** Whether a flatten of the user is planned or working. */
function flattenWorking(durable: DurableState, userId: string): boolean {
  return durable.orders.values().some((o) => o.userId === userId && o.reduceOnly && !isTerminal(o));
}

/**
 * After every decision: once a ban has run out, each session that owes a flatten gets one planned (or has one
 * working) within flattenAfterBanBoundMs. A ban blocks flattens too; its end must not leave them waiting on a
 * back-off that the ban built up.
 */
export function venueDecisionChecks(world: World): DecisionObserver {
  return (input: Input, d: Decision): void => {
    const { venue } = world;
    const now = world.clock.nowMs();
    if (input.kind === 'boot' && now < venue.bannedUntilMs) venue.restartedDuringBan = true;
    const durable = d.state.durable;
    if (venue.banAnnouncedAtMs !== null && now >= venue.bannedUntilMs && venue.banLiftedAtMs !== venue.bannedUntilMs) {
      venue.banLiftedAtMs = venue.bannedUntilMs;
      venue.owedFlatten = new Set(
        durable.sessions
          .values()
          .filter((s) => owesFlat(durable, s))
          .map((s) => s.userId),
      );
      if (venue.owedFlatten.size > 0) world.trace.push(`  ban lifted at ${venue.banLiftedAtMs}; flattens owed by ${[...venue.owedFlatten].join(',')}`);
    }
    if (venue.banLiftedAtMs === null) return;
    for (const userId of [...venue.owedFlatten]) {
      const s = durable.sessions.get(userId);
      if (!s || !owesFlat(durable, s) || flattenWorking(durable, userId)) {
        venue.owedFlatten.delete(userId);
        continue;
      }
      const boundMs = flattenAfterBanBoundMs + (venue.restartedDuringBan ? world.config.maxRejectionBackoffMs : 0);
      if (now > venue.banLiftedAtMs + boundMs)
        throw new InvariantViolation(`${userId} owes a flatten, but none was planned within ${boundMs} ms after the ban lifted at ${venue.banLiftedAtMs}`);
    }
  };
}
