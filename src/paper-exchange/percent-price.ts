// The PERCENT_PRICE filter against the mark price (the touch mid here), on exact integers. Codes from
// https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code: -4016 a buy above
// mark × multiplierUp, -4024 a sell below mark × multiplierDown, -4131 a MARKET order whose counterparty's best
// price is already beyond that bound.
import { apiErrors } from './errors.js';
import type { BookSide } from './order-book.js';
import type { SymbolMarket } from './price-process.js';
import { percentPriceDecimal } from './symbols.js';

const multiplierOne = 10n ** BigInt(percentPriceDecimal);

/** The furthest price a `side` order may have: a BUY's highest (down to the tick), a SELL's lowest (up to the tick). */
export function percentPriceBound(market: SymbolMarket, side: BookSide): bigint {
  const { tickUnits, multiplierUpUnits, multiplierDownUnits } = market.rules;
  const denominator = 2n * multiplierOne; // markTwice is 2 × mark
  if (side === 'BUY') {
    const cap = (market.markTwice * multiplierUpUnits) / denominator;
    return (cap / tickUnits) * tickUnits;
  }
  const floorExact = market.markTwice * multiplierDownUnits;
  const floor = (floorExact + denominator - 1n) / denominator;
  return ((floor + tickUnits - 1n) / tickUnits) * tickUnits;
}

/** Refuses a LIMIT price beyond the bound on its side. */
export function checkLimitPrice(market: SymbolMarket, side: BookSide, priceUnits: bigint): void {
  const bound = percentPriceBound(market, side);
  if (side === 'BUY' && priceUnits > bound) throw apiErrors.priceAboveMultiplierUp();
  if (side === 'SELL' && priceUnits < bound) throw apiErrors.priceBelowMultiplierDown();
}

/** Refuses a MARKET order whose counterparty's best price is already beyond the bound. */
export function checkMarketCounterparty(market: SymbolMarket, side: BookSide): void {
  const best = market.depth.opposite(side)[0];
  if (!best) return; // nothing to trade with: the order expires unfilled
  const bound = percentPriceBound(market, side);
  if (side === 'BUY' ? best.priceUnits > bound : best.priceUnits < bound) throw apiErrors.marketOrderRejected();
}
