import type { Command } from '../contract/commands.js';
import type { ReplyAnswer } from '../contract/command-results.js';
import type { DecisionContext } from './context.js';
import { placeOrder } from './orders.js';
import { capToExposureLimit } from './exposure.js';
import { backingOff } from './rejections.js';
import type { Touch } from './planner.js';
import { alreadyAtTarget, planTowardTarget, targetQuantity } from './planner.js';
import { countAtTarget } from './events.js';
import type { RouteOutcome, Session } from './state.js';
import { hasOpenOrderFor } from './state-index.js';
import { entryQuoteOf, filtersOf } from './venues.js';
import type { Qty, Usd } from '../model/decimal.js';
import { isZero, toNumber, zero } from '../model/decimal.js';
import type { SymbolFilters } from '../model/market.js';

// signals.route: the signals of one producer, turned into orders for every session it names (or every active
// one). A fan-out to a thousand users is bounded work per engine step: each step routes at most
// config.maxUsersPerRouteStep users, in user-id order, and records how far it got (route.progress, in the WAL
// with that step's orders). The command is acknowledged and answered only by its last step; until then the same
// delivery is decided again as the route's continuation (see decide's `continuation`), queued behind whatever
// arrived meanwhile, so a /stop or a halt is decided between steps. After a crash the unacknowledged command is
// delivered again and goes on from the recorded user: no user routed twice, none left out. A session started
// while a route is under way is routed if its id sorts after the users already routed.
// A user already at its target (a repeated signal's usual outcome) is counted per symbol in the answer, not listed:
// a route to 1 000 users answered with 1 000 such outcomes, ~80 KB a route, most of the engine's Redis bytes at
// 10 000 sessions. The steps' WAL events still name them (route.progress `atTarget`): every user's outcome is in the log.

export type RouteResult = { ok: true; answer: ReplyAnswer } | { ok: false; reason: string } | { ok: 'partial' };

type RouteCommand = Extract<Command, { type: 'signals.route' }>;

function entryBlock(ctx: DecisionContext, session: Session): string | null {
  // A halt or a /stop decided between two steps of a route stops the rest of it for that session.
  if (ctx.durable.halted) return 'trading is halted by an operator';
  if (session.status !== 'active') return `session is ${session.status}`;
  if (session.killSwitch.engaged) return `kill switch engaged (${session.killSwitch.reason})`;
  if (session.paused) return 'session is paused';
  return null;
}

/**
 * Per route command, its users in id order, each once. Derived, never stored: a route decided in steps is the same
 * parsed command at each step (a continuation is the same input, parsed once: contract/commands.ts parseDelivery),
 * so the list is sorted once per route and not at each step of 20 users (which sorted all 1 000 named users, or every
 * session, again each time: as much time as routing them at 10 000 sessions). A route to every session takes the
 * sessions active when it begins (after a restart, when it resumes) and still active at their step; one that starts
 * meanwhile gets the next route.
 */
const routeUsers = new WeakMap<RouteCommand, readonly string[]>();

function usersInOrder(ctx: DecisionContext, cmd: RouteCommand): readonly string[] {
  let users = routeUsers.get(cmd);
  if (users === undefined) {
    const named = cmd.userIds ?? ctx.durable.sessions.filter((s) => s.status === 'active').map((s) => s.userId);
    users = [...new Set(named)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    routeUsers.set(cmd, users);
  }
  return users;
}

/** Up to `count` of the route's users in id order after `afterUserId` (from the first when null), and whether more follow. */
function nextUsers(ctx: DecisionContext, cmd: RouteCommand, afterUserId: string | null, count: number): { step: string[]; more: boolean } {
  const users = usersInOrder(ctx, cmd);
  // The first user after `afterUserId`: binary search, the list being in id order.
  let low = 0;
  let high = users.length;
  while (afterUserId !== null && low < high) {
    const mid = (low + high) >>> 1;
    if ((users[mid] as string) > afterUserId) high = mid;
    else low = mid + 1;
  }
  const step = users.slice(low, low + count);
  return { step, more: low + step.length < users.length };
}

/** One step's outcomes: orders placed and users skipped (`routed`), and the users already at their target, per symbol. */
interface StepOutcomes {
  routed: RouteOutcome[];
  atTarget: Record<string, string[]> | null;
  /** Target quantities computed in this step (TargetMemo). */
  targets: TargetMemo;
}

/**
 * targetQuantity for one step of a route: the same weight, capital, quote and filters give the same quantity, and the
 * users of a route mostly share all four (a signal's weight, a common capital, the one quote of the symbol). The
 * quantity snaps a float to the step grid through exact decimals: ~7 µs, a third of routing a user at target.
 */
class TargetMemo {
  private readonly known = new Map<string, Qty>();

  constructor(private readonly maxLeverage: number) {}

  of(weight: number, capitalUsd: Usd, quote: Touch, filters: SymbolFilters): Qty {
    const key = `${weight}|${capitalUsd}|${quote.bid}|${quote.ask}|${filters.symbol}|${filters.stepSize}`;
    let qty = this.known.get(key);
    if (qty === undefined) {
      qty = targetQuantity(weight, capitalUsd, this.maxLeverage, quote, filters);
      this.known.set(key, qty);
    }
    return qty;
  }
}

/**
 * Why a signal asking for a position leaves the user flat, where the plan found nothing to do: the target came out at
 * zero. Counted "at target", a session whose capital buys less than one step of the symbol never traded and never
 * heard why. Either the target is below one step (`wanted` zero), or the exposure limit is used by other symbols.
 */
function noPositionWhy(
  ctx: DecisionContext,
  signal: { symbol: string; weight: number },
  scale: number,
  capitalUsd: Usd,
  wanted: Qty,
  filters: SymbolFilters,
): string {
  if (!isZero(wanted)) return `the exposure limit (${ctx.config.maxLeverage} × capital) is taken by the other symbols held`;
  const weight = Number((signal.weight * scale).toFixed(4));
  const usd = Math.abs(weight) * toNumber(capitalUsd) * ctx.config.maxLeverage;
  return `target ${usd.toFixed(2)} USD (weight ${weight} of ${capitalUsd} USD) is less than one ${signal.symbol} order step of ${filters.stepSize}`;
}

/** The market view's key of what a user was told of a symbol's skipped signals (signalSkipsReported). */
const skipKey = (userId: string, symbol: string): string => `${userId}:${symbol}`;

/** A skip reason with its figures taken out: the same reason at another price or size reads the same. */
const reasonShape = (reason: string): string => reason.replace(/[0-9][0-9.]*/g, '#');

/**
 * A signal asked a flat session for a position it could not open: its user is told why (the route's answer goes to
 * the signal source only, and a session that never trades a symbol looked like one waiting for a signal). Once per
 * reason: a model signalling every minute repeats the same skip every minute, so the user hears it again only for a
 * different reason, or once an order for the symbol has been placed since (forgetSkipTold).
 */
function tellSkippedOnce(ctx: DecisionContext, userId: string, symbol: string, reason: string): void {
  const key = skipKey(userId, symbol);
  const shape = reasonShape(reason);
  if (ctx.market.signalSkipsReported.get(key) === shape) return;
  ctx.noteSignalSkipTold(key, shape);
  ctx.alert(
    userId,
    'signal_skipped',
    `${symbol} signal not traded: ${reason}. The session holds no ${symbol} and orders none while this holds; this is said once, again only for another reason or after an order for ${symbol}`,
  );
}

/** An order for the symbol was placed for the user: a later skip of it is told again. */
function forgetSkipTold(ctx: DecisionContext, userId: string, symbol: string): void {
  const key = skipKey(userId, symbol);
  if (ctx.market.signalSkipsReported.get(key) !== undefined) ctx.forgetSignalSkipTold(key);
}

function routeUser(ctx: DecisionContext, cmd: RouteCommand, userId: string, scale: number, step: StepOutcomes): void {
  const outcomes = step.routed;
  const session = ctx.durable.sessions.get(userId);
  for (const signal of cmd.signals) {
    // Skips are pushed as literals, not through a closure made per signal: run through tsx (npm start) each closure
    // also pays a named-function definition, on every user of every route.
    if (!session) {
      outcomes.push({ userId, symbol: signal.symbol, skipped: 'no session' });
      continue;
    }
    const blocked = entryBlock(ctx, session);
    if (blocked) {
      outcomes.push({ userId, symbol: signal.symbol, skipped: blocked });
      continue;
    }
    const filters = filtersOf(ctx.market.venues, session.mode, signal.symbol);
    if (!ctx.config.symbols.includes(signal.symbol) || !filters) {
      outcomes.push({ userId, symbol: signal.symbol, skipped: `symbol ${signal.symbol} is not traded` });
      continue;
    }
    if (hasOpenOrderFor(ctx.durable, userId, signal.symbol)) {
      outcomes.push({ userId, symbol: signal.symbol, skipped: 'an order for this symbol is still open' });
      continue;
    }
    const quote = entryQuoteOf(ctx.market.venues, session.mode, signal.symbol, ctx.nowMs, ctx.config);
    if (!quote) {
      outcomes.push({ userId, symbol: signal.symbol, skipped: `no quote younger than ${ctx.config.entryQuoteMaxAgeMs} ms` });
      continue;
    }
    const current = ctx.durable.sessions.get(userId)?.positions[signal.symbol]?.qty ?? zero;
    const wanted = step.targets.of(signal.weight * scale, session.capitalUsd, quote, filters);
    const target = capToExposureLimit(ctx, userId, signal.symbol, wanted, quote, filters);
    const plan = planTowardTarget(signal.symbol, current, target, quote, filters);
    if (plan.targetQty !== null && ctx.durable.sessions.get(userId)?.intents[signal.symbol] !== plan.targetQty) {
      ctx.emit({ type: 'intent.set', userId, symbol: signal.symbol, targetQty: plan.targetQty });
    }
    if (plan.kind === 'skip') {
      const skipped =
        plan.reason !== alreadyAtTarget
          ? plan.reason
          : signal.weight !== 0 && isZero(target)
            ? noPositionWhy(ctx, signal, scale, session.capitalUsd, wanted, filters)
            : null;
      if (skipped === null) ((step.atTarget ??= {})[signal.symbol] ??= []).push(userId);
      else {
        outcomes.push({ userId, symbol: signal.symbol, skipped });
        if (signal.weight !== 0 && isZero(current)) tellSkippedOnce(ctx, userId, signal.symbol, skipped);
      }
      continue;
    }
    if (backingOff(ctx.durable, ctx.config, ctx.nowMs, userId, signal.symbol, plan.order.purpose, ctx.market.retryAt)) {
      outcomes.push({ userId, symbol: signal.symbol, skipped: `the exchange keeps rejecting ${plan.order.purpose} orders for ${signal.symbol}; backing off` });
      continue;
    }
    const order = placeOrder(ctx, userId, plan.order);
    outcomes.push({ userId, symbol: signal.symbol, clientOrderId: order.clientOrderId });
    forgetSkipTold(ctx, userId, signal.symbol);
  }
}

/** One step of a route: its next users (at most maxUsersPerRouteStep); the answer once none are left. */
export function handleRoute(ctx: DecisionContext, cmd: RouteCommand): RouteResult {
  const progress = ctx.durable.routes[cmd.id] ?? null;
  if (progress === null) {
    // Checked when the route begins; a halt decided part-way skips the remaining users instead (entryBlock).
    if (!ctx.config.signalSourceIds.includes(cmd.userId)) return { ok: false, reason: `${cmd.userId} may not publish signals` };
    if (ctx.durable.halted) return { ok: false, reason: 'trading is halted by an operator' };
    const ageMs = cmd.issuedAtMs === undefined ? 0 : ctx.nowMs - cmd.issuedAtMs;
    if (ageMs > ctx.config.maxSignalAgeMs)
      return { ok: false, reason: `signals issued ${Math.round(ageMs / 1000)} s ago, older than ${ctx.config.maxSignalAgeMs / 1000} s: not traded` };
  }
  // Gross exposure limit: weights whose absolute sum exceeds 1 are scaled down together.
  const totalWeight = cmd.signals.reduce((sum, s) => sum + Math.abs(s.weight), 0);
  const scale = totalWeight > 1 ? 1 / totalWeight : 1;
  const { step, more } = nextUsers(ctx, cmd, progress?.afterUserId ?? null, Math.max(1, ctx.config.maxUsersPerRouteStep));
  const outcomes: StepOutcomes = { routed: [], atTarget: null, targets: new TargetMemo(ctx.config.maxLeverage) };
  for (const userId of step) {
    // A route to every session leaves out, as it always did, one that stopped since the route began.
    if (cmd.userIds === undefined && ctx.durable.sessions.get(userId)?.status !== 'active') continue;
    routeUser(ctx, cmd, userId, scale, outcomes);
  }
  const last = step[step.length - 1];
  // Every step that routed users records them, the last one too when it has users at their target to name (its
  // progress is then dropped by the same decision's command.processed).
  if (last !== undefined && (more || outcomes.atTarget !== null)) {
    ctx.emit({
      type: 'route.progress',
      commandId: cmd.id,
      afterUserId: last,
      routed: outcomes.routed,
      ...(outcomes.atTarget !== null && { atTarget: outcomes.atTarget }),
    });
  }
  if (more && last !== undefined) return { ok: 'partial' };
  const routed = [...(progress?.routed ?? []), ...outcomes.routed];
  const atTarget = countAtTarget(progress?.atTarget, outcomes.atTarget ?? undefined);
  return { ok: true, answer: { commandType: 'signals.route', status: 'done', result: atTarget ? { routed, atTarget } : { routed } } };
}
