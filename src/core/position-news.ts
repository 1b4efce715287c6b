import type { PositionSnapshot } from '../model/positions.js';
import { eq, isDecimal, toQty, zero } from '../model/decimal.js';
import type { DecisionContext } from './context.js';
import { openOrdersOf } from './state-index.js';
import type { Mode } from './state.js';

// ACCOUNT_UPDATE pushes the positions that changed, as the exchange now holds them
// (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Balance-and-Position-Update:
// "Only symbols of changed positions will be pushed"). That is news, not a ledger: the position moves only by the
// trades that explain it (order updates, exchange fills) or by reconcile. A pushed position that differs from the
// session's while no order of ours on that symbol is in flight means a change the engine has no trade for (a
// trade the stream lost, an exchange action): the account's positions are read again and reconcile decides.

/** Positions the user stream reported for one user's account (`mode` names which of the user's accounts). */
export function onPositionNews(ctx: DecisionContext, userId: string, mode: Mode, positions: readonly PositionSnapshot[]): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session || session.status === 'closed' || session.mode !== mode) return;
  for (const { symbol, positionAmt } of positions) {
    if (!ctx.config.symbols.includes(symbol) && session.positions[symbol] === undefined) continue; // not the session's
    if (!isDecimal(positionAmt)) continue; // reconcile reports unreadable amounts when it reads them
    if (eq(session.positions[symbol]?.qty ?? zero, toQty(positionAmt))) continue;
    // An order of ours still working on the symbol explains a difference: its own updates follow.
    const inFlight = openOrdersOf(ctx.durable, userId).some((o) => o.symbol === symbol);
    if (inFlight) continue;
    ctx.effect({ kind: 'reconcile', userId, requestedAtMs: ctx.nowMs });
    return; // one read covers every symbol of the account
  }
}
