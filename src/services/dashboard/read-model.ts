import type { AlertEvent, ReplyEvent } from '../../contract/outbound.js';
import { parseOutboundEvent } from '../../contract/outbound.js';
import type { SessionSummary } from '../../contract/session-summary.js';
import { sessionSummarySchema } from '../../contract/session-summary.js';

// The dashboard's read model: a fold over the outbound stream (replies, alerts, equity events). It never
// reads trading state directly, so what the page shows is exactly what the engine has committed.
//
// `foldOutbound` is deterministic (no I/O, no clock: every time comes from the events themselves). It
// updates the model in place so that catching up on a long stream costs O(1) per event; every collection it
// keeps is bounded by a named constant below.

/** Equity points kept per session (oldest dropped first); at one point every ~5 s, about 5 hours. */
export const maxEquityPointsPerSession = 3_600;
/** Alerts kept, all users together, newest last. */
export const maxRecentAlerts = 200;
/** Replies kept, all users together, newest last (accepted `signals.route` replies are not kept: noise). */
export const maxRecentReplies = 200;
/** Sessions tracked; beyond it the closed session seen longest ago is forgotten. */
export const maxTrackedSessions = 1_000;

export { sessionSummarySchema };
export type { SessionSummary };

/** A reply as the contract parses it (its result typed by command type and status). */
export type ReplyView = ReplyEvent;

/** The reply in an outbound record, or null when the record is something else. */
export function parseReply(data: string): ReplyView | null {
  const parsed = parseOutboundEvent(data);
  return parsed.ok && parsed.event.type === 'reply' ? parsed.event : null;
}
export type AlertView = AlertEvent;

export interface EquityPoint {
  atMs: number;
  equityUsd: number;
}

export interface SessionView {
  userId: string;
  summary: SessionSummary;
  /** Time of the event the summary comes from (engine clock). */
  summaryAtMs: number;
  /** Where the summary comes from: an equity event, a reply (start/status), or patched by a later reply/alert. */
  source: string;
  equity: EquityPoint[];
}

export interface ReadModel {
  /** Id of the last outbound record folded: where the follower resumes. */
  lastId: string;
  foldedEvents: number;
  /** Records that were not JSON or not a known event shape. */
  ignoredEvents: number;
  /** Global halt as last answered by the engine; null = not seen yet. */
  halted: boolean | null;
  sessions: Map<string, SessionView>;
  alerts: AlertView[];
  replies: ReplyView[];
}

/**
 * What one folded record changed, for readers that follow the model as it moves (the page's event stream)
 * instead of reading all of it: work per record is proportional to what the record touched.
 */
export type ModelChange =
  | { kind: 'session'; session: SessionHead; resetEquity: boolean }
  | { kind: 'session_forgotten'; userId: string }
  | { kind: 'equity'; userId: string; point: [atMs: number, equityUsd: number] }
  | { kind: 'alert'; alert: AlertView }
  /** A fill was booked for this user (its alert is not kept: the page shows fills as closed trades, from the ledger). */
  | { kind: 'fill'; userId: string; atMs: number }
  | { kind: 'reply'; reply: ReplyView }
  | { kind: 'halted'; halted: boolean };

/** A session without its equity curve (that travels as `equity` changes). */
export type SessionHead = Omit<SessionView, 'equity'>;

function head(view: SessionView): SessionHead {
  return { userId: view.userId, summary: view.summary, summaryAtMs: view.summaryAtMs, source: view.source };
}

/** Collects changes when a sink is given; a fold without one (catching up, tests) pays nothing for it. */
type ChangeSink = ModelChange[] | null;

export function emptyReadModel(): ReadModel {
  return { lastId: '0', foldedEvents: 0, ignoredEvents: 0, halted: null, sessions: new Map(), alerts: [], replies: [] };
}

const killSwitchAlertKinds = new Set(['stop_loss', 'horizon', 'stale_feed', 'kill_switch', 'exchange_close']);

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

function addEquityPoint(view: SessionView, point: EquityPoint, changes: ChangeSink): void {
  const last = view.equity[view.equity.length - 1];
  if (last && point.atMs < last.atMs) return; // the chart's x axis must only grow
  if (last && point.atMs === last.atMs) view.equity[view.equity.length - 1] = point;
  else pushBounded(view.equity, point, maxEquityPointsPerSession);
  changes?.push({ kind: 'equity', userId: view.userId, point: [point.atMs, point.equityUsd] });
}

function forgetOldSessions(model: ReadModel, changes: ChangeSink): void {
  if (model.sessions.size <= maxTrackedSessions) return;
  let oldest: SessionView | null = null;
  for (const view of model.sessions.values()) {
    if (view.summary.status !== 'closed') continue;
    if (!oldest || view.summaryAtMs < oldest.summaryAtMs) oldest = view;
  }
  if (!oldest) return;
  model.sessions.delete(oldest.userId);
  changes?.push({ kind: 'session_forgotten', userId: oldest.userId });
}

/** A full summary from the engine (start/status reply, equity event) replaces what we knew. */
function setSummary(model: ReadModel, summary: SessionSummary, atMs: number, source: string, newSession: boolean, changes: ChangeSink): void {
  const existing = model.sessions.get(summary.userId);
  const fresh = !existing || newSession;
  if (fresh) {
    model.sessions.set(summary.userId, { userId: summary.userId, summary, summaryAtMs: atMs, source, equity: [] });
  } else {
    existing.summary = summary;
    existing.summaryAtMs = atMs;
    existing.source = source;
  }
  const view = model.sessions.get(summary.userId);
  if (view) {
    changes?.push({ kind: 'session', session: head(view), resetEquity: fresh });
    addEquityPoint(view, { atMs, equityUsd: summary.equityUsd }, changes);
  }
  if (fresh) forgetOldSessions(model, changes);
}

/** A partial change learnt from a reply or an alert, applied on top of the last full summary. */
function patchSummary(
  model: ReadModel,
  userId: string | null,
  atMs: number,
  source: string,
  changes: ChangeSink,
  patch: (s: SessionSummary) => SessionSummary,
): SessionView | null {
  const view = userId === null ? undefined : model.sessions.get(userId);
  if (!view) return null;
  view.summary = patch(view.summary);
  view.summaryAtMs = Math.max(view.summaryAtMs, atMs);
  view.source = source;
  changes?.push({ kind: 'session', session: head(view), resetEquity: false });
  return view;
}

function setHalted(model: ReadModel, halted: boolean, changes: ChangeSink): void {
  if (model.halted !== halted) changes?.push({ kind: 'halted', halted });
  model.halted = halted;
}

function foldReply(model: ReadModel, reply: ReplyView, changes: ChangeSink): void {
  if (!(reply.commandType === 'signals.route' && reply.status !== 'rejected')) {
    pushBounded(model.replies, reply, maxRecentReplies);
    changes?.push({ kind: 'reply', reply });
  }
  if (reply.status === 'rejected') return;
  const source = `reply ${reply.commandType} ${reply.status}`;
  switch (reply.commandType) {
    case 'session.start':
      if (reply.result !== null) setSummary(model, reply.result, reply.atMs, source, true, changes);
      return;
    case 'status':
      setHalted(model, reply.result.halted, changes);
      if (reply.result.session) setSummary(model, reply.result.session, reply.atMs, source, false, changes);
      return;
    case 'session.stop': {
      if (reply.status === 'accepted') {
        patchSummary(model, reply.userId, reply.atMs, source, changes, (s) => (s.status === 'closed' ? s : { ...s, status: 'stopping' }));
        return;
      }
      // "done": the engine answers it only once the session is flat with no open order, and closed.
      const { realizedPnlUsd, feesUsd, fundingUsd } = reply.result;
      const view = patchSummary(model, reply.userId, reply.atMs, source, changes, (s) => {
        // The answer's fees and funding are the session's final ones (the flatten's own fees included); an answer
        // written before it carried them leaves the last summary's.
        const fees = feesUsd ?? s.feesUsd ?? 0;
        const funding = fundingUsd ?? s.fundingUsd ?? 0;
        return {
          ...s,
          status: 'closed',
          positions: {},
          openOrders: [],
          unrealizedPnlUsd: 0,
          grossExposureUsd: 0,
          unpricedSymbols: [],
          realizedPnlUsd,
          feesUsd: fees,
          fundingUsd: funding,
          // Flat: equity is capital + realized − fees + funding (as the engine values it).
          equityUsd: s.capitalUsd + realizedPnlUsd - fees + funding,
        };
      });
      if (view) addEquityPoint(view, { atMs: reply.atMs, equityUsd: view.summary.equityUsd }, changes);
      return;
    }
    case 'session.pause':
    case 'session.resume': {
      const paused = reply.result.paused;
      patchSummary(model, reply.userId, reply.atMs, source, changes, (s) => ({ ...s, paused }));
      return;
    }
    case 'session.set_stoploss': {
      const stopLossPct = reply.result.stopLossPct;
      patchSummary(model, reply.userId, reply.atMs, source, changes, (s) => ({ ...s, stopLossPct }));
      return;
    }
    case 'session.set_horizon': {
      const horizonDeadline = reply.result.horizonDeadline;
      patchSummary(model, reply.userId, reply.atMs, source, changes, (s) => ({ ...s, horizonDeadline }));
      return;
    }
    case 'admin.halt_all':
    case 'admin.resume_all':
      setHalted(model, reply.result.halted, changes);
      return;
    default:
      return;
  }
}

function foldAlert(model: ReadModel, alert: AlertView, changes: ChangeSink): void {
  // Fills are not alerts to a trader reading the page (a paper session fills ~26 times a minute and would push
  // every other alert out of the bound): the page reads them as closed trades from the ledger when told of one.
  if (alert.kind === 'fill') {
    changes?.push({ kind: 'fill', userId: alert.userId, atMs: alert.atMs });
    return;
  }
  pushBounded(model.alerts, alert, maxRecentAlerts);
  changes?.push({ kind: 'alert', alert });
  if (killSwitchAlertKinds.has(alert.kind)) {
    patchSummary(model, alert.userId, alert.atMs, `alert ${alert.kind}`, changes, (s) =>
      s.status === 'closed' || s.killSwitch.engaged ? s : { ...s, killSwitch: { ...s.killSwitch, engaged: true, reason: alert.kind } },
    );
  }
}

/**
 * Folds one outbound record (its id and its JSON text) into the model. Unknown or malformed events are counted
 * and skipped. With `changes`, what the record changed is appended to it.
 */
export function foldOutbound(model: ReadModel, recordId: string, data: string, changes: ChangeSink = null): ReadModel {
  model.lastId = recordId;
  const parsed = parseOutboundEvent(data);
  if (!parsed.ok) {
    model.ignoredEvents += 1;
    return model;
  }
  const event = parsed.event;
  switch (event.type) {
    case 'reply':
      foldReply(model, event, changes);
      break;
    case 'alert':
      foldAlert(model, event, changes);
      break;
    case 'equity': {
      const known = model.sessions.get(event.userId);
      // A new session for a user whose last one closed starts a new curve.
      const newSession = known !== undefined && known.summary.status === 'closed' && event.summary.status !== 'closed';
      setSummary(model, event.summary, event.atMs, 'equity', newSession, changes);
      break;
    }
  }
  model.foldedEvents += 1;
  return model;
}

/** The JSON shape served at /api/state. */
export interface StateView {
  lastId: string;
  foldedEvents: number;
  ignoredEvents: number;
  halted: boolean | null;
  sessions: (Omit<SessionView, 'equity'> & { equity: [number, number][] })[];
  alerts: AlertView[];
  replies: ReplyView[];
}

export function stateView(model: ReadModel): StateView {
  const sessions = [...model.sessions.values()]
    .sort((a, b) => a.userId.localeCompare(b.userId))
    .map((s) => ({
      userId: s.userId,
      summary: s.summary,
      summaryAtMs: s.summaryAtMs,
      source: s.source,
      equity: s.equity.map((p): [number, number] => [p.atMs, p.equityUsd]),
    }));
  return {
    lastId: model.lastId,
    foldedEvents: model.foldedEvents,
    ignoredEvents: model.ignoredEvents,
    halted: model.halted,
    sessions,
    alerts: [...model.alerts],
    replies: [...model.replies],
  };
}
