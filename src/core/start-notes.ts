import type { DecisionContext } from './context.js';
import type { Mode } from './state.js';
import { filtersOf, quoteOf } from './venues.js';
import type { Usd } from '../model/decimal.js';
import { toNumber } from '../model/decimal.js';

// What a session's start answer warns of. A capital whose whole budget (capital × maxLeverage) is below a symbol's
// smallest order can never hold that symbol: every signal for it is skipped (route-signals.ts says why in the route's
// answer, to the signal source, and once in a signal_skipped alert, to the user). The user hears it first here, when
// it can still choose another capital. Display only: the figures are numbers, the orders are sized and refused exactly.

/** The smallest order of a symbol, in USD at the ask: its minimum notional, or one step or its minimum quantity if more. */
function smallestOrderUsd(minNotional: string, stepSize: string, minQty: string, ask: number | null): number {
  const byQty = ask === null ? 0 : Math.max(Number(stepSize), Number(minQty)) * ask;
  return Math.max(Number(minNotional), byQty);
}

/** One line per traded symbol the session's budget cannot buy the smallest order of (none when it can buy each). */
export function smallCapitalNotes(ctx: DecisionContext, mode: Mode, capitalUsd: Usd): string[] {
  const budgetUsd = toNumber(capitalUsd) * ctx.config.maxLeverage;
  const notes: string[] = [];
  for (const symbol of ctx.config.symbols) {
    const filters = filtersOf(ctx.market.venues, mode, symbol);
    if (!filters) continue;
    const ask = quoteOf(ctx.market.venues, mode, symbol)?.ask ?? null;
    const smallest = smallestOrderUsd(filters.minNotional, filters.stepSize, filters.minQty, ask);
    if (budgetUsd >= smallest) continue;
    const leverage = ctx.config.maxLeverage === 1 ? '' : ` × ${ctx.config.maxLeverage} leverage`;
    notes.push(
      `${symbol}: its smallest order is about ${smallest.toFixed(2)} USD (minimum notional ${filters.minNotional}); ${capitalUsd} USD${leverage} cannot buy it, so signals for ${symbol} will be skipped`,
    );
  }
  return notes;
}
