import type { OrderSnapshot, Side } from '../model/orders.js';
import type { Qty, Usd } from '../model/decimal.js';
import { isDecimal, isZero, sign, sub, toPrice, toQty, toUsd, zero } from '../model/decimal.js';
import type { DecisionContext } from './context.js';
import type { ExchangeFillCause } from './events.js';
import { bookedTradeKey, exchangeFillKey } from './events.js';
import { bookedAsset } from '../model/market.js';
import { fillNotice } from './fill-notice.js';
import { engageKillSwitch } from './risk-rules.js';
import type { Mode, Session } from './state.js';
import { hasBookedKey } from './booked-trade-keys.js';

// Trades the exchange made on a session's account without an order from the engine: a fired protective stop, a
// liquidation, an ADL close, a manual trade. Adopting the position from a later read would erase the loss (the
// budget resets, the other stops loosen, re-entry starts at once), so each such trade is booked as it is
// reported: the position moves by the trade, the exchange's realized PnL (`rp`) and commission are booked, and
// a close the exchange forced on us engages the kill switch.

/**
 * Client order ids Binance gives the orders it places itself
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Order-Update):
 * `autoclose-…` for a liquidation, `adl_autoclose` for an auto-deleveraging close.
 */
const liquidationIdPrefix = 'autoclose-';
const adlIdPrefix = 'adl_autoclose';

/** A close the exchange forced, known by the client id it gave the order; null for any other order. */
export function forcedCloseCause(clientOrderId: string): 'liquidation' | 'adl' | null {
  if (clientOrderId.startsWith(liquidationIdPrefix)) return 'liquidation';
  if (clientOrderId.startsWith(adlIdPrefix)) return 'adl';
  return null;
}

export const causeText: Record<ExchangeFillCause, string> = {
  protective_stop: 'protective stop fired',
  liquidation: 'liquidation',
  adl: 'ADL (auto-deleveraging) close',
  manual: 'trade not placed by the engine',
};

/**
 * Client algo ids the engine gives its protective stops: `qs<epoch>-<n>` (protective-stops.ts), of any epoch (a
 * stop placed before a restart is still ours).
 */
const ourStopIdPattern = /^qs[0-9a-z]+-\d+$/;

/**
 * Why the exchange traded. A triggered algo order reaches the matching engine as a new order whose client id is
 * not ours; the user stream's ALGO_UPDATE links the two through `ai`, the actual order id
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Algo-Order-Update),
 * and the adapter hands that link on as `triggeredBy`. With it, a stop's trade is known by id. Without it (the
 * ALGO_UPDATE came late or was lost) a stop's trade is recognised by what it does: it trades on the side of the
 * protective stop the session holds on that symbol and reduces the position.
 */
function causeOf(ctx: DecisionContext, session: Session, snapshot: OrderSnapshot): ExchangeFillCause {
  const forced = forcedCloseCause(snapshot.clientOrderId);
  if (forced !== null) return forced;
  if (snapshot.triggeredBy !== undefined) return ourStopIdPattern.test(snapshot.triggeredBy) ? 'protective_stop' : 'manual';
  const held = session.positions[snapshot.symbol]?.qty ?? zero;
  return isStopClose(ctx, session, snapshot.symbol, held, snapshot.side) ? 'protective_stop' : 'manual';
}

/**
 * Whether a trade on `side` that reduces `held` is what the session's protective stop on `symbol` would do: the
 * stop it holds there, or one we just took off our books (the kill switch, a move), which may have fired before
 * its cancel arrived.
 */
function isStopClose(ctx: DecisionContext, session: Session, symbol: string, held: Qty, side: Side): boolean {
  const reduces = side === 'BUY' ? sign(held) < 0 : sign(held) > 0;
  if (!reduces) return false;
  if (session.protectiveStops[symbol]?.side === side) return true;
  const retired = ctx.market.retiredStops.get(`${session.userId}:${symbol}`);
  return retired !== undefined && retired.side === side && ctx.nowMs - retired.atMs <= retiredStopRecognitionMs(ctx);
}

/**
 * How long after we retire a stop (ms) a trade on its side is still taken for its trigger: the sweep window
 * (3 listing periods), after which the listing has either seen it gone or cancelled it again.
 */
function retiredStopRecognitionMs(ctx: DecisionContext): number {
  return 3 * ctx.config.protectiveStopCheckMs;
}

/**
 * Books one trade of an order the engine did not place, on the account of `userId` (`mode` names which of the
 * user's accounts reported it). Only symbols the session trades or holds: anything else in the account is
 * reported by reconcile and left untouched. Repeats (a duplicate push, a replay) are booked once.
 */
export function onExchangeFill(ctx: DecisionContext, userId: string, mode: Mode, snapshot: OrderSnapshot): void {
  const session = ctx.durable.sessions.get(userId);
  const trade = snapshot.trade;
  if (!session || session.status === 'closed' || session.mode !== mode || !trade) return;
  if (!ctx.config.symbols.includes(snapshot.symbol) && session.positions[snapshot.symbol] === undefined) return;
  const { lastQty, lastPrice, cumQty, realizedProfit, commission } = trade;
  if (lastQty === undefined || lastPrice === undefined || ![lastQty, lastPrice, cumQty, realizedProfit, commission].every(isDecimal)) return;
  const qty = toQty(lastQty);
  const price = toPrice(lastPrice);
  if (sign(qty) <= 0 || sign(price) <= 0) return;
  if (session.exchangeFillKeys.includes(exchangeFillKey(snapshot.exchangeOrderId, toQty(cumQty)))) return;
  if (snapshot.updateTime > 0 && snapshot.updateTime < session.startedAtMs) {
    // A late push of a trade made before this session started (0: the adapter had no time): an earlier session's,
    // which reconcile already settled; booking it here would move this session's position and charge it the money.
    ctx.alert(
      userId,
      'reconcile',
      `a trade on ${snapshot.symbol} (order ${snapshot.clientOrderId}) from before this session started arrived late; not booked to this session`,
    );
    return;
  }
  const cause = causeOf(ctx, session, snapshot);
  // A position adopted from a read asked for after this trade holds it already (its push came late): moved again, the
  // position would count the trade twice. Trade times are the exchange's clock, the read's the engine's.
  const adoptedAsOfMs = session.adoptedAsOfMs?.[snapshot.symbol];
  const inAdoptedPosition = adoptedAsOfMs !== undefined && snapshot.updateTime > 0 && snapshot.updateTime <= adoptedAsOfMs;
  // The trade list may have told this trade's money already (its push came late: foreign-trades.ts): the position
  // still moves by it, its money is not booked again.
  const moneyBooked = trade.tradeId !== undefined && hasBookedKey(session.bookedTradeIds, bookedTradeKey(snapshot.symbol, trade.tradeId));
  const usdtFee = trade.commissionAsset === bookedAsset;
  const feeUsd: Usd = usdtFee && !moneyBooked ? toUsd(commission) : zero;
  const realizedPnlUsd = moneyBooked ? zero : toUsd(realizedProfit);
  ctx.emit({
    type: 'exchange_fill',
    userId,
    symbol: snapshot.symbol,
    side: snapshot.side,
    qty,
    price,
    realizedPnlUsd,
    feeUsd,
    exchangeOrderId: snapshot.exchangeOrderId,
    clientOrderId: snapshot.clientOrderId,
    cumQty: toQty(cumQty),
    cause,
    ...(snapshot.triggeredBy !== undefined ? { clientAlgoId: snapshot.triggeredBy } : {}),
    ...(trade.tradeId !== undefined ? { tradeId: trade.tradeId } : {}),
    ...(inAdoptedPosition ? { inAdoptedPosition } : {}),
    atMs: ctx.nowMs,
  });
  const feeText = moneyBooked
    ? 'its realized PnL and fee were booked from the trade list already'
    : usdtFee
      ? `fee ${feeUsd} ${bookedAsset}`
      : `fee ${commission} ${trade.commissionAsset} not booked (only ${bookedAsset} is)`;
  const byStop = snapshot.triggeredBy !== undefined ? `, triggered by ${snapshot.triggeredBy}` : '';
  const adopted = inAdoptedPosition ? '; the position adopted from the exchange holds it already' : '';
  const notice = fillNotice(
    {
      sessionStartedAtMs: session.startedAtMs,
      symbol: snapshot.symbol,
      side: snapshot.side,
      clientOrderId: snapshot.clientOrderId,
      purpose: cause,
      qty,
      price,
    },
    trade,
  );
  const what = `${causeText[cause]} on ${snapshot.symbol}: ${snapshot.side} ${qty} at ${price} (order ${snapshot.clientOrderId}${byStop}), realized ${realizedPnlUsd} ${bookedAsset}, ${feeText}${adopted}`;
  if (cause === 'manual') {
    ctx.alert(userId, 'manual_trade', `${what}; booked to the session`, notice);
    return;
  }
  if (session.killSwitch.engaged) {
    ctx.alert(userId, 'exchange_close', `${what}; kill switch already engaged`, notice);
    return;
  }
  engageKillSwitch(ctx, userId, cause, 'exchange_close', `${what}; kill switch engaged`, notice);
}

/**
 * Reports a position reconcile had to adopt (`session` as it was before): no trade explains it (the user stream
 * missed it), so its realized PnL is not known here and nothing is booked, and the alert says so rather than
 * passing the change off as a correction. A close to flat the session's protective stop would make is taken for
 * the stop having fired: the kill switch is engaged, as for a reported stop.
 */
export function reportAdoption(ctx: DecisionContext, session: Session, symbol: string, ours: Qty, theirs: Qty): void {
  const change = sub(theirs, ours);
  const side: Side = sign(change) > 0 ? 'BUY' : 'SELL';
  const unknownPnl = `no trade for it was reported, so its realized PnL is unknown and not booked (see the exchange's income history)`;
  const what = `position ${symbol} went from ${ours} to ${theirs} on the exchange`;
  // Our stops close the whole position (closePosition): a position merely reduced was something else.
  if (!isZero(theirs) || !isStopClose(ctx, session, symbol, ours, side) || session.killSwitch.engaged) {
    ctx.alert(session.userId, 'reconcile', `position ${symbol} corrected from ${ours} to ${theirs} to match the exchange; ${unknownPnl}`);
    return;
  }
  engageKillSwitch(ctx, session.userId, 'protective_stop', 'exchange_close', `protective stop probably fired: ${what}; ${unknownPnl}; kill switch engaged`);
}
