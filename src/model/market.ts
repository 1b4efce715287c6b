// What the engine knows of a symbol's market: its trading filters and its best bid/ask.

/**
 * The one asset the engine books money in: fees, funding and PnL (core/fees.ts), and the margin asset of every symbol
 * it trades (the adapter refuses another, exchange/binance/mapping.ts toSymbolFilters). Anything else is alerted, not
 * guessed at: converting needs a price the engine does not have.
 */
export const bookedAsset = 'USDT';

/**
 * A symbol's trading rules as USDⓈ-M exchangeInfo publishes them
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information,
 * filters as in https://developers.binance.com/docs/derivatives/usds-margined-futures/common-definition).
 */
export interface SymbolFilters {
  symbol: string;
  /**
   * Contract status (common-definition: PENDING_TRADING, TRADING, PRE_DELIVERING, DELIVERING, DELIVERED,
   * PRE_SETTLE, SETTLING, CLOSE). Only TRADING takes new positions: otherwise an opening order is refused with
   * -4140 "Invalid symbol status for opening position", and on a CLOSE symbol every order with -4141 "Symbol is
   * closed" (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code).
   */
  status: string;
  tickSize: string; // PRICE_FILTER.tickSize
  minPrice: string;
  maxPrice: string;
  stepSize: string; // LOT_SIZE.stepSize (LIMIT orders)
  minQty: string;
  maxQty: string;
  marketStepSize: string; // MARKET_LOT_SIZE.stepSize (MARKET orders)
  marketMinQty: string;
  marketMaxQty: string;
  minNotional: string; // MIN_NOTIONAL.notional
  /**
   * PERCENT_PRICE, one bound per side against the mark price: a BUY's price at most mark × multiplierUp (else
   * -4016), a SELL's at least mark × multiplierDown (else -4024); a MARKET order whose counterparty's best price
   * is beyond the bound is refused -4131. Decimal strings as published (multiplierDecimal places).
   */
  multiplierUp: string;
  multiplierDown: string;
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
  time: number; // exchange time of the book state (T, else E), ms; 0 when the stream carries none
}
