import { isDecimal, isZero, toQty } from '../model/decimal.js';
import type { DecisionContext } from './context.js';
import { requestTrades } from './trade-backstop.js';
import { requestFundingRead } from './funding-income.js';

// A trade-list read (read_trades) is the only way the engine learns the commission of a fill whose push was lost.
// The read itself can be lost too: held back by the request budget during a 429 pause or a 418 ban, refused by
// the venue, or failed on the network; the executor drops it then, as it drops any read. So a read is owed until
// its answer arrives, and asked again every orderQueryIntervalMs until then (level-triggered, as order queries
// are). The notes are volatile: a restart asks for every open session's trades anyway (requestTradesAtBoot).

const readKey = (userId: string, symbol: string): string => `${userId}:${symbol}`;
/**
 * The funding history (read_income FUNDING_FEE) is owed the same way, under this in place of a symbol (no symbol
 * starts with '#'): a funding push lost in a gap is booked only by that read (funding-income.ts).
 */
export const fundingReadMarker = '#funding';

export function noteFundingReadAsked(ctx: DecisionContext, userId: string): void {
  ctx.noteTradeReadAsked(readKey(userId, fundingReadMarker));
}

export function noteFundingReadAnswered(ctx: DecisionContext, userId: string, askedAtMs: number | undefined): void {
  settleRead(ctx, readKey(userId, fundingReadMarker), askedAtMs);
}

/** A read of `symbol`'s trades on `userId`'s account was asked for now. */
export function noteTradeReadAsked(ctx: DecisionContext, userId: string, symbol: string): void {
  ctx.noteTradeReadAsked(readKey(userId, symbol));
}

/** Its answer arrived (a full page asks again for the next, and notes that). */
export function noteTradeReadAnswered(ctx: DecisionContext, userId: string, symbol: string, askedAtMs: number | undefined): void {
  settleRead(ctx, readKey(userId, symbol), askedAtMs);
}

/**
 * An answer to a read asked at `askedAtMs` settles what is owed under `key` only if it was asked no earlier than the
 * read owed now: a late answer (or a second delivery) of an older read predates what asked again. Nor does an answer
 * asked in the same millisecond once the read was asked again in it (several inputs of one step share a time, and so
 * do a simulation's): it may be the earlier read's, made before the payment or fill that asked again. The read stays
 * owed and is asked again after orderQueryIntervalMs; that answer settles it. Found by the deterministic simulation
 * (seed 50050, 600 steps): a funding payment whose second read a ban had dropped was never booked.
 */
function settleRead(ctx: DecisionContext, key: string, askedAtMs: number | undefined): void {
  const owedSinceMs = ctx.market.owedReadsAskedAtMs.get(key);
  if (askedAtMs !== undefined && owedSinceMs !== undefined) {
    if (askedAtMs < owedSinceMs) return;
    if (askedAtMs === owedSinceMs && ctx.market.owedReadsAskedAgainInMs.has(key)) return;
  }
  ctx.forgetTradeRead(key);
}

/** On the timer: every read unanswered for orderQueryIntervalMs is asked again (dropped when its session is gone). */
export function reaskOwedTradeReads(ctx: DecisionContext): void {
  for (const [key, askedAtMs] of ctx.market.owedReadsAskedAtMs.entries()) {
    if (ctx.nowMs - askedAtMs < ctx.config.orderQueryIntervalMs) continue;
    const colon = key.lastIndexOf(':');
    const [userId, symbol] = [key.slice(0, colon), key.slice(colon + 1)];
    const session = ctx.durable.sessions.get(userId);
    ctx.forgetTradeRead(key);
    if (!session) continue;
    if (symbol === fundingReadMarker) requestFundingRead(ctx, userId);
    else requestTrades(ctx, userId, symbol);
  }
}

/**
 * After a gap in the user stream (resync): the trades of every retained order of `userId` (of everyone: null) that
 * filled, by symbol. The open sessions' symbols are read anyway; this covers a session that closed meanwhile, whose
 * last flatten's push the gap may have swallowed (as boot covers it after a crash).
 */
export function requestTradesOfFilledOrders(ctx: DecisionContext, userId: string | null): void {
  const asked = new Set<string>();
  for (const order of ctx.durable.orders.values()) {
    const key = readKey(order.userId, order.symbol);
    if ((userId !== null && order.userId !== userId) || asked.has(key) || !isDecimal(order.filledQty) || isZero(toQty(order.filledQty))) continue;
    asked.add(key);
    requestTrades(ctx, order.userId, order.symbol);
  }
}
