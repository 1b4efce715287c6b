// Symbol catalogue and the exact-integer filter rules derived from it.
import { decimalPlaces, mustParseDecimal } from '../model/decimal.js';
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
  return {
    spec,
    symbol: spec.symbol,
    baseAsset: spec.symbol.endsWith('USDT') ? spec.symbol.slice(0, -4) : spec.symbol,
    priceScale,
    qtyScale,
    tickUnits,
    stepUnits,
    minPriceUnits: tickUnits,
    maxPriceUnits: maxTicks * tickUnits,
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
