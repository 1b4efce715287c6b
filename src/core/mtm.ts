import type { MarketState, Position, Session } from './state.js';

// Conservative mark-to-market: a long can only be sold at the bid, a short only bought back at the ask.
// Valuing at mid or last trade would show profit that a wide or illiquid book cannot pay.

export interface Valuation {
  equityUsd: number;
  unrealizedPnlUsd: number;
  /** Symbols held for which there is no quote: equity is incomplete and the feed rule must act. */
  unpricedSymbols: string[];
  grossExposureUsd: number;
}

export interface PositionValue {
  /** Where the position could be closed now: the bid for a long, the ask for a short. */
  exitPrice: number;
  unrealizedPnlUsd: number;
  notionalUsd: number;
}

/** One position at its conservative exit price; null without a quote. */
export function valuePosition(position: Position, quote: { bid: number; ask: number } | undefined): PositionValue | null {
  if (!quote) return null;
  const exitPrice = position.qty > 0 ? quote.bid : quote.ask;
  return { exitPrice, unrealizedPnlUsd: position.qty * (exitPrice - position.entryPrice), notionalUsd: Math.abs(position.qty) * exitPrice };
}

export function valueSession(session: Session, market: MarketState): Valuation {
  let unrealizedPnlUsd = 0;
  let grossExposureUsd = 0;
  const unpricedSymbols: string[] = [];
  for (const [symbol, position] of Object.entries(session.positions)) {
    if (position.qty === 0) continue;
    const value = valuePosition(position, market.quotes[symbol]);
    if (!value) {
      unpricedSymbols.push(symbol);
      continue;
    }
    unrealizedPnlUsd += value.unrealizedPnlUsd;
    grossExposureUsd += value.notionalUsd;
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
