import type { Qty } from '../model/decimal.js';
import { abs, add, isDecimal, isZero, lte, toQty, zero } from '../model/decimal.js';
import type { AccountTrade } from '../model/trades.js';
import type { DecisionContext } from './context.js';
import { chargeCommission, isTradeBooked } from './fees.js';
import type { Order } from './state.js';
import { ordersOf } from './state-index.js';
import { bookForeignTrades } from './foreign-trades.js';
import { noteTradeReadAnswered, noteTradeReadAsked } from './trade-reads-owed.js';

// The backstop for commissions whose push never arrived: a fill learnt by a query answer, by reconcile or at
// boot, or while the user stream was deaf, has no trade (REST order answers carry no commission). The engine
// then reads the account's trade list of that symbol (GET /fapi/v1/userTrades) and books every trade of its own
// orders whose commission is not booked yet. Push and trade list share one identity, the exchange's trade id
// (push `t`, list `id`), kept per session (Session.bookedTradeIds), so neither books a trade the other did.

/**
 * How far back a read reaches: the session's start, but no more than the trade list answers for one time range
 * ("cannot be longer than 7 days",
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Account-Trade-List).
 * It starts at the session, not after the newest trade booked: the push that was lost may be older than one that
 * arrived (a partial fill's first trade).
 */
export const tradeReadWindowMs = 7 * 24 * 60 * 60 * 1000;

/** The trade list's largest page; a full page is followed by a read from the trade after its last. */
export const tradesPageSize = 1000;

/** Asks for the trades of `symbol` on the account of `userId` since its open session started. */
export function requestTrades(ctx: DecisionContext, userId: string, symbol: string): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session || !ctx.config.symbols.includes(symbol)) return;
  const startTimeMs = Math.max(session.startedAtMs, ctx.nowMs - tradeReadWindowMs);
  ctx.effect({ kind: 'read_trades', userId, lane: 'normal', symbol, from: { startTimeMs }, askedAtMs: ctx.nowMs });
  noteTradeReadAsked(ctx, userId, symbol); // asked again until answered (trade-reads-owed.ts)
}

/** Asks for the trades of every symbol the session trades or holds (after a gap in what the exchange told). */
export function requestSessionTrades(ctx: DecisionContext, userId: string): void {
  for (const symbol of sessionSymbols(ctx, userId)) requestTrades(ctx, userId, symbol);
}

/**
 * At boot: a push the engine got but died before committing is gone, and so is a read it had asked for. The
 * trade list is read for each user+symbol of an open session that has a retained order, and for each symbol of
 * a retained order that filled (a closed session's last flatten among them). Only there can a lost commission be
 * booked (onTradesListed books trades of the state's own orders only): reading every open session's every symbol
 * cost 5 weight × symbols × sessions, a minute's request weight with 1 000 idle sessions before boot's first
 * reconciliation read. Work proportional to the retained orders.
 */
export function requestTradesAtBoot(ctx: DecisionContext): void {
  const asked = new Set<string>();
  const ask = (userId: string, symbol: string): void => {
    const key = `${userId}:${symbol}`;
    if (asked.has(key)) return;
    asked.add(key);
    requestTrades(ctx, userId, symbol);
  };
  for (const order of ctx.durable.orders.values()) {
    const filled = isDecimal(order.filledQty) && !isZero(toQty(order.filledQty));
    if (filled || ctx.durable.sessions.get(order.userId)?.status !== 'closed') ask(order.userId, order.symbol);
  }
}

function sessionSymbols(ctx: DecisionContext, userId: string): Set<string> {
  return new Set([...ctx.config.symbols, ...Object.keys(ctx.durable.sessions.get(userId)?.positions ?? {})]);
}

/**
 * Books the commission of every trade in `trades` (one symbol's, oldest first) of an order of this user's that
 * is not booked yet, to the session the order belongs to. The money of trades of orders the engine does not know
 * (not ours: a liquidation, an ADL close, a fired stop, a manual order) is booked by foreign-trades.ts.
 */
export function onTradesListed(ctx: DecisionContext, userId: string, symbol: string, trades: readonly AccountTrade[], askedAtMs?: number): void {
  noteTradeReadAnswered(ctx, userId, symbol, askedAtMs);
  const session = ctx.durable.sessions.get(userId);
  if (!session) return;
  const byExchangeId = new Map<string, Order>();
  for (const order of ordersOf(ctx.durable, userId, symbol)) if (order.exchangeOrderId !== null) byExchangeId.set(order.exchangeOrderId, order);
  // Each order's filled quantity after each of its trades, for fees booked before trade ids were kept.
  const cumByOrder = new Map<string, Qty>();
  for (const trade of trades) {
    const order = byExchangeId.get(trade.exchangeOrderId);
    if (!order || trade.symbol !== symbol || !isDecimal(trade.qty) || !isDecimal(trade.commission)) continue;
    const cumQty = add(cumByOrder.get(order.clientOrderId) ?? zero, toQty(trade.qty));
    cumByOrder.set(order.clientOrderId, cumQty);
    if (trade.timeMs < session.startedAtMs || isTradeBooked(ctx, order, trade.tradeId)) continue;
    if (order.feeBookedQty !== undefined && lte(cumQty, toQty(order.feeBookedQty))) continue;
    // The trade list's example prints the commission negative, the push positive: what was charged is its size.
    chargeCommission(ctx, order, {
      commission: abs(toQty(trade.commission)),
      commissionAsset: trade.commissionAsset,
      realizedProfit: trade.realizedPnl,
      cumQty: toQty(order.feeBookedQty ?? zero),
      tradeId: trade.tradeId,
    });
  }
  bookForeignTrades(ctx, userId, symbol, trades, new Set(byExchangeId.keys()));
  const last = trades[trades.length - 1];
  if (trades.length >= tradesPageSize && last) {
    ctx.effect({ kind: 'read_trades', userId, lane: 'normal', symbol, from: { fromId: (BigInt(last.tradeId) + 1n).toString() }, askedAtMs: ctx.nowMs });
    noteTradeReadAsked(ctx, userId, symbol);
  }
}
