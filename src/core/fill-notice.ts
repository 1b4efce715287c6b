import type { FillNotice } from '../contract/outbound.js';
import type { Price, Qty } from '../model/decimal.js';
import { compareDecimal, isDecimal } from '../model/decimal.js';
import type { Side, TradeReport } from '../model/orders.js';

// The typed notice of one booked fill (the contract's FillNotice), carried on the alert that reports it so a
// reader (the bot's fill groups, the dashboard) reads fields instead of the alert's wording.

export interface BookedFill {
  sessionStartedAtMs: number | null;
  symbol: string;
  side: Side;
  clientOrderId: string;
  purpose: string;
  qty: Qty;
  price: Price;
}

/**
 * The notice of `fill`, with the commission and maker flag of the trade report that came with it. A report of a
 * different quantity (an update missed between two, so the fill spans several trades) is not this fill's: its
 * fee and liquidity are then unknown (null) rather than a part passed off as the whole.
 */
export function fillNotice(fill: BookedFill, trade: TradeReport | undefined): FillNotice {
  const own = trade !== undefined && (trade.lastQty === undefined || (isDecimal(trade.lastQty) && compareDecimal(trade.lastQty, fill.qty) === 0));
  // Field by field, not `{ ...fill, fee, liquidity }`: a spread with keys added takes V8's slow copy, at every fill.
  return {
    sessionStartedAtMs: fill.sessionStartedAtMs,
    symbol: fill.symbol,
    side: fill.side,
    clientOrderId: fill.clientOrderId,
    purpose: fill.purpose,
    qty: fill.qty,
    price: fill.price,
    fee: own && isDecimal(trade.commission) ? { amount: trade.commission, asset: trade.commissionAsset } : null,
    liquidity: own && trade.maker !== undefined ? (trade.maker ? 'maker' : 'taker') : null,
  };
}
