import type { SessionSummary } from '../contract/session-summary.js';

// A trader's reading of a session summary, shared by the bot and the CLI (each words commands its own way): times
// as durations ("5h 12m", not an ISO time), what a kill switch means and what to do next. Pure.

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;
const dayMs = 24 * hourMs;

/** "3d 4h", "5h 12m", "7m", "< 1m": the two largest units, rounded down. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < minuteMs) return '< 1m';
  const days = Math.floor(ms / dayMs);
  const hours = Math.floor((ms % dayMs) / hourMs);
  const minutes = Math.floor((ms % hourMs) / minuteMs);
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return minutes > 0 ? `${hours}h ${minutes}m` : `${hours}h`;
  return `${minutes}m`;
}

/** How the commands are spelled where the text is shown. */
export interface CommandWords {
  stop: string;
  start: string;
}

/** Why the kill switch is on, in words, from the engine's reason code. */
export function killSwitchCause(reason: string | null): string {
  if (reason === null) return 'no reason given';
  if (reason === 'stop_loss') return 'the stop-loss was hit';
  if (reason === 'horizon') return 'the horizon was reached';
  if (reason.startsWith('stale_feed')) return `market data went silent (${reason.slice('stale_feed:'.length) || 'a symbol'})`;
  if (reason.startsWith('exchange_close')) return 'the exchange closed a position (a protective stop, a liquidation or an ADL)';
  return reason;
}

/** The kill switch's line: what happened, when, and the next step; null when it is off. */
export function killSwitchLine(s: SessionSummary, words: CommandWords): string | null {
  if (!s.killSwitch.engaged) return null;
  // A closed session keeps its kill switch engaged: why it ended, not "stop the session" (it is stopped already).
  if (s.status === 'closed') return `closed after its kill switch: ${killSwitchCause(s.killSwitch.reason)}; ${words.start} a new session to trade again`;
  const at = s.killSwitch.atMs;
  const ago = typeof at === 'number' && s.asOfMs !== undefined ? ` ${duration(s.asOfMs - at)} ago` : '';
  return (
    `kill switch ON${ago}: ${killSwitchCause(s.killSwitch.reason)}. Positions are closed and no new ones are opened; ` +
    `${words.stop} the session, then ${words.start} a new one to trade again`
  );
}

// A closed session's horizon, age and stop-loss floor are what it was set to, not where it stands: a horizon "in 58m",
// "closed for 1d 2h" (its age, still growing) and the equity "above" a floor read as if it were still trading. The
// functions below say null for it, as for a figure the engine does not give.

/** "in 5h 12m" until the horizon, "reached" past it, null without one, for a closed session (or from an engine that does not say). */
export function horizonLeft(s: SessionSummary): string | null {
  if (s.status === 'closed' || s.horizonDeadlineMs === undefined || s.horizonDeadlineMs === null || s.asOfMs === undefined) return null;
  const left = s.horizonDeadlineMs - s.asOfMs;
  return left <= 0 ? 'reached' : `in ${duration(left)}`;
}

/** How long the session has run; null for a closed session (or from an engine that does not say). */
export function sessionAge(s: SessionSummary): string | null {
  return s.status === 'closed' || s.startedAtMs === undefined || s.asOfMs === undefined ? null : duration(s.asOfMs - s.startedAtMs);
}

/** The stop-loss floor and the equity's distance to it (null: not given), as the engine gave them; null for a closed session or without a floor. */
export function stopLossStanding(s: SessionSummary): { floorUsd: number; distanceUsd: number | null } | null {
  if (s.status === 'closed' || s.stopLossFloorUsd === undefined || s.stopLossFloorUsd === null) return null;
  return { floorUsd: s.stopLossFloorUsd, distanceUsd: s.stopLossDistanceUsd ?? null };
}
