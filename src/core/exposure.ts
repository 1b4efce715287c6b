import type { DecisionContext } from './context.js';
import { snapToStep } from './decimal.js';
import { terminalOrderStatuses } from '../model/orders.js';

/** Exposure of the user's other symbols: positions plus open entry orders, valued at the touch. */
function otherExposureUsd(ctx: DecisionContext, userId: string, symbol: string): number {
  const session = ctx.durable.sessions[userId];
  let total = 0;
  const price = (s: string, fallback: number): number => {
    const q = ctx.market.quotes[s];
    return q ? Math.max(q.bid, q.ask) : fallback;
  };
  for (const [s, p] of Object.entries(session?.positions ?? {})) {
    if (s !== symbol && p.qty !== 0) total += Math.abs(p.qty) * price(s, p.entryPrice);
  }
  for (const o of Object.values(ctx.durable.orders)) {
    if (o.userId !== userId || o.symbol === symbol || o.purpose !== 'entry' || terminalOrderStatuses.has(o.status as never)) continue;
    total += (Number(o.quantity) - Number(o.filledQty)) * price(o.symbol, Number(o.price ?? 0));
  }
  return total;
}

/**
 * The session's gross exposure limit (capital × maxLeverage) holds across symbols: a target that would take
 * the total above it is cut to what is left, toward zero on the step grid.
 */
export function capToExposureLimit(ctx: DecisionContext, userId: string, symbol: string, target: number, quote: { bid: number; ask: number }, filters: { stepSize: string }): number {
  const session = ctx.durable.sessions[userId];
  if (!session || target === 0) return target;
  const available = Math.max(0, session.capitalUsd * ctx.config.maxLeverage - otherExposureUsd(ctx, userId, symbol));
  const price = Math.max(quote.bid, quote.ask);
  if (Math.abs(target) * price <= available) return target;
  const capped = Number(snapToStep(available / price, filters.stepSize, 'down'));
  return target < 0 ? -capped : capped;
}

