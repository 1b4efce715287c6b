// Control API (not a Binance endpoint): POST /sim/v1/touch?symbol=BTCUSDT&bid=86944.4&ask=86944.5[&time=MS] sets a
// symbol's touch exactly, as a replay of recorded quotes drives it (test/backtest/parity.test.ts replays the
// backtest's quotes through the live path this way). The price walk pauses, so the touch holds until the next one;
// the depth is redrawn around it, resting orders it trades through fill, and the book is published, as a step does.
import { formatUnits, parseDecimal } from '../model/decimal.js';
import { apiErrors } from './errors.js';
import type { SymbolMarket } from './price-process.js';

export const touchControlPath = '/sim/v1/touch';

/** A touch checked against the symbol's tick grid, in price units, with the book time it carries (bookTicker `T`). */
export interface TouchUnits {
  market: SymbolMarket;
  bidUnits: bigint;
  askUnits: bigint;
  timeMs: number;
}

/** Reads a touch given as decimal strings: on the symbol's tick grid, bid above zero and below ask. Throws -1130 otherwise. */
export function touchUnitsOf(markets: ReadonlyMap<string, SymbolMarket>, symbol: string, bid: string, ask: string, timeMs: number): TouchUnits {
  const market = markets.get(symbol.toUpperCase());
  if (!market) throw apiErrors.badSymbol();
  const { priceScale, tickUnits } = market.rules;
  const units = (name: string, text: string): bigint => {
    const parsed = parseDecimal(text, priceScale);
    if (!parsed.ok || parsed.units <= 0n || parsed.units % tickUnits !== 0n) throw apiErrors.badParamValue(name);
    return parsed.units;
  };
  const bidUnits = units('bid', bid);
  const askUnits = units('ask', ask);
  if (askUnits <= bidUnits) throw apiErrors.badParamValue('ask');
  if (!Number.isSafeInteger(timeMs) || timeMs <= 0) throw apiErrors.badParamValue('time');
  return { market, bidUnits, askUnits, timeMs };
}

/** `symbol`, `bid`, `ask`, optional `time` (ms, the book's time; default now); answers the touch as set. */
export function applyTouchControl(
  markets: ReadonlyMap<string, SymbolMarket>,
  params: ReadonlyMap<string, string>,
  nowMs: number,
  setTouch: (touch: TouchUnits) => void,
): Record<string, unknown> {
  const time = params.get('time');
  const touch = touchUnitsOf(markets, params.get('symbol') ?? '', params.get('bid') ?? '', params.get('ask') ?? '', time === undefined ? nowMs : Number(time));
  setTouch(touch);
  const { rules, top } = touch.market;
  return {
    symbol: rules.symbol,
    bid: formatUnits(top.bidUnits, rules.priceScale),
    ask: formatUnits(top.askUnits, rules.priceScale),
    time: top.timeMs,
    updateId: top.updateId,
  };
}
