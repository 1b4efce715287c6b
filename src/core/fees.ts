import type { FundingPayment } from '../model/positions.js';
import type { OrderSnapshot } from '../model/orders.js';
import type { Qty } from '../model/decimal.js';
import { isDecimal, isZero, lte, toNumber, toQty, toUsd, zero } from '../model/decimal.js';
import type { DecisionContext } from './context.js';
import type { Order } from './state.js';
import { bookedTradeKey } from './events.js';
import { bookedAsset } from '../model/market.js';
import { entriesPausedNote, pauseEntries } from './account-recheck.js';
import { hasBookedKey } from './booked-trade-keys.js';

// Commission and funding as the exchange books them, into the session's equity (see mtm.ts). Amounts are the
// exchange's decimal strings, booked exactly. Only USDT is booked: sessions are valued in USDT, and converting
// another asset (BNB fee discount, multi-asset mode) needs a price the engine does not have. So a session does not
// start on an account with either on (preflight.ts accountModeProblem), and a restart's recheck finds one switched on
// since. A commission in another asset that still comes (the switch turned on mid-run) is not booked: the session's
// PnL and stop-loss then leave it out, so its new entries are paused, as the recheck pauses them (account-recheck.ts),
// and the user is told what to switch off.

/**
 * Books the commission of the trade an order update reports, once: by its trade id when the push carries one
 * (the trade list books by the same id: trade-backstop.ts), else by the order's cumulative quantity (a trade at or
 * below what is already booked for the order, a repeat or an older update arriving late, is skipped).
 */
export function bookCommission(ctx: DecisionContext, order: Order, snapshot: OrderSnapshot): void {
  const trade = snapshot.trade;
  if (!trade || !isDecimal(trade.cumQty) || !isDecimal(trade.commission)) return;
  const cumQty = toQty(trade.cumQty);
  if (trade.tradeId !== undefined ? isTradeBooked(ctx, order, trade.tradeId) : order.feeBookedQty !== undefined && lte(cumQty, toQty(order.feeBookedQty)))
    return;
  chargeCommission(ctx, order, { ...trade, cumQty });
}

/** Whether the commission of this trade (by its exchange id) is booked to the order's user's session. */
export function isTradeBooked(ctx: DecisionContext, order: Order, tradeId: string): boolean {
  return hasBookedKey(ctx.durable.sessions.get(order.userId)?.bookedTradeIds, bookedTradeKey(order.symbol, tradeId));
}

/**
 * Books one trade's commission to the session the order belongs to. `cumQty` is the legacy key (the order's filled
 * quantity after the trade); with a `tradeId` the trade id is the key instead.
 */
export function chargeCommission(
  ctx: DecisionContext,
  order: Order,
  trade: { commission: string; commissionAsset: string; realizedProfit: string; cumQty: Qty; tradeId?: string },
): void {
  const session = ctx.durable.sessions.get(order.userId);
  if (!session || order.createdAtMs < session.startedAtMs) {
    // The trade's push came after its session had closed (it learnt the fill by a query): the fee is that
    // session's, not the running one's, so it is reported rather than charged to the wrong session.
    ctx.alert(
      order.userId,
      'fee',
      `commission ${trade.commission} ${trade.commissionAsset} on ${order.clientOrderId} arrived after its session closed; not booked`,
    );
    return;
  }
  if (trade.commissionAsset !== bookedAsset) {
    const pausing = pauseEntries(ctx, session);
    ctx.alert(
      order.userId,
      'fee',
      `commission ${trade.commission} ${trade.commissionAsset} on ${order.clientOrderId} is not booked: only ${bookedAsset} is, so the session's PnL and stop-loss leave it out.` +
        (pausing ? ` ${entriesPausedNote}` : '') +
        ` If the BNB fee discount is on, switch it off (POST /fapi/v1/feeBurn feeBurn=false), then /resume (or /stop to close the session).`,
    );
    return;
  }
  ctx.emit({
    type: 'fee',
    userId: order.userId,
    clientOrderId: order.clientOrderId,
    symbol: order.symbol,
    feeUsd: toUsd(trade.commission),
    cumQty: trade.cumQty,
    exchangeRealizedPnlUsd: isDecimal(trade.realizedProfit) ? toUsd(trade.realizedProfit) : zero,
    ...(trade.tradeId !== undefined ? { tradeId: trade.tradeId } : {}),
    atMs: ctx.nowMs,
  });
}

/**
 * Books a funding payment to the user's session, once per exchange id. Payments from before the session started
 * belong to an earlier one (a stream replay after a restart). A payment may arrive after its session closed
 * (pushes are late and out of order): it is still that session's money and is booked to it.
 */
export function bookFunding(ctx: DecisionContext, userId: string, payment: FundingPayment): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session) return;
  if (payment.exchangeTimeMs < session.startedAtMs || session.fundingIds.includes(payment.exchangeId)) return;
  if (!isDecimal(payment.amount) || isZero(toUsd(payment.amount))) return;
  if (payment.asset !== bookedAsset) {
    ctx.alert(userId, 'funding', `funding ${payment.amount} ${payment.asset} is not booked: only ${bookedAsset} is`);
    return;
  }
  const amountUsd = toUsd(payment.amount);
  ctx.emit({
    type: 'funding',
    userId,
    symbol: payment.symbol,
    amountUsd,
    exchangeId: payment.exchangeId,
    exchangeTimeMs: payment.exchangeTimeMs,
    atMs: ctx.nowMs,
  });
  ctx.alert(
    userId,
    'funding',
    `funding ${toNumber(amountUsd) >= 0 ? 'received' : 'paid'}: ${amountUsd} ${bookedAsset}${payment.symbol ? ` (${payment.symbol})` : ''}`,
  );
}
