import type { ProtectiveStopSnapshot, StopOutcome } from '../model/protective-stops.js';
import type { DecisionContext } from './context.js';
import type { Decimal, Price, Usd } from '../model/decimal.js';
import { abs, add, div, entryPriceScale, isZero, lt, lte, movePoint, mul, sign, snapToStep, sub, toDecimal, toPrice } from '../model/decimal.js';
import type { ProtectiveStop, Session } from './state.js';
import { countInWindow, holdsPosition } from './state.js';
import type { SymbolFilters } from '../model/market.js';
import type { StopFigures } from './mtm.js';
import { bookedPnlUsd, sameStopFigures, stopFiguresOf } from './mtm.js';
import { filtersOf } from './venues.js';
import { tradedSymbols } from './config.js';
import { dueAgain, noExtraSessions, sessionsToVisit, stopGlobalsChanged, waitingFor } from './schedule.js';
import { readFundingIfDue } from './funding-income.js';

// Exchange-side protection: while a session holds a position and has a stop-loss, a reduce-only
// STOP_MARKET (closePosition) rests on the exchange at the price where that position alone would use up its
// share of the session's loss budget. If the engine dies for good, the exchange still closes the position.
// Stops move when the position or the stop-loss changes, and are checked every protectiveStopCheckMs to
// still exist: a missing one is reported, the position re-read (the stop may have fired) and re-placed.

/** Key of a session's stop on one symbol in the market's stop-attempt times. */
export const stopKey = (userId: string, symbol: string): string => `${userId}:${symbol}`;

function wantsStops(ctx: DecisionContext, session: Session): boolean {
  return session.status === 'active' && !session.killSwitch.engaged && session.stopLossPct !== null && !ctx.durable.halted;
}

type Trigger = { side: 'BUY' | 'SELL'; triggerPrice: string } | null;

/**
 * Ideal triggers already worked out, per (immutable) session object: a function of the session, the symbol's
 * filters and the held count only, so an untouched session is not recomputed (exact decimals are not cheap)
 * on every input. Forgotten with the session object.
 */
const idealMemo = new WeakMap<Session, Map<string, { filters: SymbolFilters | undefined; heldCount: number; trigger: Trigger }>>();

/** The same per positions record and symbol, with the figures it was made from (mtm.ts StopFigures). */
const triggersByPositions = new WeakMap<
  Session['positions'],
  Map<string, { filters: SymbolFilters | undefined; heldCount: number; figures: StopFigures; trigger: Trigger }>
>();

function idealTrigger(ctx: DecisionContext, session: Session, symbol: string, heldCount: number): Trigger {
  const filters = filtersOf(ctx.market.venues, session.mode, symbol);
  let bySymbol = idealMemo.get(session);
  const known = bySymbol?.get(symbol);
  if (known && known.filters === filters && known.heldCount === heldCount) return known.trigger;
  let byPositions = triggersByPositions.get(session.positions);
  const shared = byPositions?.get(symbol);
  const reusable = shared !== undefined && shared.filters === filters && shared.heldCount === heldCount && sameStopFigures(shared.figures, session);
  const trigger = reusable ? shared.trigger : computeIdealTrigger(session, filters, symbol, heldCount);
  if (!bySymbol) idealMemo.set(session, (bySymbol = new Map()));
  bySymbol.set(symbol, { filters, heldCount, trigger });
  if (!reusable) {
    if (!byPositions) triggersByPositions.set(session.positions, (byPositions = new Map()));
    byPositions.set(symbol, { filters, heldCount, figures: stopFiguresOf(session), trigger });
  }
  return trigger;
}

/** Trigger for one held symbol, or null when no finite loss on it can breach the session's stop. */
function computeIdealTrigger(session: Session, filters: SymbolFilters | undefined, symbol: string, heldCount: number): Trigger {
  const position = session.positions[symbol];
  if (!position || isZero(position.qty) || !filters || session.stopLossPct === null) return null;
  const lossBudgetUsd = add(movePoint(mul(session.capitalUsd, toDecimal(session.stopLossPct)) as Usd, -2), bookedPnlUsd(session));
  if (sign(lossBudgetUsd) <= 0) return null; // already breached: the MTM rule flattens
  // How far the price may move against this position: its share of the budget per unit held. Truncated, so
  // the trigger lands nearer the entry (toward safety), as does the snap to the tick grid below.
  const distance = div(lossBudgetUsd, mul(toDecimal(heldCount), abs(position.qty)), entryPriceScale, 'toward-zero') as Price;
  if (sign(position.qty) > 0) {
    const trigger = sub(position.entryPrice, distance);
    if (lte(trigger, toPrice(filters.tickSize))) return null;
    return { side: 'SELL', triggerPrice: snapToStep(trigger, filters.tickSize, 'up') }; // rounded toward safety
  }
  const trigger = add(position.entryPrice, distance);
  return { side: 'BUY', triggerPrice: snapToStep(trigger, filters.tickSize, 'down') };
}

function removeStop(ctx: DecisionContext, session: Session, symbol: string, reason: string): void {
  const stop = session.protectiveStops[symbol];
  if (!stop) return;
  ctx.emit({ type: 'stop.removed', userId: session.userId, symbol, clientAlgoId: stop.clientAlgoId, reason });
  ctx.noteStopRetired(session.userId, symbol, stop.side);
  ctx.effect({ kind: 'cancel_stop', userId: session.userId, lane: 'priority', symbol, clientAlgoId: stop.clientAlgoId });
  // Keep checking for a while: if this cancel is lost, the listing finds the orphan and cancels it again.
  ctx.noteStopAttempt(sweepKey(session.userId));
}

const sweepKey = (userId: string): string => `${userId}:sweep`;

/** Drift checks already made, per (immutable) stop object: the same stop, ideal and bound give the same answer. */
const driftMemo = new WeakMap<ProtectiveStop, { triggerPrice: string; moveBps: number; within: boolean }>();

/** Exact: |current − ideal| / ideal < moveBps / 10 000. */
function withinMove(current: ProtectiveStop, triggerPrice: string, moveBps: number): boolean {
  const known = driftMemo.get(current);
  if (known && known.triggerPrice === triggerPrice && known.moveBps === moveBps) return known.within;
  const drift = movePoint(abs(sub<Decimal>(toDecimal(current.triggerPrice), toDecimal(triggerPrice))), 4);
  const within = lt(drift, mul(toDecimal(moveBps), toDecimal(triggerPrice)));
  driftMemo.set(current, { triggerPrice, moveBps, within });
  return within;
}

/**
 * Keeps each session's stops where they should be and checks them periodically. Visits the sessions whose
 * records changed or whose check or placement retry is due (schedule.ts); a change of halt, epoch or filters
 * visits every session.
 */
export function maintainProtectiveStops(ctx: DecisionContext): void {
  const wakeAll = stopGlobalsChanged(ctx.schedule, ctx.durable, ctx.market);
  const visits = sessionsToVisit(
    ctx.schedule,
    'stops',
    ctx.durable,
    ctx.wal,
    ctx.nowMs,
    wakeAll,
    noExtraSessions,
    Number.POSITIVE_INFINITY,
    ctx.config.maxStopPassVisitsPerDecision,
  );
  const waiting = waitingFor(ctx.schedule, 'stops'); // after the visits are known: a full scan starts a new queue
  for (const original of visits) {
    if (tended(ctx, original)) {
      visitSession(ctx, original);
      const now = ctx.durable.sessions.get(original.userId) ?? original;
      // Asked once for both: nothing between the check and the queueing changes the session or its sweep.
      const exposed = exposedNow(ctx, now);
      if (checkDue(ctx, now, exposed)) waiting.at(original.userId, ctx.market.lastStopCheckAtMs.get(original.userId) ?? -1);
      else waiting.drop(original.userId);
      queueNextVisit(ctx, original.userId, exposed);
    } else {
      waiting.drop(original.userId);
      queueNextVisit(ctx, original.userId);
    }
  }
  startDueChecks(ctx);
}

/**
 * Closed sessions with no stop of ours left are done with: no placement, no check. Unless a stop was removed lately:
 * its placement may still land after its cancel (they travel apart), and only a check finds that orphan. Without
 * this, a session that closed in that window was never checked again and left a stop resting on the exchange.
 */
const tended = (ctx: DecisionContext, session: Session): boolean => session.status !== 'closed' || hasStops(session) || sweeping(ctx, session);

/**
 * Whether the session tracks a stop, or holds a position: loops, not Object.keys/values, as the stop pass asks on
 * every input that visits or queues a session (each asked for an array it threw away).
 */
function hasStops(session: Session): boolean {
  for (const symbol in session.protectiveStops) if (Object.hasOwn(session.protectiveStops, symbol)) return true;
  return false;
}

/** Periodic checks this minute's bound still lets start now: a burst at the minute's top, the rest evenly over it. */
export function stopChecksAllowedNow(ctx: Pick<DecisionContext, 'config' | 'market' | 'nowMs'>): number {
  const { protectiveStopChecksPerMinute: perMinute, protectiveStopCheckBurst: burst } = ctx.config;
  const minute = Math.floor(ctx.nowMs / 60_000);
  const accrued = Math.min(perMinute, burst + Math.floor((perMinute * (ctx.nowMs - minute * 60_000)) / 60_000));
  const started = countInWindow(ctx.market.stopChecksInMinute, minute);
  return Math.max(0, accrued - started);
}

/**
 * Starts the periodic checks of the longest-waiting sessions, as many as protectiveStopChecksPerMinute allows now:
 * with many sessions a check comes round less often rather than starving the requests that trade and flatten.
 * A waiting session is not visited again for its check (a visit per input per waiting session would cost what
 * the schedule saves); one whose check is no longer due when its turn comes is skipped.
 */
function startDueChecks(ctx: DecisionContext): void {
  const waiting = waitingFor(ctx.schedule, 'stops');
  for (let room = stopChecksAllowedNow(ctx); room > 0;) {
    const turn = waiting.takeFirst(room);
    if (turn.length === 0) return;
    for (const userId of turn) {
      const session = ctx.durable.sessions.get(userId);
      // Starting a check notes its time, not the session or its sweep: what is exposed stays as asked.
      const exposed = session && tended(ctx, session) ? exposedNow(ctx, session) : undefined;
      if (session && exposed !== undefined && checkDue(ctx, session, exposed)) {
        startCheck(ctx, session);
        room -= 1;
      }
      queueNextVisit(ctx, userId, exposed);
    }
  }
}

/**
 * When the stop pass must look at the session again although nothing about it changed: its next periodic check
 * (unless it waits its turn for one), or a placement retry. Early is harmless (a visit that finds nothing to do);
 * late would be a missed check. `exposed`: exposedNow of the session as it is now, when the caller has it.
 */
function queueNextVisit(ctx: DecisionContext, userId: string, exposed?: boolean): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session || !tended(ctx, session)) return;
  const lastCheck = ctx.market.lastStopCheckAtMs.get(userId);
  const periodMs = (exposed ?? exposedNow(ctx, session)) ? ctx.config.protectiveStopCheckMs : ctx.config.protectiveStopIdleCheckMs;
  let dueMs = waitingFor(ctx.schedule, 'stops').has(userId) ? Infinity : lastCheck === undefined ? ctx.nowMs : lastCheck + periodMs;
  for (const symbol of Object.keys(session.positions)) {
    const lastAttempt = ctx.market.lastStopAttemptAtMs.get(stopKey(userId, symbol));
    if (lastAttempt !== undefined && lastAttempt + ctx.config.protectiveStopCheckMs > ctx.nowMs)
      dueMs = Math.min(dueMs, lastAttempt + ctx.config.protectiveStopCheckMs);
  }
  if (dueMs !== Infinity) dueAgain(ctx.schedule, 'stops', userId, Math.max(dueMs, ctx.nowMs + 1));
}

/** Whether the periodic check runs at the short period: anything to protect or clean up. */
function exposedNow(ctx: DecisionContext, session: Session): boolean {
  return sweeping(ctx, session) || hasStops(session) || holdsPosition(session);
}

/** A stop of the session was removed lately (3 check periods): its cancel may be lost, or overtaken by its placement. */
function sweeping(ctx: DecisionContext, session: Session): boolean {
  const lastRemoval = ctx.market.lastStopAttemptAtMs.get(sweepKey(session.userId));
  return lastRemoval !== undefined && ctx.nowMs - lastRemoval < 3 * ctx.config.protectiveStopCheckMs;
}

function visitSession(ctx: DecisionContext, original: Session): void {
  const held = Object.keys(original.positions).filter((s) => {
    const p = original.positions[s];
    return p !== undefined && !isZero(p.qty);
  });
  for (const symbol of Object.keys(original.protectiveStops)) {
    const session = ctx.durable.sessions.get(original.userId) ?? original;
    if (!wantsStops(ctx, session) || !held.includes(symbol)) removeStop(ctx, session, symbol, 'no longer needed');
  }
  const session = ctx.durable.sessions.get(original.userId) ?? original;
  if (wantsStops(ctx, session)) {
    for (const symbol of held) {
      const ideal = idealTrigger(ctx, session, symbol, held.length);
      const current = ctx.durable.sessions.get(session.userId)?.protectiveStops[symbol];
      if (!ideal) continue;
      if (current) {
        if (current.side === ideal.side && withinMove(current, ideal.triggerPrice, ctx.config.protectiveStopMoveBps)) continue;
        removeStop(ctx, ctx.durable.sessions.get(session.userId) ?? session, symbol, `moved to ${ideal.triggerPrice}`);
      }
      const lastAttempt = ctx.market.lastStopAttemptAtMs.get(stopKey(session.userId, symbol));
      if (lastAttempt !== undefined && ctx.nowMs - lastAttempt < ctx.config.protectiveStopCheckMs) continue;
      if (ctx.durable.epoch === null) continue;
      const clientAlgoId = `qs${ctx.durable.epoch}-${ctx.durable.orderSeq + 1}`;
      ctx.emit({ type: 'stop.planned', userId: session.userId, symbol, clientAlgoId, side: ideal.side, triggerPrice: ideal.triggerPrice, atMs: ctx.nowMs });
      ctx.noteStopAttempt(stopKey(session.userId, symbol));
      ctx.effect({
        kind: 'place_stop',
        userId: session.userId,
        lane: 'priority',
        request: { clientAlgoId, symbol, side: ideal.side, triggerPrice: ideal.triggerPrice },
      });
    }
  }
}

/**
 * Whether the periodic check is due: while there is anything to protect or clean up, the stops still rest (and no
 * orphan of ours does), and the positions still match (a stop may have fired while we were not looking).
 */
function checkDue(ctx: DecisionContext, session: Session, exposed: boolean): boolean {
  const lastCheck = ctx.market.lastStopCheckAtMs.get(session.userId);
  // Unexposed sessions are still swept, slowly: a stop whose placement outlived its cancel must not linger.
  const periodMs = exposed ? ctx.config.protectiveStopCheckMs : ctx.config.protectiveStopIdleCheckMs;
  return (exposed || session.status !== 'closed') && (lastCheck === undefined || ctx.nowMs - lastCheck >= periodMs);
}

function startCheck(ctx: DecisionContext, session: Session): void {
  ctx.noteStopCheckStarted(session.userId);
  // Housekeeping, not an exit: the normal lane, and per symbol (openAlgoOrders weighs 1 with a symbol, 40
  // without). Every symbol a stop of ours can rest on: the traded ones and any this session holds or guards.
  // Each once, in that order: the traded ones worked out once per config, then the few others.
  const traded = tradedSymbols(ctx.config.symbols);
  const symbols = [...traded.list];
  for (const record of [session.positions, session.protectiveStops])
    for (const symbol in record) if (Object.hasOwn(record, symbol) && !traded.set.has(symbol) && !symbols.includes(symbol)) symbols.push(symbol);
  ctx.effect({ kind: 'list_stops', userId: session.userId, lane: 'normal', symbols, askedAtMs: ctx.nowMs });
  ctx.effect({ kind: 'reconcile', userId: session.userId, requestedAtMs: ctx.nowMs });
  readFundingIfDue(ctx, session, holdsPosition(session));
}

export function onStopPlaced(ctx: DecisionContext, userId: string, symbol: string, clientAlgoId: string, outcome: StopOutcome): void {
  const stop = ctx.durable.sessions.get(userId)?.protectiveStops[symbol];
  if (!stop || stop.clientAlgoId !== clientAlgoId) return;
  if (outcome.kind === 'accepted') ctx.emit({ type: 'stop.status', userId, symbol, clientAlgoId, status: 'active' });
  else if (outcome.kind === 'unknown') ctx.emit({ type: 'stop.status', userId, symbol, clientAlgoId, status: 'unknown' });
  else {
    ctx.emit({ type: 'stop.removed', userId, symbol, clientAlgoId, reason: `rejected: ${outcome.code} ${outcome.message}` });
    ctx.alert(
      userId,
      'protective_stop',
      `protective stop for ${symbol} at ${stop.triggerPrice} rejected (${outcome.code} ${outcome.message}); the engine's own stop-loss still applies`,
    );
  }
}

/**
 * A listing of the stops resting on the exchange, asked for at `askedAtMs`: ours missing from it are gone (fired,
 * cancelled, never placed), except one planned since it was asked for. Its placement and the listing travel apart (the
 * placement on the priority lane), so the exchange may have read the listing before the stop landed: taken for gone,
 * the stop was reported missing, forgotten and placed again, the first one still resting beside it (an orphan until a
 * later check cancelled it). The next listing judges it.
 */
export function onStopsListed(ctx: DecisionContext, userId: string, listed: ProtectiveStopSnapshot[], askedAtMs: number | undefined): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session) return;
  // Nothing listed and nothing tracked (a session without a stop-loss, at every check): nothing to compare.
  if (listed.length === 0 && !hasStops(session)) return;
  const present = new Set(listed.map((s) => s.clientAlgoId));
  for (const [symbol, stop] of Object.entries(session.protectiveStops)) {
    if (present.has(stop.clientAlgoId)) {
      if (stop.status !== 'active') ctx.emit({ type: 'stop.status', userId, symbol, clientAlgoId: stop.clientAlgoId, status: 'active' });
      continue;
    }
    // A just-sent stop may not be listed yet; anything older is gone (fired, cancelled, or never placed).
    if (stop.status === 'pending' && ctx.nowMs - stop.plannedAtMs < ctx.config.protectiveStopCheckMs) continue;
    if (askedAtMs !== undefined && stop.plannedAtMs >= askedAtMs) continue;
    ctx.emit({ type: 'stop.removed', userId, symbol, clientAlgoId: stop.clientAlgoId, reason: 'missing on the exchange' });
    ctx.noteStopRetired(userId, symbol, stop.side); // it may have fired, its trade not reported yet
    // A placement not answered yet may still be on its way and land after this listing, untracked: cancel it too. The
    // executor holds this cancel until the placement's answer (effect-executor.ts placingStops), so it arrives after
    // it; checks would cancel such a stop later only while this session is checked, and a /stop ends that.
    if (stop.status !== 'active') ctx.effect({ kind: 'cancel_stop', userId, lane: 'priority', symbol, clientAlgoId: stop.clientAlgoId });
    if (stop.status === 'active')
      ctx.alert(userId, 'protective_stop', `protective stop for ${symbol} is no longer on the exchange; re-reading the position and re-placing it`);
  }
  // Our own stops that the state no longer tracks (a cancel that was lost): cancel them again.
  const ours = `qs${ctx.durable.epoch ?? ''}-`;
  const tracked = new Set(Object.values(ctx.durable.sessions.get(userId)?.protectiveStops ?? {}).map((s) => s.clientAlgoId));
  for (const s of listed) {
    if (s.clientAlgoId.startsWith(ours) && !tracked.has(s.clientAlgoId))
      ctx.effect({ kind: 'cancel_stop', userId, lane: 'priority', symbol: s.symbol, clientAlgoId: s.clientAlgoId });
  }
}
