// Symbol catalogue and the exact-integer filter rules derived from it.
import { decimalPlaces, mustParseDecimal } from '../model/decimal.js';
import type { SymbolFilters } from '../model/market.js';
import type { SimSymbolSpec } from './types.js';

// Values mirror Binance's real USDⓈ-M filters closely enough that adapter rounding code is exercised.
export const defaultSimSymbols: SimSymbolSpec[] = [
  {
    symbol: 'BTCUSDT',
    startPrice: 60_000,
    tickSize: '0.10',
    stepSize: '0.001',
    minQty: '0.001',
    maxQty: '1000',
    minNotional: '100',
    spreadTicks: 1,
    volatilityBpsPerStep: 0.5,
  },
  {
    symbol: 'ETHUSDT',
    startPrice: 3_000,
    tickSize: '0.01',
    stepSize: '0.001',
    minQty: '0.001',
    maxQty: '10000',
    minNotional: '20',
    spreadTicks: 1,
    volatilityBpsPerStep: 0.7,
  },
  {
    symbol: 'SOLUSDT',
    startPrice: 150,
    tickSize: '0.0100',
    stepSize: '0.01',
    minQty: '0.01',
    maxQty: '1000000',
    minNotional: '5',
    spreadTicks: 1,
    volatilityBpsPerStep: 1,
  },
];

/** A symbol's filters as integers: prices at 10^-priceScale, quantities at 10^-qtyScale, notional at 10^-(both). */
export interface SymbolRules {
  spec: SimSymbolSpec;
  symbol: string;
  baseAsset: string;
  priceScale: number;
  qtyScale: number;
  tickUnits: bigint;
  stepUnits: bigint;
  minPriceUnits: bigint;
  maxPriceUnits: bigint;
  minQtyUnits: bigint;
  maxQtyUnits: bigint;
  minNotionalUnits: bigint;
  /** MARKET_LOT_SIZE at qtyScale: what a MARKET order's quantity must also meet. */
  marketLot: { minQtyUnits: bigint; maxQtyUnits: bigint; stepUnits: bigint };
  /** PERCENT_PRICE multipliers at percentPriceDecimal decimals (1.0500 -> 10500n). */
  multiplierUpUnits: bigint;
  multiplierDownUnits: bigint;
  /** Contract status as exchangeInfo shows it; changed at run time by the symbol control (symbol-control.ts). */
  status: string;
}

/**
 * PERCENT_PRICE as USDⓈ-M exchangeInfo publishes it (multiplierDecimal 4), BUY: price <= markPrice × multiplierUp,
 * SELL: price >= markPrice × multiplierDown
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/common-definition). One bound per side:
 * a buy far below the market is accepted.
 */
export const percentPriceDecimal = 4;
const defaultMultiplierUp = '1.0500';
const defaultMultiplierDown = '0.9500';

// Binance's PRICE_FILTER has a maxPrice; we put it far enough away that price gaps never hit it.
const maxPriceMultiple = 1000;

export function deriveRules(spec: SimSymbolSpec): SymbolRules {
  const priceScale = decimalPlaces(spec.tickSize);
  const qtyScale = decimalPlaces(spec.stepSize);
  const tickUnits = mustParseDecimal(spec.tickSize, priceScale);
  const stepUnits = mustParseDecimal(spec.stepSize, qtyScale);
  if (tickUnits <= 0n || stepUnits <= 0n) throw new Error(`${spec.symbol}: tick and step must be positive`);
  const tickValue = Number(spec.tickSize);
  const maxTicks = BigInt(Math.max(1, Math.round((spec.startPrice * maxPriceMultiple) / tickValue)));
  // A published bound of 0 is a bound that is off (PRICE_FILTER: "disabled on minPrice == 0", as Binance's filters page
  // defines it, https://developers.binance.com/docs/binance-spot-api-docs/filters): the defaults stand in for it.
  const published = (bound: string | undefined): bigint | null => {
    const units = bound === undefined ? 0n : mustParseDecimal(bound, priceScale);
    return units > 0n ? units : null;
  };
  return {
    spec,
    symbol: spec.symbol,
    baseAsset: spec.symbol.endsWith('USDT') ? spec.symbol.slice(0, -4) : spec.symbol,
    priceScale,
    qtyScale,
    tickUnits,
    stepUnits,
    minPriceUnits: published(spec.minPrice) ?? tickUnits,
    maxPriceUnits: published(spec.maxPrice) ?? maxTicks * tickUnits,
    minQtyUnits: mustParseDecimal(spec.minQty, qtyScale),
    maxQtyUnits: mustParseDecimal(spec.maxQty, qtyScale),
    minNotionalUnits: mustParseDecimal(spec.minNotional, priceScale + qtyScale),
    marketLot: marketLotOf(spec, qtyScale),
    multiplierUpUnits: mustParseDecimal(spec.multiplierUp ?? defaultMultiplierUp, percentPriceDecimal),
    multiplierDownUnits: mustParseDecimal(spec.multiplierDown ?? defaultMultiplierDown, percentPriceDecimal),
    status: 'TRADING',
  };
}

/** MARKET_LOT_SIZE in units of the LOT_SIZE step's scale (a market step finer than LOT_SIZE's could never be met). */
function marketLotOf(spec: SimSymbolSpec, qtyScale: number): SymbolRules['marketLot'] {
  const stepUnits = mustParseDecimal(spec.marketStepSize ?? spec.stepSize, qtyScale);
  if (stepUnits <= 0n) throw new Error(`${spec.symbol}: market step must be positive`);
  return {
    minQtyUnits: mustParseDecimal(spec.marketMinQty ?? spec.minQty, qtyScale),
    maxQtyUnits: mustParseDecimal(spec.marketMaxQty ?? spec.maxQty, qtyScale),
    stepUnits,
  };
}

/**
 * A symbol as Binance's exchangeInfo describes it (its filters, as the adapter reads them: toSymbolFilters) for a paper
 * exchange whose prices come from elsewhere (a backtest's quotes): the same grid, lot, notional and PERCENT_PRICE
 * rules. The price walk's settings are placeholders the first quote replaces: a start inside PRICE_FILTER's bounds
 * (their geometric mean, or a thousand ticks when a bound is off), a one-tick spread, no volatility. The symbol trades
 * whatever its status was when the file was saved: a backtest replays a time it traded.
 */
export function specOfFilters(filters: SymbolFilters): SimSymbolSpec {
  const min = Number(filters.minPrice);
  const max = Number(filters.maxPrice);
  return {
    symbol: filters.symbol,
    startPrice: min > 0 && max > min ? Math.sqrt(min * max) : Number(filters.tickSize) * 1_000,
    tickSize: filters.tickSize,
    stepSize: filters.stepSize,
    minQty: filters.minQty,
    maxQty: filters.maxQty,
    minNotional: filters.minNotional,
    spreadTicks: 1,
    volatilityBpsPerStep: 0,
    marketMinQty: filters.marketMinQty,
    marketMaxQty: filters.marketMaxQty,
    marketStepSize: filters.marketStepSize,
    multiplierUp: filters.multiplierUp,
    multiplierDown: filters.multiplierDown,
    minPrice: filters.minPrice,
    maxPrice: filters.maxPrice,
  };
}
