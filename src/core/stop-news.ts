import type { ProtectiveStopUpdate } from '../model/protective-stops.js';
import type { DecisionContext } from './context.js';
import { stopKey } from './protective-stops.js';
import type { Mode } from './state.js';

// ALGO_UPDATE tells a conditional order's status changes as they happen
// (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Algo-Order-Update):
// NEW, CANCELED ("the conditional order has been canceled"), TRIGGERING, TRIGGERED, FINISHED, REJECTED and EXPIRED
// ("canceled by the system", e.g. once every position on the symbol is closed). A CANCELED or EXPIRED push for a
// stop the session still tracks is a cancel the engine did not make (the engine forgets a stop before it cancels
// it): the position lies unprotected until the stop is back. Waiting for the periodic check (protectiveStopCheckMs,
// the idle period when quiet) would leave that gap open; the stop is dropped now, so this same decision's stop pass
// places a new one, and the position is read again in case the system cancelled it because the position is gone.
// The other statuses need nothing here: a trigger's trade arrives as an order update (triggeredBy), and the
// periodic listing still covers any push the stream lost.

/** Statuses that end a conditional order without it having fired. */
const endedUnfired: ReadonlySet<ProtectiveStopUpdate['status']> = new Set(['CANCELED', 'EXPIRED']);

/** One ALGO_UPDATE from `userId`'s account on `mode`. */
export function onStopNews(ctx: DecisionContext, userId: string, mode: Mode, update: ProtectiveStopUpdate): void {
  if (!endedUnfired.has(update.status)) return;
  const session = ctx.durable.sessions.get(userId);
  if (!session || session.mode !== mode) return;
  const stop = session.protectiveStops[update.symbol];
  if (!stop || stop.clientAlgoId !== update.clientAlgoId) return; // not ours, or one we already let go of
  const by = update.status === 'EXPIRED' ? 'by the exchange’s system (EXPIRED)' : 'on the exchange, not by the engine (CANCELED)';
  ctx.emit({ type: 'stop.removed', userId, symbol: update.symbol, clientAlgoId: stop.clientAlgoId, reason: `cancelled ${by}` });
  ctx.alert(userId, 'protective_stop', `protective stop for ${update.symbol} at ${stop.triggerPrice} was cancelled ${by}; re-placing it`);
  // The placement throttle is for retries of failed placements: this stop was placed, and is gone now.
  ctx.forgetStopAttempt(stopKey(userId, update.symbol));
  ctx.effect({ kind: 'reconcile', userId, requestedAtMs: ctx.nowMs });
}
