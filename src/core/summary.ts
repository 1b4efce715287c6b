import type { DecisionContext } from './context.js';
import { numberOfExact, stopLossLevelUsd, valueSessionExact } from './mtm.js';
import { openOrdersOf } from './state-index.js';
import type { Position, Session } from './state.js';
import { filtersOf } from './venues.js';
import { dueAgain, sessionsToVisit } from './schedule.js';
import type { SessionSummary } from '../contract/session-summary.js';
import type { Price } from '../model/decimal.js';
import { div, exactOf, exactSub, isDecimal, isZero, mul, sign, toDecimal, toNumber } from '../model/decimal.js';

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

/** atTick per (immutable) position object and tick: a held position is summarised every equity sample unchanged. */
const atTickMemo = new WeakMap<Position, { tickSize: string | undefined; price: Price }>();

function entryAtTick(position: Position, tickSize: string | undefined): Price {
  const known = atTickMemo.get(position);
  if (known !== undefined && known.tickSize === tickSize) return known.price;
  const price = atTick(position.entryPrice, tickSize);
  atTickMemo.set(position, { tickSize, price });
  return price;
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
  const floor = session.stopLossPct === null ? null : stopLossLevelUsd(session.capitalUsd, session.stopLossPct);
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
  const positions = valuation.held.map(({ symbol, position: p, value }) => {
    const filters = filtersOf(ctx.market.venues, session.mode, symbol);
    const shown: SessionSummary['positions'][string] = {
      qty: toNumber(p.qty),
      entryPrice: toNumber(p.entryPrice),
      exitPrice: value ? toNumber(value.exitPrice) : null,
      unrealizedPnlUsd: value ? numberOfExact(value.unrealized) : null,
      notionalUsd: value ? numberOfExact(value.notional) : null,
      qtyExact: p.qty,
      entryAtTick: entryAtTick(p, filters?.tickSize),
      mark: value ? value.exitPrice : null,
      tickSize: filters?.tickSize ?? null,
      stepSize: filters?.stepSize ?? null,
    };
    return [symbol, shown] as const;
  });
  return {
    userId: session.userId,
    mode: session.mode,
    status: session.status,
    capitalUsd: toNumber(session.capitalUsd),
    stopLossPct: session.stopLossPct,
    horizonDeadline: session.horizonDeadlineMs === null ? null : new Date(session.horizonDeadlineMs).toISOString(),
    paused: session.paused,
    killSwitch: { ...session.killSwitch },
    // fromEntries defines each symbol as an own key, whatever it is ('__proto__' included).
    positions: Object.fromEntries(positions),
    realizedPnlUsd: toNumber(session.realizedPnlUsd),
    feesUsd: toNumber(session.feesUsd),
    fundingUsd: toNumber(session.fundingUsd),
    equityUsd: numberOfExact(valuation.equity),
    unrealizedPnlUsd: numberOfExact(valuation.unrealized),
    unpricedSymbols: valuation.unpricedSymbols,
    grossExposureUsd: numberOfExact(valuation.gross),
    openOrders,
    startedAtMs: session.startedAtMs,
    asOfMs: ctx.nowMs,
    stopLossFloorUsd: floor === null ? null : toNumber(floor),
    stopLossDistanceUsd: floor === null ? null : numberOfExact(exactSub(valuation.equity, exactOf(floor))),
    horizonDeadlineMs: session.horizonDeadlineMs,
  };
}

/** Publishes one equity sample of the session (an outbound event) and notes when. */
export function publishEquity(ctx: DecisionContext, session: Session): void {
  ctx.outbound.push({ type: 'equity', userId: session.userId, summary: sessionSummary(ctx, session), atMs: ctx.nowMs });
  ctx.noteEquitySample(session.userId);
}

/**
 * Every open session's equity, at most once per equitySampleMs while it holds a position (wall clock, so a
 * silent feed still shows), and once per equityIdleSampleMs while flat: a flat session's equity does not
 * move, and the outbound stream (bounded) should hold alerts, not repeats.
 */
export function sampleEquity(ctx: DecisionContext): void {
  let published = 0;
  // The sessions whose sample is due or whose records changed (schedule.ts), not every session; of those due by time
  // at most as many as may be sampled (earliest first): 10 000 sessions started together stay due for 100 beats,
  // and taking them all each beat to sample 100 cost every beat O(sessions) (27 ms at 10 000, bench/core-scale.ts).
  const visits = sessionsToVisit(ctx.schedule, 'equity', ctx.durable, ctx.wal, ctx.nowMs, false, [], ctx.config.maxEquitySamplesPerDecision);
  for (const session of visits) {
    if (session.status === 'closed') continue;
    const holding = Object.values(session.positions).some((p) => !isZero(p.qty));
    const periodMs = holding ? ctx.config.equitySampleMs : ctx.config.equityIdleSampleMs;
    const last = ctx.market.lastEquitySampleAtMs.get(session.userId);
    const due = last === undefined || ctx.nowMs - last >= periodMs;
    if (due && published >= ctx.config.maxEquitySamplesPerDecision) {
      // Over the bound: sampled at the next beat, which also spreads sessions that fell due together.
      dueAgain(ctx.schedule, 'equity', session.userId, ctx.nowMs);
      continue;
    }
    if (due) {
      publishEquity(ctx, session);
      published += 1;
    }
    dueAgain(ctx.schedule, 'equity', session.userId, (ctx.market.lastEquitySampleAtMs.get(session.userId) ?? ctx.nowMs) + periodMs);
  }
}
