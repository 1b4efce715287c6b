import type { DecisionContext } from './context.js';
import { dictWith } from './dict.js';
import { valuePosition, valueSession } from './mtm.js';
import { isTerminal } from './orders.js';
import type { Session } from './state.js';
import type { SessionSummary } from '../contract/session-summary.js';

/** What a user, a dashboard or an operator sees of a session: its settings, positions and orders, valued at bid/ask. */
export function sessionSummary(ctx: DecisionContext, session: Session): SessionSummary {
  const valuation = valueSession(session, ctx.market);
  const openOrders = Object.values(ctx.durable.orders)
    .filter((o) => o.userId === session.userId && !isTerminal(o))
    .map((o) => ({ clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, quantity: o.quantity, price: o.price, status: o.status, purpose: o.purpose }));
  return {
    userId: session.userId,
    mode: session.mode,
    status: session.status,
    capitalUsd: session.capitalUsd,
    stopLossPct: session.stopLossPct,
    horizonDeadline: session.horizonDeadlineMs === null ? null : new Date(session.horizonDeadlineMs).toISOString(),
    paused: session.paused,
    killSwitch: { ...session.killSwitch },
    // Each held position with where it could be closed now (bid for longs, ask for shorts); null = no quote.
    positions: Object.fromEntries(
      Object.entries(session.positions)
        .filter(([, p]) => p.qty !== 0)
        .map(([symbol, p]) => [symbol, { ...p, ...(valuePosition(p, ctx.market.quotes[symbol]) ?? { exitPrice: null, unrealizedPnlUsd: null, notionalUsd: null }) }]),
    ),
    realizedPnlUsd: session.realizedPnlUsd,
    ...valuation,
    openOrders,
  };
}

/** Publishes one equity sample of the session (an outbound event) and notes when. */
export function publishEquity(ctx: DecisionContext, session: Session): void {
  ctx.outbound.push({ type: 'equity', userId: session.userId, summary: sessionSummary(ctx, session), atMs: ctx.nowMs });
  ctx.market = { ...ctx.market, lastEquitySampleAtMs: dictWith(ctx.market.lastEquitySampleAtMs, session.userId, ctx.nowMs) };
}

/**
 * Every open session's equity, at most once per equitySampleMs while it holds a position (wall clock, so a
 * silent feed still shows), and once per equityIdleSampleMs while flat: a flat session's equity does not
 * move, and the outbound stream (bounded) should hold alerts, not repeats.
 */
export function sampleEquity(ctx: DecisionContext): void {
  for (const session of Object.values(ctx.durable.sessions)) {
    if (session.status === 'closed') continue;
    const holding = Object.values(session.positions).some((p) => p.qty !== 0);
    const periodMs = holding ? ctx.config.equitySampleMs : ctx.config.equityIdleSampleMs;
    const last = ctx.market.lastEquitySampleAtMs[session.userId];
    if (last === undefined || ctx.nowMs - last >= periodMs) publishEquity(ctx, session);
  }
}
