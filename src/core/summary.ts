import type { DecisionContext } from './context.js';
import { numberOfExact, stopLossLevelUsd, valueSessionExact } from './mtm.js';
import { openOrdersOf } from './state-index.js';
import type { Position, Session } from './state.js';
import { countInWindow, holdsPosition } from './state.js';
import { filtersOf } from './venues.js';
import { dueAgain, dueBy, noExtraSessions, sessionsToVisit } from './schedule.js';
import type { SessionSummary } from '../contract/session-summary.js';
import type { Price, Usd } from '../model/decimal.js';
import { div, exactOf, exactSub, isDecimal, mul, sign, toDecimal, toNumber } from '../model/decimal.js';

/**
 * The entry price on the symbol's tick grid (the nearest multiple of the tick, half-even): an average of fills is
 * finer than any price the book shows. Ticks come as the exchange writes them ("0.10"), so the grid is the tick's
 * multiples, not its number of decimals.
 */
function atTick(price: Price, tickSize: string | undefined): Price {
  if (tickSize === undefined || !isDecimal(tickSize) || sign(toDecimal(tickSize)) <= 0) return price;
  const tick = toDecimal(tickSize);
  return mul(div(price, tick, 0, 'half-even'), tick) as Price;
}

/**
 * A position's figures as the summary shows them (quantity and entry as numbers, the entry on the tick grid), per
 * (immutable) position object and tick: a held position is summarised every equity sample unchanged.
 */
interface PositionShown {
  tickSize: string | undefined;
  qty: number;
  entryPrice: number;
  entryAtTick: Price;
}

const positionShownMemo = new WeakMap<Position, PositionShown>();

function positionShown(position: Position, tickSize: string | undefined): PositionShown {
  const known = positionShownMemo.get(position);
  if (known !== undefined && known.tickSize === tickSize) return known;
  const shown = { tickSize, qty: toNumber(position.qty), entryPrice: toNumber(position.entryPrice), entryAtTick: atTick(position.entryPrice, tickSize) };
  positionShownMemo.set(position, shown);
  return shown;
}

/**
 * A session's figures that no quote moves, as the summary shows them, per (immutable) session object: an equity sample
 * every 5 s of a session holding a position read the same decimals into numbers each time (a third of a sample's cost
 * in a backtest, bench/backtest.ts). A session changes by a new object, so a changed one is read afresh.
 */
interface SessionFigures {
  capitalUsd: number;
  realizedPnlUsd: number;
  feesUsd: number;
  fundingUsd: number;
  /** The stop-loss floor, exact (for the distance) and shown; null without a stop-loss. */
  floor: Usd | null;
  floorUsd: number | null;
}

const sessionFiguresMemo = new WeakMap<Session, SessionFigures>();

function sessionFigures(session: Session): SessionFigures {
  let known = sessionFiguresMemo.get(session);
  if (known === undefined) {
    const floor = session.stopLossPct === null ? null : stopLossLevelUsd(session.capitalUsd, session.stopLossPct);
    known = {
      capitalUsd: toNumber(session.capitalUsd),
      realizedPnlUsd: toNumber(session.realizedPnlUsd),
      feesUsd: toNumber(session.feesUsd),
      fundingUsd: toNumber(session.fundingUsd),
      floor,
      floorUsd: floor === null ? null : toNumber(floor),
    };
    sessionFiguresMemo.set(session, known);
  }
  return known;
}

/**
 * What a user, a dashboard or an operator sees of a session: its settings, positions and orders, valued at
 * bid/ask. Computed exactly, then shown as numbers (toNumber at this edge): the summary is for display, and its
 * readers (dashboard, bot) keep the number contract of src/contract/session-summary.ts unchanged.
 */
export function sessionSummary(ctx: DecisionContext, session: Session): SessionSummary {
  // Valued exactly and shown as numbers straight from the exact values (numberOfExact: the number the decimal text
  // would read as), with no decimal written on the way.
  const valuation = valueSessionExact(session, ctx.market);
  const figures = sessionFigures(session);
  const floor = figures.floor;
  const openOrders = openOrdersOf(ctx.durable, session.userId).map((o) => ({
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    quantity: o.quantity,
    price: o.price,
    status: o.status,
    purpose: o.purpose,
  }));
  // Each held position with where it could be closed now (bid for longs, ask for shorts); null = no quote.
  const positions: SessionSummary['positions'] = {};
  for (let i = 0; i < valuation.held.length; i += 1) {
    const { symbol, position: p, value } = valuation.held[i] as (typeof valuation.held)[number];
    const filters = filtersOf(ctx.market.venues, session.mode, symbol);
    const held = positionShown(p, filters?.tickSize);
    const shown: SessionSummary['positions'][string] = {
      qty: held.qty,
      entryPrice: held.entryPrice,
      exitPrice: value ? value.exitNumber : null,
      unrealizedPnlUsd: value ? numberOfExact(value.unrealized) : null,
      notionalUsd: value ? numberOfExact(value.notional) : null,
      qtyExact: p.qty,
      entryAtTick: held.entryAtTick,
      mark: value ? value.exitPrice : null,
      tickSize: filters?.tickSize ?? null,
      stepSize: filters?.stepSize ?? null,
    };
    // Each symbol an own key whatever it is, as Object.fromEntries made them ('__proto__' set by assignment would be
    // the prototype); written directly, without the pairs and fromEntries' generic path (0.7 % of a backtest).
    if (symbol === '__proto__') Object.defineProperty(positions, symbol, { value: shown, enumerable: true, writable: true, configurable: true });
    else positions[symbol] = shown;
  }
  return {
    userId: session.userId,
    mode: session.mode,
    status: session.status,
    capitalUsd: figures.capitalUsd,
    stopLossPct: session.stopLossPct,
    horizonDeadline: session.horizonDeadlineMs === null ? null : new Date(session.horizonDeadlineMs).toISOString(),
    paused: session.paused,
    // Field by field, not spread: a spread takes V8's slow path (record-copies.ts), on every equity sample.
    killSwitch: { engaged: session.killSwitch.engaged, reason: session.killSwitch.reason, atMs: session.killSwitch.atMs },
    positions,
    realizedPnlUsd: figures.realizedPnlUsd,
    feesUsd: figures.feesUsd,
    fundingUsd: figures.fundingUsd,
    equityUsd: numberOfExact(valuation.equity),
    unrealizedPnlUsd: numberOfExact(valuation.unrealized),
    unpricedSymbols: valuation.unpricedSymbols,
    grossExposureUsd: numberOfExact(valuation.gross),
    openOrders,
    startedAtMs: session.startedAtMs,
    asOfMs: ctx.nowMs,
    stopLossFloorUsd: figures.floorUsd,
    stopLossDistanceUsd: floor === null ? null : numberOfExact(exactSub(valuation.equity, exactOf(floor))),
    horizonDeadlineMs: session.horizonDeadlineMs,
  };
}

/** Publishes one equity sample of the session (an outbound event) and notes when. */
export function publishEquity(ctx: DecisionContext, session: Session): void {
  ctx.publish({ type: 'equity', userId: session.userId, summary: sessionSummary(ctx, session), atMs: ctx.nowMs });
  ctx.noteEquitySample(session.userId);
}

/**
 * Every open session's equity, at most once per equitySampleMs while it holds a position (wall clock, so a
 * silent feed still shows), and once per equityIdleSampleMs while flat: a flat session's equity does not
 * move, and the outbound stream (bounded) should hold alerts, not repeats.
 */
export function sampleEquity(ctx: DecisionContext): void {
  let published = 0;
  const second = Math.floor(ctx.nowMs / 1_000);
  const leftThisSecond = ctx.config.maxEquitySamplesPerSecond - countInWindow(ctx.market.equitySamplesInSecond, second);
  const bound = Math.max(0, Math.min(ctx.config.maxEquitySamplesPerDecision, leftThisSecond));
  // The sessions whose sample is due or whose records changed (schedule.ts), not every session; of those due by time
  // at most as many as may be sampled (earliest first): 10 000 sessions started together stay due for 100 beats,
  // and taking them all each beat to sample 100 cost every beat O(sessions) (27 ms at 10 000, bench/core-scale.ts).
  // Of those, at most maxSessionVisitsPerBeat (records changed ones included): the rest are the beat's continuation's.
  const visits = sessionsToVisit(ctx.schedule, 'equity', ctx.durable, ctx.wal, ctx.nowMs, false, noExtraSessions, bound, ctx.config.maxSessionVisitsPerBeat);
  for (const session of visits) {
    if (session.status === 'closed') continue;
    const holding = holdsPosition(session);
    const periodMs = holding ? ctx.config.equitySampleMs : ctx.config.equityIdleSampleMs;
    const last = ctx.market.lastEquitySampleAtMs.get(session.userId);
    const due = last === undefined || ctx.nowMs - last >= periodMs;
    if (due && published >= bound) {
      // Over the bound: sampled by the beat's continuation (below), or by the next beat once this second's are spent.
      dueAgain(ctx.schedule, 'equity', session.userId, ctx.nowMs);
      continue;
    }
    if (due) {
      publishEquity(ctx, session);
      published += 1;
    }
    // Sampled now, or last at `last` (a session never sampled is due).
    dueAgain(ctx.schedule, 'equity', session.userId, (due ? ctx.nowMs : (last ?? ctx.nowMs)) + periodMs);
  }
  // Samples still due (over the bound, or beyond the due ones taken): the beat continues in a later step, after what
  // waits, while this second allows more. Left to the next beat instead, they fell behind for good once more fell due
  // a second than one beat may sample: at 1 000 sessions holding, 200 a second against 100, so each came every 10 s.
  if (published < leftThisSecond && dueBy(ctx.schedule, 'equity', ctx.nowMs)) ctx.equityDue = true;
}
