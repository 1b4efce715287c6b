import type { DecisionContext } from './context.js';
import type { Price, Qty, Usd } from '../model/decimal.js';
import { abs, add, div, entryPriceScale, isZero, lte, max, mul, neg, sign, snapToStep, sub, toDecimal, toPrice, toQty, zero } from '../model/decimal.js';
import { indexOf, openOrdersOf } from './state-index.js';
import type { Venue } from './venues.js';
import { quoteOf, venueOfUser } from './venues.js';

// Exposure sums and the limit check are exact decimals: a target exactly at the limit is allowed, one a
// hair above it is cut, whatever float noise the quotes' arithmetic would have had.

/** The price a quantity is valued at for the limit: the higher of bid and ask (quotes arrive as numbers; their shortest form is the exchange's decimal). */
export function limitPrice(quote: { bid: number; ask: number }): Price {
  return toPrice(Math.max(quote.bid, quote.ask));
}

/** Exposure of the user's other symbols: positions plus open entry orders, valued at the touch. */
function otherExposureUsd(ctx: DecisionContext, userId: string, symbol: string): Usd {
  // Nothing held on another symbol (no position that is not zero, no open order: the index's held set), nothing to
  // sum: most users a route reaches hold one symbol at most. (The index holds nothing for a closed session.)
  const session = ctx.durable.sessions.get(userId);
  const held = indexOf(ctx.durable).heldByUser.get(userId);
  if (session !== undefined && session.status !== 'closed' && (held === undefined || (held.size === 1 && held.has(symbol)))) return zero;
  let total: Usd = zero;
  const venue = venueOfUser(ctx.durable, userId);
  for (const [s, p] of Object.entries(session?.positions ?? {})) {
    if (s !== symbol && !isZero(p.qty)) total = add(total, mul(abs(p.qty), valuedAt(ctx, venue, s, p.entryPrice)) as Usd);
  }
  for (const o of openOrdersOf(ctx.durable, userId)) {
    if (o.symbol === symbol || o.purpose !== 'entry') continue;
    const remaining = sub(toQty(o.quantity), toQty(o.filledQty));
    total = add(total, mul(remaining, valuedAt(ctx, venue, o.symbol, o.price === null ? zero : toPrice(o.price))) as Usd);
  }
  return total;
}

/** The limit price of `symbol` on the venue, or `fallback` without a quote. (Not a closure: run once per user routed.) */
function valuedAt(ctx: DecisionContext, venue: Venue, symbol: string, fallback: Price): Price {
  const q = quoteOf(ctx.market.venues, venue, symbol);
  return q ? limitPrice(q) : fallback;
}

/**
 * The session's gross exposure limit (capital × maxLeverage) holds across symbols: a target that would take
 * the total above it is cut to what is left, toward zero on the step grid.
 */
export function capToExposureLimit(
  ctx: DecisionContext,
  userId: string,
  symbol: string,
  target: Qty,
  quote: { bid: number; ask: number },
  filters: { stepSize: string },
): Qty {
  const session = ctx.durable.sessions.get(userId);
  if (!session || isZero(target)) return target;
  const limit = mul(session.capitalUsd, toDecimal(ctx.config.maxLeverage)) as Usd;
  const available = max<Usd>(zero, sub(limit, otherExposureUsd(ctx, userId, symbol)));
  const price = limitPrice(quote);
  if (lte(mul(abs(target), price), available)) return target;
  // Truncated quotient then snapped down: the capped quantity is never worth more than what is available.
  const capped = toQty(snapToStep(div(available, price, entryPriceScale, 'toward-zero'), filters.stepSize, 'down'));
  return sign(target) < 0 ? neg(capped) : capped;
}
