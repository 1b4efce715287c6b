import type { StatusResult, TradesResult, UsersResult } from '../../contract/command-results.js';
import type { AnsweredReply, OutboundEvent } from '../../contract/outbound.js';
import type { SessionSummary } from '../../contract/session-summary.js';
import type { BotCommandSpec, EngineCommand, StatusView } from './parse-command.js';
import { botCommandSpecs } from './parse-command.js';

// Engine answers (parsed by the contract's parseOutboundEvent) → chat text. Pure. Plain text (no parse_mode), so nothing from the engine can break the
// markup; long texts are cut to fit one Telegram message.

/** Telegram refuses messages over 4096 characters; keep a margin for the truncation note. */
export const maxMessageChars = 4_000;
/** Open orders listed in a status before "… and N more". */
const maxOrdersListed = 10;
/** Users listed by /users before "… and N more". */
const maxUsersListed = 50;

const truncationNote = '\n… (truncated)';

export function truncate(text: string, max = maxMessageChars): string {
  return text.length <= max ? text : `${text.slice(0, max - truncationNote.length)}${truncationNote}`;
}

export function helpText(isAdmin: boolean): string {
  const line = (s: BotCommandSpec): string => `${s.usage} — ${s.description}`;
  const user = botCommandSpecs.filter((s) => !s.admin && s.command !== 'start').map(line);
  const admin = botCommandSpecs.filter((s) => s.admin).map(line);
  return [
    'Quant Engine bot. Every command goes to the engine; a change gets "received ✓" when it is queued, then the engine\'s answer; a read gets the answer.',
    '',
    ...user,
    ...(isAdmin ? ['', 'Admin:', ...admin] : []),
  ].join('\n');
}

/** The commands shown in Telegram's menu (setMyCommands): everyone's, without /start. */
export function menuCommands(): { command: string; description: string }[] {
  return botCommandSpecs.filter((s) => !s.admin && s.command !== 'start').map((s) => ({ command: s.command, description: s.description }));
}

export function receivedText(command: EngineCommand): string {
  return `received ✓ ${command.type}`;
}

export const refusalText = 'Sorry, this bot is private and you are not on its list of users. Nothing was sent to the engine.';
export const notACommandText = 'I only understand commands. Send /help for the list.';
export function slowDownText(retryInMs: number): string {
  return `Slow down: too many commands. Try again in ${Math.max(1, Math.ceil(retryInMs / 1000))} s. Nothing was sent to the engine.`;
}

// --- numbers ---

export function usd(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const sign = value < 0 ? '-' : '';
  return `${sign}$${Math.abs(value).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function signedUsd(value: number): string {
  return value > 0 ? `+${usd(value)}` : usd(value);
}

function pct(value: number): string {
  return `${Number(value.toFixed(4))}%`;
}

function qty(value: number): string {
  return String(Number(value.toPrecision(10)));
}

type SessionView = SessionSummary;

function generic(label: string, result: unknown): string {
  if (result === null || result === undefined) return `✅ ${label} done`;
  let json: string;
  try {
    json = JSON.stringify(result, null, 1);
  } catch {
    json = String(result);
  }
  return `✅ ${label} done\n${json}`;
}

function sessionHeader(s: SessionView): string {
  const flags = [s.paused ? 'paused' : null, s.killSwitch.engaged ? `kill switch ON (${s.killSwitch.reason ?? 'no reason'})` : null].filter((x) => x !== null);
  return `${s.mode} session, ${s.status}${flags.length > 0 ? ` — ${flags.join(', ')}` : ''}`;
}

function positionLines(s: SessionView): string[] {
  const held = Object.entries(s.positions).filter(([, p]) => p.qty !== 0);
  if (held.length === 0) return ['Positions: none (flat)'];
  return ['Positions:', ...held.map(([symbol, p]) => `  ${symbol} ${p.qty > 0 ? 'long' : 'short'} ${qty(Math.abs(p.qty))} @ ${p.entryPrice}`)];
}

function orderLines(s: SessionView): string[] {
  if (s.openOrders.length === 0) return ['Open orders: none'];
  const shown = s.openOrders
    .slice(0, maxOrdersListed)
    .map((o) => `  ${o.side} ${o.quantity} ${o.symbol}${o.price ? ` @ ${o.price}` : ''}${o.purpose ? ` (${o.purpose})` : ''}`);
  const more = s.openOrders.length > maxOrdersListed ? [`  … and ${s.openOrders.length - maxOrdersListed} more`] : [];
  return ['Open orders:', ...shown, ...more];
}

function pnlLines(s: SessionView): string[] {
  const total = s.equityUsd - s.capitalUsd;
  const totalPct = s.capitalUsd > 0 ? (total / s.capitalUsd) * 100 : 0;
  return [
    `Equity: ${usd(s.equityUsd)} (capital ${usd(s.capitalUsd)}, ${signedUsd(total)}, ${totalPct >= 0 ? '+' : ''}${pct(totalPct)})`,
    `Realized: ${signedUsd(s.realizedPnlUsd)}  Unrealized (at bid/ask): ${signedUsd(s.unrealizedPnlUsd)}`,
    // Fees are a cost (shown negative); funding is signed as booked (received positive).
    `Fees: ${signedUsd(-(s.feesUsd ?? 0))}  Funding: ${signedUsd(s.fundingUsd ?? 0)}`,
  ];
}

/** `/status`, `/positions` and `/pnl` all ask the engine for `status`; the view picks what is shown. */
export function formatStatus(result: StatusResult, view: StatusView): string {
  const { halted, session } = result;
  const haltLine = halted ? ['⛔ Trading is halted by an operator.'] : [];
  if (session === null) return [...haltLine, 'No session. Start one with /session paper <capitalUsd>.'].join('\n');
  const s = session;
  switch (view) {
    case 'positions':
      return ['📂 Positions', ...haltLine, ...positionLines(s), ...orderLines(s), `Gross exposure: ${usd(s.grossExposureUsd)}`].join('\n');
    case 'pnl':
      return ['💰 PnL', ...haltLine, ...pnlLines(s)].join('\n');
    case 'status':
      return [
        `📊 Status: ${sessionHeader(s)}`,
        ...haltLine,
        `Capital: ${usd(s.capitalUsd)}`,
        ...pnlLines(s),
        `Stop-loss: ${s.stopLossPct === null ? 'none' : pct(s.stopLossPct)}  Horizon: ${s.horizonDeadline ?? 'none'}`,
        ...positionLines(s),
        `Gross exposure: ${usd(s.grossExposureUsd)}`,
        ...orderLines(s),
      ].join('\n');
  }
}

function formatTrades(result: TradesResult): string {
  const { trades } = result;
  if (trades.length === 0) return 'No trades yet.';
  return [
    `🧾 Last ${trades.length} trade${trades.length === 1 ? '' : 's'} (newest first):`,
    ...trades.map(
      (t) =>
        `  ${new Date(t.atMs).toISOString().slice(0, 19).replace('T', ' ')} ${t.side} ${qty(Number(t.quantity))} ${t.symbol} @ ${t.avgPrice} (${t.purpose}, ${t.status})`,
    ),
  ].join('\n');
}

function formatUsers(result: UsersResult): string {
  const { halted, liveApproved, users } = result;
  const lines = users.slice(0, maxUsersListed).map((u) => {
    const flags = [u.paused ? 'paused' : null, u.killSwitch.engaged ? 'kill switch' : null, u.liveApproved ? 'live approved' : null].filter((x) => x !== null);
    return `  ${u.userId}: ${u.mode} ${u.status}, capital ${usd(u.capitalUsd)}, equity ${usd(u.equityUsd)}${flags.length > 0 ? ` [${flags.join(', ')}]` : ''}`;
  });
  return [
    `👥 Users (${users.length})${halted ? ' — ⛔ trading halted' : ''}`,
    ...(lines.length > 0 ? lines : ['  no sessions']),
    ...(users.length > maxUsersListed ? [`  … and ${users.length - maxUsersListed} more`] : []),
    `Live approved: ${liveApproved.length > 0 ? liveApproved.join(', ') : 'nobody'}`,
  ].join('\n');
}

function formatDone(reply: AnsweredReply, view: StatusView | null): string {
  switch (reply.commandType) {
    case 'session.start': {
      const v = reply.result;
      if (v === null) return '✅ Session started.';
      return [
        `✅ Session started: ${v.mode}, capital ${usd(v.capitalUsd)}`,
        `Stop-loss: ${v.stopLossPct === null ? 'none' : pct(v.stopLossPct)}  Horizon: ${v.horizonDeadline ?? 'none'}`,
      ].join('\n');
    }
    case 'session.stop':
      return reply.status === 'done'
        ? `✅ Session closed, flat. Realized PnL: ${signedUsd(reply.result.realizedPnlUsd)}`
        : generic('session.stop', reply.result);
    case 'session.set_stoploss':
      return `✅ Stop-loss set to ${pct(reply.result.stopLossPct)} of capital.`;
    case 'session.set_horizon':
      return `✅ Horizon set: positions are flattened at ${reply.result.horizonDeadline} (UTC).`;
    case 'session.pause':
    case 'session.resume': {
      const note = reply.result.note !== null && reply.result.note.length > 0 ? ` ${reply.result.note}` : '';
      return `✅ ${reply.result.paused ? 'Paused: no new entries; risk rules still apply.' : 'Resumed: entries allowed.'}${note}`;
    }
    case 'status':
      // After a restart the view is forgotten: the full status is the generic rendering.
      return formatStatus(reply.result, view ?? 'status');
    case 'trades':
      return formatTrades(reply.result);
    case 'admin.users':
      return formatUsers(reply.result);
    case 'admin.halt_all':
    case 'admin.resume_all':
      return reply.result.halted ? '⛔ All trading halted; every session is being flattened.' : '✅ Global halt lifted.';
    case 'admin.approve_live': {
      const r = reply.result;
      const disabled = r.liveTradingEnabled ? '' : ' (note: live trading is disabled on this engine)';
      return `✅ ${r.userId}: live trading ${r.liveApproved ? 'approved' : 'not approved'}${disabled}.`;
    }
    case 'signals.route':
      return generic(reply.commandType, reply.result);
  }
}

function label(commandType: string | null): string {
  return commandType ?? 'command';
}

const alertIcons: Record<string, string> = {
  stop_loss: '🛑',
  horizon: '⏰',
  stale_feed: '📡',
  kill_switch: '🛑',
  fill: '✅',
  order_rejected: '⚠️',
  reconcile: '🔄',
  halt: '⛔',
  protective_stop: '🛡',
  engine_error: '🐞',
};

/**
 * The chat text for an outbound event, or null when it is not for the chat (equity samples, unknown types).
 * `view` is the status view remembered for the reply's command, if any.
 */
export function formatOutbound(event: OutboundEvent, view: StatusView | null = null): string | null {
  const e = event;
  switch (e.type) {
    case 'reply':
      switch (e.status) {
        case 'rejected':
          return truncate(`❌ ${label(e.commandType)} rejected: ${e.reason ?? 'no reason given'}`);
        case 'accepted': {
          // Only session.stop is answered "accepted" today; a later engine may accept others first.
          const type: string = e.commandType;
          return truncate(
            type === 'session.stop' ? '⏳ Stopping: cancelling orders and flattening; you will get "done" once flat.' : `⏳ ${label(type)} accepted`,
          );
        }
        case 'done':
          return truncate(formatDone(e, view));
      }
      return null;
    case 'alert':
      return truncate(`${(Object.hasOwn(alertIcons, e.kind) ? alertIcons[e.kind] : undefined) ?? '🔔'} Alert (${e.kind}): ${e.message}`);
    default:
      return null;
  }
}
