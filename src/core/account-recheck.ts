import type { DecisionContext } from './context.js';
import type { Session } from './state.js';

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
