import type { Price, Usd } from '../model/decimal.js';
import { abs, add, isZero, lte, movePoint, mul, sign, sub, toDecimal, toPrice, zero } from '../model/decimal.js';
import type { MarketState, Position, Session } from './state.js';
import { quoteOf } from './venues.js';

// Conservative mark-to-market: a long can only be sold at the bid, a short only bought back at the ask.
// Valuing at mid or last trade would show profit that a wide or illiquid book cannot pay.
// Exact: quotes arrive as numbers whose shortest form is the exchange's decimal, read here as a Price; equity,
// PnL and exposure are exact decimal sums, so the stop-loss comparison has no float edge.

export interface Valuation {
  equityUsd: Usd;
  unrealizedPnlUsd: Usd;
  /** Symbols held for which there is no quote: equity is incomplete and the feed rule must act. */
  unpricedSymbols: string[];
  grossExposureUsd: Usd;
}

export interface PositionValue {
  /** Where the position could be closed now: the bid for a long, the ask for a short. */
  exitPrice: Price;
  unrealizedPnlUsd: Usd;
  notionalUsd: Usd;
}

/** One position at its conservative exit price; null without a quote. */
export function valuePosition(position: Position, quote: { bid: number; ask: number } | undefined): PositionValue | null {
  if (!quote) return null;
  const exitPrice = toPrice(sign(position.qty) > 0 ? quote.bid : quote.ask);
  return {
    exitPrice,
    unrealizedPnlUsd: mul(position.qty, sub<Price>(exitPrice, position.entryPrice)) as Usd,
    notionalUsd: mul(abs(position.qty), exitPrice) as Usd,
  };
}

/**
 * What the session has booked, signed: realized PnL − commission + funding (received positive). Equity is
 * capital + this + unrealized at bid/ask; the stop-loss and the protective stops' loss budget use it.
 */
export function bookedPnlUsd(session: Session): Usd {
  return add(sub(session.realizedPnlUsd, session.feesUsd), session.fundingUsd);
}

export function valueSession(session: Session, market: MarketState): Valuation {
  let unrealizedPnlUsd: Usd = zero;
  let grossExposureUsd: Usd = zero;
  const unpricedSymbols: string[] = [];
  for (const [symbol, position] of Object.entries(session.positions)) {
    if (isZero(position.qty)) continue;
    const value = valuePosition(position, quoteOf(market.venues, session.mode, symbol));
    if (!value) {
      unpricedSymbols.push(symbol);
      continue;
    }
    unrealizedPnlUsd = add(unrealizedPnlUsd, value.unrealizedPnlUsd);
    grossExposureUsd = add(grossExposureUsd, value.notionalUsd);
  }
  return {
    equityUsd: add(add(session.capitalUsd, bookedPnlUsd(session)), unrealizedPnlUsd),
    unrealizedPnlUsd,
    unpricedSymbols,
    grossExposureUsd,
  };
}

/** The equity at or below which the stop-loss fires: capital × (1 − pct/100), exact. */
export function stopLossLevelUsd(capitalUsd: Usd, stopLossPct: number): Usd {
  return mul(capitalUsd, sub(toDecimal(1), movePoint(toDecimal(stopLossPct), -2))) as Usd;
}

/** True when equity at conservative marks is at or below the stop level. */
export function stopLossBreached(session: Session, market: MarketState): boolean {
  if (session.stopLossPct === null) return false;
  const { equityUsd, unpricedSymbols } = valueSession(session, market);
  if (unpricedSymbols.length > 0) return false; // the stale-feed rule covers missing quotes
  return lte(equityUsd, stopLossLevelUsd(session.capitalUsd, session.stopLossPct));
}
