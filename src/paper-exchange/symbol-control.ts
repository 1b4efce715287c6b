// Control API (not a Binance endpoint): POST /sim/v1/symbol changes a symbol's listing at run time, as Binance does
// without notice — its contract status (a delisting goes TRADING → SETTLING → CLOSE), its MIN_NOTIONAL and its
// PERCENT_PRICE multipliers. exchangeInfo shows the change at once and every order from then on is checked against it.
import { formatUnits, parseDecimal } from '../model/decimal.js';
import { apiErrors } from './errors.js';
import type { SymbolMarket } from './price-process.js';
import { percentPriceDecimal } from './symbols.js';

export const symbolControlPath = '/sim/v1/symbol';

/** USDⓈ-M contract statuses (https://developers.binance.com/docs/derivatives/usds-margined-futures/common-definition). */
const contractStatuses = ['PENDING_TRADING', 'TRADING', 'PRE_DELIVERING', 'DELIVERING', 'DELIVERED', 'PRE_SETTLE', 'SETTLING', 'CLOSE'];

function units(params: ReadonlyMap<string, string>, name: string, scale: number): bigint | undefined {
  const text = params.get(name);
  if (text === undefined) return undefined;
  const parsed = parseDecimal(text, scale);
  if (!parsed.ok || parsed.units <= 0n) throw apiErrors.badParamValue(name);
  return parsed.units;
}

/** `symbol` and any of `status`, `minNotional`, `multiplierUp`, `multiplierDown`; answers the symbol's rules now. */
export function applySymbolControl(markets: ReadonlyMap<string, SymbolMarket>, params: ReadonlyMap<string, string>): Record<string, unknown> {
  const market = markets.get((params.get('symbol') ?? '').toUpperCase());
  if (!market) throw apiErrors.badSymbol();
  const rules = market.rules;
  const status = params.get('status');
  if (status !== undefined && !contractStatuses.includes(status)) throw apiErrors.badParamValue('status');
  const notionalScale = rules.priceScale + rules.qtyScale;
  const minNotional = units(params, 'minNotional', notionalScale);
  const up = units(params, 'multiplierUp', percentPriceDecimal);
  const down = units(params, 'multiplierDown', percentPriceDecimal);
  if (status !== undefined) rules.status = status;
  if (minNotional !== undefined) {
    rules.minNotionalUnits = minNotional;
    // A copy: the spec may be shared (the default symbol list), and exchangeInfo prints the notional from it.
    rules.spec = { ...rules.spec, minNotional: formatUnits(minNotional, notionalScale) };
  }
  if (up !== undefined) rules.multiplierUpUnits = up;
  if (down !== undefined) rules.multiplierDownUnits = down;
  return {
    symbol: rules.symbol,
    status: rules.status,
    minNotional: rules.spec.minNotional,
    multiplierUp: formatUnits(rules.multiplierUpUnits, percentPriceDecimal),
    multiplierDown: formatUnits(rules.multiplierDownUnits, percentPriceDecimal),
  };
}
