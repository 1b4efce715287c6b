import type { MarketState, Session } from './state.js';

// Conservative mark-to-market: a long can only be sold at the bid, a short only bought back at the ask.
// Valuing at mid or last trade would show profit that a wide or illiquid book cannot pay.

export interface Valuation {
  equityUsd: number;
  unrealizedPnlUsd: number;
  /** Symbols held for which there is no quote: equity is incomplete and the feed rule must act. */
  unpricedSymbols: string[];
  grossExposureUsd: number;
}

export function valueSession(session: Session, market: MarketState): Valuation {
  let unrealizedPnlUsd = 0;
  let grossExposureUsd = 0;
  const unpricedSymbols: string[] = [];
  for (const [symbol, position] of Object.entries(session.positions)) {
    if (position.qty === 0) continue;
    const quote = market.quotes[symbol];
    if (!quote) {
      unpricedSymbols.push(symbol);
      continue;
    }
    const exit = position.qty > 0 ? quote.bid : quote.ask;
    unrealizedPnlUsd += position.qty * (exit - position.entryPrice);
    grossExposureUsd += Math.abs(position.qty) * exit;
  }
  return {
    equityUsd: session.capitalUsd + session.realizedPnlUsd + unrealizedPnlUsd,
    unrealizedPnlUsd,
    unpricedSymbols,
    grossExposureUsd,
  };
}

/** True when equity at conservative marks is at or below the stop level. */
export function stopLossBreached(session: Session, market: MarketState): boolean {
  if (session.stopLossPct === null) return false;
  const { equityUsd, unpricedSymbols } = valueSession(session, market);
  if (unpricedSymbols.length > 0) return false; // the stale-feed rule covers missing quotes
  return equityUsd <= session.capitalUsd * (1 - session.stopLossPct / 100);
}
