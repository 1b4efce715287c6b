import type { StatusResult, TradesResult, UsersResult } from '../../contract/command-results.js';
import type { AnsweredReply, OutboundEvent } from '../../contract/outbound.js';
import type { SessionSummary } from '../../contract/session-summary.js';
import type { EngineCommand, StatusView } from './parse-command.js';
import {
  escapeHtml,
  exitDoneHtml,
  horizonHtml,
  killSwitchHtml,
  pct,
  positionHtml,
  qty,
  receivedText as receivedWords,
  chatWord,
  rejectedHtml,
  sessionHeaderHtml,
  signedUsd,
  stopLossHtml,
  truncateHtml,
  usd,
} from './messages.js';

export { usd } from './messages.js';

// Engine answers (parsed by the contract's parseOutboundEvent) → chat text. Pure. What formatOutbound gives is
// Telegram HTML (the relay sends it with parse_mode HTML): every text from the engine is escaped (messages.ts), so
// nothing can break the markup; long texts are cut to fit one Telegram message.

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

export function receivedText(command: EngineCommand): string {
  return receivedWords(command.type);
}

type SessionView = SessionSummary;

function generic(label: string, result: unknown): string {
  if (result === null || result === undefined) return `✅ ${escapeHtml(label)} done`;
  let json: string;
  try {
    json = JSON.stringify(result, null, 1);
  } catch {
    json = String(result);
  }
  return `✅ ${escapeHtml(label)} done\n${escapeHtml(json)}`;
}

function positionLines(s: SessionView): string[] {
  const held = Object.entries(s.positions).filter(([, p]) => p.qty !== 0);
  if (held.length === 0) return ['Positions: none (flat)'];
  return ['Positions:', ...held.map(([symbol, p]) => positionHtml(symbol, p))];
}

function orderLines(s: SessionView): string[] {
  if (s.openOrders.length === 0) return ['Open orders: none'];
  const shown = s.openOrders
    .slice(0, maxOrdersListed)
    .map((o) => escapeHtml(`  ${o.side} ${o.quantity} ${o.symbol}${o.price ? ` @ ${o.price}` : ''}${o.purpose ? ` (${o.purpose})` : ''}`));
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
  if (session === null) return [...haltLine, 'No session. Start one with /session paper &lt;capitalUsd&gt;.'].join('\n');
  const s = session;
  switch (view) {
    case 'positions':
      return ['📂 Positions', ...haltLine, ...positionLines(s), ...orderLines(s), `Gross exposure: ${usd(s.grossExposureUsd)}`].join('\n');
    case 'pnl':
      return ['💰 PnL', ...haltLine, ...pnlLines(s)].join('\n');
    case 'status':
      return [
        `📊 <b>Status</b>: ${sessionHeaderHtml(s)}`,
        ...haltLine,
        ...(killSwitchHtml(s) === null ? [] : [killSwitchHtml(s) ?? '']),
        `Capital: ${usd(s.capitalUsd)}`,
        ...pnlLines(s),
        stopLossHtml(s),
        horizonHtml(s),
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
    ...trades.map((t) =>
      escapeHtml(
        `  ${new Date(t.atMs).toISOString().slice(0, 19).replace('T', ' ')} ${t.side} ${qty(Number(t.quantity))} ${t.symbol} @ ${t.avgPrice} (${t.purpose}, ${t.status})`,
      ),
    ),
  ].join('\n');
}

function formatUsers(result: UsersResult): string {
  const { halted, liveApproved, users } = result;
  const lines = users.slice(0, maxUsersListed).map((u) => {
    const flags = [u.paused ? 'paused' : null, u.killSwitch.engaged ? 'kill switch' : null, u.liveApproved ? 'live approved' : null].filter((x) => x !== null);
    return escapeHtml(
      `  ${u.userId}: ${u.mode} ${u.status}, capital ${usd(u.capitalUsd)}, equity ${usd(u.equityUsd)}${flags.length > 0 ? ` [${flags.join(', ')}]` : ''}`,
    );
  });
  return [
    `👥 Users (${users.length})${halted ? ' — ⛔ trading halted' : ''}`,
    ...(lines.length > 0 ? lines : ['  no sessions']),
    ...(users.length > maxUsersListed ? [`  … and ${users.length - maxUsersListed} more`] : []),
    `Live approved: ${liveApproved.length > 0 ? escapeHtml(liveApproved.join(', ')) : 'nobody'}`,
  ].join('\n');
}

function formatDone(reply: AnsweredReply, view: StatusView | null): string {
  switch (reply.commandType) {
    case 'session.start': {
      const v = reply.result;
      if (v === null) return '✅ Session started.';
      return [`✅ Session started: ${v.mode}, capital ${usd(v.capitalUsd)}`, `${stopLossHtml(v)}  ${horizonHtml(v)}`].join('\n');
    }
    case 'session.exit':
      return exitDoneHtml(reply.result);
    case 'session.stop':
      return reply.status === 'done' ? `✅ Session closed, flat. Realized PnL: ${signedUsd(reply.result.realizedPnlUsd)}` : generic('/stop', reply.result);
    case 'session.set_stoploss':
      return `✅ Stop-loss set to ${pct(reply.result.stopLossPct)} of capital.`;
    case 'session.set_horizon':
      return `✅ Horizon set: positions are flattened at ${escapeHtml(reply.result.horizonDeadline.replace(/\.\d+Z$/, '').replace('T', ' '))} UTC.`;
    case 'session.pause':
    case 'session.resume': {
      const note = reply.result.note !== null && reply.result.note.length > 0 ? ` ${escapeHtml(reply.result.note)}` : '';
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
      return `✅ ${escapeHtml(r.userId)}: live trading ${r.liveApproved ? 'approved' : 'not approved'}${disabled}.`;
    }
    case 'signals.route':
      return generic(reply.commandType, reply.result);
  }
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
          return truncateHtml(rejectedHtml(e.commandType, e.reason));
        case 'accepted': {
          // Only session.stop is answered "accepted" today; a later engine may accept others first.
          const type: string = e.commandType;
          return truncateHtml(
            type === 'session.stop'
              ? '⏳ Stopping: cancelling orders and flattening; you will get "done" once flat.'
              : `⏳ ${escapeHtml(chatWord(type))} accepted`,
          );
        }
        case 'done':
          return truncateHtml(formatDone(e, view));
      }
      return null;
    case 'alert':
      return truncateHtml(escapeHtml(`${(Object.hasOwn(alertIcons, e.kind) ? alertIcons[e.kind] : undefined) ?? '🔔'} Alert (${e.kind}): ${e.message}`));
    default:
      return null;
  }
}
