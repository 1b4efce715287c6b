/** One position as the exchange reports it (one-way mode). */
export interface PositionSnapshot {
  symbol: string;
  positionAmt: string; // signed, one-way mode
  entryPrice: string;
}
