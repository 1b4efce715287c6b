import type { AccountConfigChange } from '../model/margin.js';
import type { DecisionContext } from './context.js';
import type { Mode, Session } from './state.js';

// The account preflight's verdict on a session that was already running when the engine booted (the shell reads
// the account again and sets its leverage and margin type; the check is recheckHeldAccount in preflight.ts).
// Someone may have changed the account by hand while the engine was down. The engine does not flatten for it —
// a flatten under hedge mode is refused by the exchange anyway, and positions keep their protective stops — but
// it takes no new risk on an account it cannot trade correctly: new entries are paused and the user is told
// what changed and what to do.

/** What a user is told when the engine pauses a session's entries on its own. */
export const entriesPausedNote = 'New entries are paused; open positions keep their protective stops.';

/**
 * Pauses the new entries of a session the engine can no longer book or trade correctly (not a closed one, not twice);
 * true when this call paused them. Exits go on: flattens and protective stops are not entries.
 */
export function pauseEntries(ctx: DecisionContext, session: Session): boolean {
  if (session.status === 'closed' || session.paused) return false;
  ctx.emit({ type: 'session.paused', userId: session.userId, paused: true });
  return true;
}

export function onAccountRechecked(ctx: DecisionContext, userId: string, problems: readonly string[]): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session || session.status === 'closed' || problems.length === 0) return;
  pauseEntries(ctx, session);
  ctx.alert(
    userId,
    'account',
    `the exchange account no longer fits this session (checked at the engine's restart): ${problems.join('; ')}. ` +
      `${entriesPausedNote} Fix the setting, then /resume (or /stop to close the session).`,
  );
}

/**
 * An account setting changed on the exchange while a session runs (ACCOUNT_CONFIG_UPDATE, or ACCOUNT_UPDATE for a
 * margin type): someone changed it by hand, or another program did. Multi-assets margin switched on, a traded symbol's
 * leverage raised above the one the session's preflight set (its stop-loss was placed inside the liquidation price at
 * that leverage, preflight.ts), or a traded symbol switched to isolated margin (the preflight set cross), is an account
 * the engine would otherwise go on trading as if nothing had changed until its next restart: its entries are paused
 * and the user told, as the restart's recheck would. A change back, or a lower leverage, asks nothing.
 */
export function onAccountConfig(ctx: DecisionContext, userId: string, mode: Mode, change: AccountConfigChange): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session || session.status === 'closed' || session.mode !== mode) return;
  const problem = configProblem(ctx, session, change);
  if (problem === null) return;
  const pausing = pauseEntries(ctx, session);
  ctx.alert(userId, 'account', `${problem}.${pausing ? ` ${entriesPausedNote}` : ''} ${resumeNote}`);
}

/** /resume checks the account again and sets the session's leverage back (services/execution/account-preflight.ts). */
const resumeNote =
  "/resume checks the account again, sets the session's cross margin and leverage back, and resumes if it fits (or /stop to close the session).";

function configProblem(ctx: DecisionContext, session: Session, change: AccountConfigChange): string | null {
  if (change.kind === 'multi_assets') {
    return change.on
      ? 'multi-assets margin mode was switched on; the engine margins in USDT only: switch it off (POST /fapi/v1/multiAssetsMargin multiAssetsMargin=false)'
      : null;
  }
  if (change.kind === 'margin_type') {
    // Binance changes a symbol's margin type only while it holds no position or order there (-4048, -4047): the next
    // entry would be isolated, liquidated from its own margin alone, where the preflight set cross for the session.
    if (!change.isolated || !ctx.config.symbols.includes(change.symbol)) return null;
    return (
      `the margin type of ${change.symbol} was switched to isolated on the exchange; the session trades on cross margin, and an isolated ` +
      `position is liquidated from its own margin alone`
    );
  }
  if (!ctx.config.symbols.includes(change.symbol) || session.leverage === null || change.leverage <= session.leverage) return null;
  return (
    `the leverage of ${change.symbol} was raised to ${change.leverage}x on the exchange; the session's stop-loss was set inside the liquidation ` +
    `price at ${session.leverage}x and may now lie beyond it`
  );
}
