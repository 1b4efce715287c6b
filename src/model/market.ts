// What the engine knows of a symbol's market: its trading filters and its best bid/ask.

export interface SymbolFilters {
  symbol: string;
  tickSize: string; // PRICE_FILTER.tickSize
  minPrice: string;
  maxPrice: string;
  stepSize: string; // LOT_SIZE.stepSize
  minQty: string;
  maxQty: string;
  marketStepSize: string; // MARKET_LOT_SIZE.stepSize
  marketMaxQty: string;
  minNotional: string; // MIN_NOTIONAL.notional
}

/**
 * The best bid/ask of one symbol (the bookTicker stream). Numbers, as the adapters parse them from Binance's
 * decimal strings; the core reads each as the exact decimal of its shortest form (toPrice), which is that
 * string for any price with up to 15 significant digits.
 */
export interface BookTicker {
  symbol: string;
  bid: number;
  ask: number;
  time: number; // exchange event time, ms
}
