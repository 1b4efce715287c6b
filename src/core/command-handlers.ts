import type { ReplyAnswer } from '../contract/command-results.js';
import type { Command } from '../contract/commands.js';
import type { DecisionContext } from './context.js';
import { placeOrder } from './orders.js';
import { capToExposureLimit } from './exposure.js';
import { backingOff } from './rejections.js';
import { planTowardTarget, targetQuantity } from './planner.js';
import type { PreflightResult } from './preflight.js';
import type { Session } from './state.js';
import { isLiveApproved } from './state.js';
import { sessionSummary } from './summary.js';
import { openOrdersOf } from './state-index.js';
import { valueSession } from './mtm.js';
import { entryQuoteOf, feedProblem, filtersOf } from './venues.js';
import { isZero, sign, toNumber, toQty, toUsd, zero } from '../model/decimal.js';

// One handler per command type. A handler either returns a rejection reason (nothing was changed) or
// emits its events and returns its answer: the reply status and the result the contract gives that command.

export type HandlerResult = { ok: true; answer: ReplyAnswer } | { ok: false; reason: string };

const hourMs = 3_600_000;

function runningSession(ctx: DecisionContext, userId: string): Session | string {
  const session = ctx.durable.sessions[userId];
  if (!session || session.status === 'closed') return 'no running session; start one with session.start';
  return session;
}

function handleStart(ctx: DecisionContext, cmd: Extract<Command, { type: 'session.start' }>, preflight: PreflightResult | undefined): HandlerResult {
  const existing = ctx.durable.sessions[cmd.userId];
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
  const session = ctx.durable.sessions[cmd.userId];
  return { ok: true, answer: { commandType: cmd.type, status: 'done', result: session ? sessionSummary(ctx, session) : null } };
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
      if (session.paused !== paused) ctx.emit({ type: 'session.paused', userId: cmd.userId, paused });
      const note =
        !paused && session.killSwitch.engaged ? `kill switch still engaged (${session.killSwitch.reason}); stop and start a new session to trade again` : null;
      return { ok: true, answer: { commandType: cmd.type, status: 'done', result: { paused, note } } };
    }
  }
}

type RouteOutcome = {
  userId: string;
  symbol: string;
  clientOrderId?: string;
  skipped?: string;
};

function entryBlock(ctx: DecisionContext, session: Session): string | null {
  if (session.status !== 'active') return `session is ${session.status}`;
  if (session.killSwitch.engaged) return `kill switch engaged (${session.killSwitch.reason})`;
  if (session.paused) return 'session is paused';
  return null;
}

function handleRoute(ctx: DecisionContext, cmd: Extract<Command, { type: 'signals.route' }>): HandlerResult {
  if (!ctx.config.signalSourceIds.includes(cmd.userId)) return { ok: false, reason: `${cmd.userId} may not publish signals` };
  if (ctx.durable.halted) return { ok: false, reason: 'trading is halted by an operator' };
  const targets =
    cmd.userIds ??
    Object.values(ctx.durable.sessions)
      .filter((s) => s.status === 'active')
      .map((s) => s.userId);
  // Gross exposure limit: weights whose absolute sum exceeds 1 are scaled down together.
  const totalWeight = cmd.signals.reduce((sum, s) => sum + Math.abs(s.weight), 0);
  const scale = totalWeight > 1 ? 1 / totalWeight : 1;
  const outcomes: RouteOutcome[] = [];
  for (const userId of targets) {
    const session = ctx.durable.sessions[userId];
    for (const signal of cmd.signals) {
      const skip = (skipped: string): void => void outcomes.push({ userId, symbol: signal.symbol, skipped });
      if (!session) {
        skip('no session');
        continue;
      }
      const blocked = entryBlock(ctx, session);
      if (blocked) {
        skip(blocked);
        continue;
      }
      const filters = filtersOf(ctx.market.venues, session.mode, signal.symbol);
      if (!ctx.config.symbols.includes(signal.symbol) || !filters) {
        skip(`symbol ${signal.symbol} is not traded`);
        continue;
      }
      const inFlight = openOrdersOf(ctx.durable, userId).some((o) => o.symbol === signal.symbol);
      if (inFlight) {
        skip('an order for this symbol is still open');
        continue;
      }
      const quote = entryQuoteOf(ctx.market.venues, session.mode, signal.symbol, ctx.nowMs, ctx.config);
      if (!quote) {
        skip(`no quote younger than ${ctx.config.entryQuoteMaxAgeMs} ms`);
        continue;
      }
      const current = ctx.durable.sessions[userId]?.positions[signal.symbol]?.qty ?? zero;
      const wanted = targetQuantity(signal.weight * scale, session.capitalUsd, ctx.config.maxLeverage, quote, filters);
      const target = capToExposureLimit(ctx, userId, signal.symbol, wanted, quote, filters);
      const plan = planTowardTarget(signal.symbol, current, target, quote, filters);
      if (plan.targetQty !== null && ctx.durable.sessions[userId]?.intents[signal.symbol] !== plan.targetQty) {
        ctx.emit({ type: 'intent.set', userId, symbol: signal.symbol, targetQty: plan.targetQty });
      }
      if (plan.kind === 'skip') {
        skip(plan.reason);
        continue;
      }
      if (backingOff(ctx.durable, ctx.config, ctx.nowMs, userId, signal.symbol, plan.order.purpose)) {
        skip(`the exchange keeps rejecting ${plan.order.purpose} orders for ${signal.symbol}; backing off`);
        continue;
      }
      const order = placeOrder(ctx, userId, plan.order);
      outcomes.push({ userId, symbol: signal.symbol, clientOrderId: order.clientOrderId });
    }
  }
  return { ok: true, answer: { commandType: cmd.type, status: 'done', result: { routed: outcomes } } };
}

export function handleCommand(ctx: DecisionContext, cmd: Command, preflight?: PreflightResult): HandlerResult {
  switch (cmd.type) {
    case 'session.start':
      return handleStart(ctx, cmd, preflight);
    case 'session.stop':
      return handleStop(ctx, cmd);
    case 'session.set_stoploss':
    case 'session.set_horizon':
    case 'session.pause':
    case 'session.resume':
      return handleSetting(ctx, cmd);
    case 'signals.route':
      return handleRoute(ctx, cmd);
    case 'admin.halt_all':
    case 'admin.resume_all': {
      if (!ctx.config.adminUserIds.includes(cmd.userId)) return { ok: false, reason: 'admin only' };
      const halted = cmd.type === 'admin.halt_all';
      const reason = cmd.type === 'admin.halt_all' ? (cmd.reason ?? 'operator halt') : null;
      if (ctx.durable.halted !== halted) ctx.emit({ type: 'halt.set', halted, reason });
      if (halted) {
        for (const s of Object.values(ctx.durable.sessions)) {
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
      const users = Object.values(ctx.durable.sessions).map((s) => ({
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
      const trades = Object.values(ctx.durable.orders)
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
      const session = ctx.durable.sessions[cmd.userId];
      return {
        ok: true,
        answer: { commandType: cmd.type, status: 'done', result: { halted: ctx.durable.halted, session: session ? sessionSummary(ctx, session) : null } },
      };
    }
  }
}
