import type { Command } from '../contract/commands.js';
import type { DecisionContext } from './context.js';
import type { RouteResult } from './route-signals.js';
import { handleRoute } from './route-signals.js';
import type { PreflightResult } from './preflight.js';
import type { Session } from './state.js';
import { isLiveApproved } from './state.js';
import { sessionSummary } from './summary.js';
import { valueSession } from './mtm.js';
import { feedProblem } from './venues.js';
import { handleExit } from './exit-symbol.js';
import { smallCapitalNotes } from './start-notes.js';
import { isZero, sign, toNumber, toQty, toUsd } from '../model/decimal.js';

// One handler per command type. A handler either returns a rejection reason (nothing was changed) or
// emits its events and returns its answer: the reply status and the result the contract gives that command.

/** `partial`: a signals.route with users left for a later step (route-signals.ts); not answered yet. */
export type HandlerResult = RouteResult;

const hourMs = 3_600_000;

function runningSession(ctx: DecisionContext, userId: string): Session | string {
  const session = ctx.durable.sessions.get(userId);
  if (!session || session.status === 'closed') return 'no running session; start one first';
  return session;
}

function handleStart(ctx: DecisionContext, cmd: Extract<Command, { type: 'session.start' }>, preflight: PreflightResult | undefined): HandlerResult {
  const existing = ctx.durable.sessions.get(cmd.userId);
  if (existing && existing.status !== 'closed') return { ok: false, reason: `a session is already ${existing.status}; stop it first` };
  if (ctx.durable.halted) return { ok: false, reason: 'trading is halted by an operator' };
  if (cmd.mode === 'live') {
    if (!ctx.config.liveTradingEnabled) return { ok: false, reason: 'live trading is disabled on this engine (LIVE_TRADING=1 is not set)' };
    if (!isLiveApproved(ctx.durable, ctx.config.liveApprovedUserIds, cmd.userId))
      return { ok: false, reason: 'live trading needs an admin approval for this user' };
    // A live session is sized, priced and guarded on the live book: without it, it could only trade blind.
    const problem = feedProblem(ctx.market.venues, 'live', ctx.nowMs, ctx.config);
    if (problem !== null) return { ok: false, reason: `the live exchange's market data is not healthy (${problem}); try again once it is` };
    // Real money never trades on an account nobody checked (hedge mode, margin, leverage, liquidation).
    if (!preflight) return { ok: false, reason: 'the account preflight did not run for this live session; try again' };
  }
  if (preflight && !preflight.ok) return { ok: false, reason: `account preflight: ${preflight.reason}` };
  ctx.emit({
    type: 'session.started',
    userId: cmd.userId,
    mode: cmd.mode,
    capitalUsd: toUsd(cmd.capitalUsd),
    stopLossPct: cmd.stopLossPct ?? null,
    horizonDeadlineMs: cmd.horizonHours === undefined ? null : ctx.nowMs + cmd.horizonHours * hourMs,
    atMs: ctx.nowMs,
    leverage: preflight?.ok ? preflight.leverage : null,
  });
  const session = ctx.durable.sessions.get(cmd.userId);
  if (!session) return { ok: true, answer: { commandType: cmd.type, status: 'done', result: null } };
  const notes = smallCapitalNotes(ctx, cmd.mode, session.capitalUsd);
  return { ok: true, answer: { commandType: cmd.type, status: 'done', result: { ...sessionSummary(ctx, session), ...(notes.length > 0 && { notes }) } } };
}

function handleStop(ctx: DecisionContext, cmd: Command): HandlerResult {
  const session = runningSession(ctx, cmd.userId);
  if (typeof session === 'string') return { ok: false, reason: session };
  if (session.status === 'stopping') return { ok: false, reason: 'the session is already stopping' };
  ctx.emit({ type: 'session.stopping', userId: cmd.userId, commandId: cmd.id });
  // "done" follows from enforceFlat once every position is flat and no order is open.
  return {
    ok: true,
    answer: {
      commandType: 'session.stop',
      status: 'accepted',
      result: {
        flattening: Object.keys(session.positions).filter((s) => {
          const p = session.positions[s];
          return p !== undefined && !isZero(p.qty);
        }),
      },
    },
  };
}

function handleSetting(
  ctx: DecisionContext,
  cmd: Extract<Command, { type: 'session.set_stoploss' | 'session.set_horizon' | 'session.pause' | 'session.resume' }>,
  preflight: PreflightResult | undefined,
): HandlerResult {
  const session = runningSession(ctx, cmd.userId);
  if (typeof session === 'string') return { ok: false, reason: session };
  switch (cmd.type) {
    case 'session.set_stoploss':
      ctx.emit({ type: 'session.stoploss_set', userId: cmd.userId, pct: cmd.pct });
      return { ok: true, answer: { commandType: cmd.type, status: 'done', result: { stopLossPct: cmd.pct } } };
    case 'session.set_horizon': {
      const deadlineMs = ctx.nowMs + cmd.hours * hourMs;
      ctx.emit({ type: 'session.horizon_set', userId: cmd.userId, deadlineMs });
      return { ok: true, answer: { commandType: cmd.type, status: 'done', result: { horizonDeadline: new Date(deadlineMs).toISOString() } } };
    }
    case 'session.pause':
    case 'session.resume': {
      const paused = cmd.type === 'session.pause';
      // The account checked again for the resume (services/execution/account-preflight.ts): still unfit, still paused.
      if (!paused && preflight && !preflight.ok) return { ok: false, reason: `the exchange account still does not fit this session: ${preflight.reason}` };
      if (session.paused !== paused) ctx.emit({ type: 'session.paused', userId: cmd.userId, paused });
      const note =
        !paused && session.killSwitch.engaged ? `kill switch still engaged (${session.killSwitch.reason}); stop and start a new session to trade again` : null;
      return { ok: true, answer: { commandType: cmd.type, status: 'done', result: { paused, note } } };
    }
  }
}

export function handleCommand(ctx: DecisionContext, cmd: Command, preflight?: PreflightResult): HandlerResult {
  switch (cmd.type) {
    case 'session.start':
      return handleStart(ctx, cmd, preflight);
    case 'session.stop':
      return handleStop(ctx, cmd);
    case 'session.exit': {
      const session = runningSession(ctx, cmd.userId);
      return typeof session === 'string' ? { ok: false, reason: session } : handleExit(ctx, cmd, session);
    }
    case 'session.set_stoploss':
    case 'session.set_horizon':
    case 'session.pause':
    case 'session.resume':
      return handleSetting(ctx, cmd, preflight);
    case 'signals.route':
      return handleRoute(ctx, cmd);
    case 'admin.halt_all':
    case 'admin.resume_all': {
      if (!ctx.config.adminUserIds.includes(cmd.userId)) return { ok: false, reason: 'admin only' };
      const halted = cmd.type === 'admin.halt_all';
      const reason = cmd.type === 'admin.halt_all' ? (cmd.reason ?? 'operator halt') : null;
      if (ctx.durable.halted !== halted) ctx.emit({ type: 'halt.set', halted, reason });
      if (halted) {
        for (const s of ctx.durable.sessions.values()) {
          if (s.status !== 'closed') ctx.alert(s.userId, 'halt', `trading halted by an operator (${reason}); flattening`);
        }
      }
      return { ok: true, answer: { commandType: cmd.type, status: 'done', result: { halted } } };
    }
    case 'admin.approve_live': {
      if (!ctx.config.adminUserIds.includes(cmd.userId)) return { ok: false, reason: 'admin only' };
      if (cmd.approved && !ctx.config.liveTradingEnabled) {
        // Recorded anyway: the approval takes effect once the engine runs with LIVE_TRADING=1.
        ctx.alert(
          cmd.userId,
          'halt',
          `live approval for ${cmd.targetUserId} recorded, but live trading is disabled on this engine (LIVE_TRADING=1 is not set)`,
        );
      }
      if ((ctx.durable.liveApprovedUserIds[cmd.targetUserId] === true) !== cmd.approved) {
        ctx.emit({ type: 'live.approval_set', userId: cmd.targetUserId, approved: cmd.approved });
      }
      return {
        ok: true,
        answer: {
          commandType: cmd.type,
          status: 'done',
          result: {
            userId: cmd.targetUserId,
            liveApproved: isLiveApproved(ctx.durable, ctx.config.liveApprovedUserIds, cmd.targetUserId),
            liveTradingEnabled: ctx.config.liveTradingEnabled,
          },
        },
      };
    }
    case 'admin.users': {
      if (!ctx.config.adminUserIds.includes(cmd.userId)) return { ok: false, reason: 'admin only' };
      const users = ctx.durable.sessions.values().map((s) => ({
        userId: s.userId,
        mode: s.mode,
        status: s.status,
        capitalUsd: toNumber(s.capitalUsd),
        equityUsd: toNumber(valueSession(s, ctx.market).equityUsd),
        paused: s.paused,
        killSwitch: { ...s.killSwitch },
        liveApproved: isLiveApproved(ctx.durable, ctx.config.liveApprovedUserIds, s.userId),
      }));
      const liveApproved = [...new Set([...ctx.config.liveApprovedUserIds, ...Object.keys(ctx.durable.liveApprovedUserIds)])].sort();
      return {
        ok: true,
        answer: {
          commandType: cmd.type,
          status: 'done',
          result: { halted: ctx.durable.halted, liveTradingEnabled: ctx.config.liveTradingEnabled, liveApproved, users },
        },
      };
    }
    case 'trades': {
      const trades = ctx.durable.orders
        .values()
        .filter((o) => o.userId === cmd.userId && sign(toQty(o.filledQty)) > 0)
        .sort((a, b) => b.updatedAtMs - a.updatedAtMs || (a.clientOrderId < b.clientOrderId ? 1 : -1))
        .slice(0, cmd.limit)
        .map((o) => ({
          clientOrderId: o.clientOrderId,
          symbol: o.symbol,
          side: o.side,
          quantity: o.filledQty,
          avgPrice: o.avgPrice,
          purpose: o.purpose,
          status: o.status,
          atMs: o.updatedAtMs,
        }));
      return { ok: true, answer: { commandType: cmd.type, status: 'done', result: { trades } } };
    }
    case 'status': {
      const session = ctx.durable.sessions.get(cmd.userId);
      return {
        ok: true,
        answer: { commandType: cmd.type, status: 'done', result: { halted: ctx.durable.halted, session: session ? sessionSummary(ctx, session) : null } },
      };
    }
  }
}
