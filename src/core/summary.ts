import { z } from 'zod';
import type { DecisionContext } from './context.js';
import { dictWith } from './dict.js';
import { valuePosition, valueSession } from './mtm.js';
import { isTerminal } from './orders.js';
import type { Session } from './state.js';

// The read view of a session, shared by replies (status, session.start) and the periodic equity samples.
// Its schema is the contract with every reader in another process (dashboard, bot): they parse what they
// read from the outbound stream with it; unknown fields are kept so readers can lag behind the engine.

const finite = z.number().finite();

export const openOrderViewSchema = z.looseObject({
  clientOrderId: z.string(),
  symbol: z.string(),
  side: z.string(),
  quantity: z.union([z.string(), finite]),
  price: z.union([z.string(), finite]).nullable().optional(),
  status: z.string(),
  purpose: z.string(),
});

export const sessionSummarySchema = z.looseObject({
  userId: z.string(),
  mode: z.string(),
  status: z.enum(['active', 'stopping', 'closed']),
  capitalUsd: finite,
  stopLossPct: finite.nullable(),
  horizonDeadline: z.string().nullable(),
  paused: z.boolean(),
  killSwitch: z.looseObject({ engaged: z.boolean(), reason: z.string().nullable() }),
  /** Held positions; exit price, notional and unrealized PnL at bid/ask are null without a quote. */
  positions: z.record(
    z.string(),
    z.looseObject({ qty: finite, entryPrice: finite, exitPrice: finite.nullable().optional(), notionalUsd: finite.nullable().optional(), unrealizedPnlUsd: finite.nullable().optional() }),
  ),
  realizedPnlUsd: finite,
  equityUsd: finite,
  unrealizedPnlUsd: finite,
  grossExposureUsd: finite,
  unpricedSymbols: z.array(z.string()),
  openOrders: z.array(openOrderViewSchema),
});

export type SessionSummary = z.infer<typeof sessionSummarySchema>;

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
