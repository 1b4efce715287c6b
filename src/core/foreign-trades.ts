import type { Qty, Usd } from '../model/decimal.js';
import { abs, add, isDecimal, isZero, sign, toPrice, toQty, toUsd, zero } from '../model/decimal.js';
import type { AccountTrade } from '../model/trades.js';
import type { DecisionContext } from './context.js';
import { bookedTradeKey, exchangeFillKey, maxBookedTradeIdsKept } from './events.js';
import { bookedAsset } from '../model/market.js';
import { isTerminal } from './orders.js';
import type { Session } from './state.js';
import { someOrderOf } from './state-index.js';
import { copyMarket } from './record-copies.js';
import { hasBookedKey } from './booked-trade-keys.js';

// Trades of orders the engine did not place (a liquidation, an ADL close, a fired protective stop, a manual order)
// whose user-stream push never came: a crash before the push was committed, a deaf stream. Reconcile adopts the
// position they moved but knows nothing of their money, so their realized PnL and commission are read from the trade
// list (GET /fapi/v1/userTrades, the reads trade-backstop.ts asks for) and booked once per trade id, the id the
// push's exchange_fill carries too (exchange-fills.ts): whichever tells first books the money, the other none.

/**
 * Books the money of every trade in `trades` (one symbol's, oldest first) that is not an order of ours and not booked
 * yet, to the session of `userId`. `ours`: the exchange ids of the orders the engine holds on that symbol.
 */
export function bookForeignTrades(ctx: DecisionContext, userId: string, symbol: string, trades: readonly AccountTrade[], ours: ReadonlySet<string>): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session || !trades.some((t) => !ours.has(t.exchangeOrderId))) return;
  if (mayHideOurTrade(ctx, userId, symbol)) {
    // An order of ours whose exchange id is not known yet may be any of these: wait for it, then read again.
    ctx.market = copyMarket(ctx.market, { deferredTradeReads: ctx.market.deferredTradeReads.set(deferKey(userId, symbol), true as const) });
    return;
  }
  const oldestRemembered = oldestRememberedTradeId(session, symbol);
  const forgottenBeforeMs = ordersForgottenBeforeMs(ctx);
  // Each order's filled quantity after each of its trades: the key a push booked before trade ids were kept.
  const cumByOrder = new Map<string, Qty>();
  for (const trade of trades) {
    if (ours.has(trade.exchangeOrderId) || trade.symbol !== symbol || ![trade.qty, trade.price, trade.realizedPnl, trade.commission].every(isDecimal)) continue;
    const qty = toQty(trade.qty);
    const cumQty = add(cumByOrder.get(trade.exchangeOrderId) ?? zero, qty);
    cumByOrder.set(trade.exchangeOrderId, cumQty);
    const current = ctx.durable.sessions.get(userId) ?? session;
    if (trade.timeMs < current.startedAtMs || trade.timeMs < forgottenBeforeMs || sign(qty) <= 0) continue;
    if (hasBookedKey(current.bookedTradeIds, bookedTradeKey(symbol, trade.tradeId))) continue;
    if (current.exchangeFillKeys.includes(exchangeFillKey(trade.exchangeOrderId, cumQty))) continue;
    if (oldestRemembered !== null && BigInt(trade.tradeId) < oldestRemembered) continue;
    bookForeignTrade(ctx, userId, trade);
  }
}

function bookForeignTrade(ctx: DecisionContext, userId: string, trade: AccountTrade): void {
  const usdtFee = trade.commissionAsset === bookedAsset;
  // The trade list's example prints the commission negative, the push positive: what was charged is its size.
  const feeUsd: Usd = usdtFee ? abs(toUsd(trade.commission)) : zero;
  const realizedPnlUsd = toUsd(trade.realizedPnl);
  ctx.emit({
    type: 'exchange_trade',
    userId,
    symbol: trade.symbol,
    tradeId: trade.tradeId,
    exchangeOrderId: trade.exchangeOrderId,
    side: trade.side,
    qty: toQty(trade.qty),
    price: toPrice(trade.price),
    realizedPnlUsd,
    feeUsd,
    atMs: ctx.nowMs,
  });
  // A trade that realized PnL closed something: which order made it decides whether the exchange forced it (trade-origin.ts).
  if (!isZero(realizedPnlUsd)) {
    ctx.effect({
      kind: 'read_trade_origin',
      userId,
      lane: 'normal',
      symbol: trade.symbol,
      exchangeOrderId: trade.exchangeOrderId,
      realizedPnlUsd,
    });
  }
  const feeText = usdtFee ? `fee ${feeUsd} ${bookedAsset}` : `fee ${trade.commission} ${trade.commissionAsset} not booked (only ${bookedAsset} is)`;
  ctx.alert(
    userId,
    'reconcile',
    `a trade the engine did not place, whose push never came, was read from the trade list: ${trade.symbol} ${trade.side} ${trade.qty} at ${trade.price} (exchange order ${trade.exchangeOrderId}), realized ${realizedPnlUsd} ${bookedAsset}, ${feeText}; booked to the session`,
  );
}

/**
 * Whether an order of ours on `symbol` has no exchange id yet but may have traded (sent, unanswered, or filled): a
 * trade of it would look like a stranger's.
 */
function mayHideOurTrade(ctx: DecisionContext, userId: string, symbol: string): boolean {
  return someOrderOf(ctx.durable, userId, symbol, (o) => o.exchangeOrderId === null && (!isTerminal(o) || !isZero(toQty(o.filledQty))));
}

/**
 * Once the session remembers as many booked trades as it keeps, a trade of `symbol` older than the oldest it still
 * remembers may be one it booked and forgot: it is older than any gap a read covers (trade-backstop.ts), so skipped.
 */
function oldestRememberedTradeId(session: Session, symbol: string): bigint | null {
  const booked = session.bookedTradeIds ?? [];
  if (booked.length < maxBookedTradeIdsKept) return null;
  let oldest: bigint | null = null;
  for (const key of booked) {
    if (!key.startsWith(`${symbol}:`)) continue;
    const id = BigInt(key.slice(symbol.length + 1));
    if (oldest === null || id < oldest) oldest = id;
  }
  return oldest;
}

/**
 * Once terminal orders are pruned (maxTerminalOrdersKept), a trade older than the oldest order still held may be one
 * of ours the engine forgot (its own fill realized its PnL already): only younger trades are taken for strangers'.
 */
function ordersForgottenBeforeMs(ctx: DecisionContext): number {
  const { terminalOrderIds, orders } = ctx.durable;
  const oldestId = terminalOrderIds[0];
  if (terminalOrderIds.length < ctx.config.maxTerminalOrdersKept || oldestId === undefined) return -Infinity;
  return orders.get(oldestId)?.createdAtMs ?? -Infinity;
}

function deferKey(userId: string, symbol: string): string {
  return `${userId}:${symbol}`;
}

/** After an order of ours changed: a trade list read set aside for it is asked for again once nothing hides in it. */
export function retryDeferredTradeRead(ctx: DecisionContext, userId: string, symbol: string, requestTrades: () => void): void {
  const key = deferKey(userId, symbol);
  if (ctx.market.deferredTradeReads.get(key) !== true || mayHideOurTrade(ctx, userId, symbol)) return;
  ctx.market = copyMarket(ctx.market, { deferredTradeReads: ctx.market.deferredTradeReads.delete([key]) });
  requestTrades();
}
