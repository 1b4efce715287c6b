import type { CommandType } from '../../contract/commands.js';
import type { ReplyResult } from '../../contract/command-results.js';
import type { SessionSummary } from '../../contract/session-summary.js';
import { dailyProfit, performanceBySymbol, profitSummary } from '../../core/round-trips.js';
import type { SymbolResult } from '../../core/round-trips.js';
import type { ClosedTradesRead } from '../closed-trades.js';
import { maxRoundTripLedgerEntries } from '../closed-trades.js';
import { horizonLeft, killSwitchLine, sessionAge } from '../trader-view.js';

// The bot's message catalogue (issue 15 item 7, started): texts in the user's words (`/session`, not
// `session.start`), in Telegram's HTML parse mode. Everything that comes from elsewhere (an engine reason, a
// symbol, a number) is escaped here, so nothing can break the markup. Pure.

/** Telegram HTML: only <, > and & need escaping (https://core.telegram.org/bots/api#html-style). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Telegram refuses messages over 4096 characters; keep a margin for the truncation note. */
export const maxHtmlMessageChars = 4_000;

/**
 * Cuts an HTML message to fit: a cut could split a tag or an entity, so a long message loses its tags (plain,
 * still escaped text) and the cut backs off to before a split entity.
 */
export function truncateHtml(html: string, max = maxHtmlMessageChars): string {
  if (html.length <= max) return html;
  const note = '\n… (truncated)';
  const plain = html.replace(/<[^>]*>/g, '');
  let cut = plain.slice(0, max - note.length);
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return `${cut}${note}`;
}

/** Each engine command as the user types it in the chat. */
export const chatWords: Record<CommandType, string> = {
  'session.start': '/session',
  'session.stop': '/stop',
  'session.exit': '/exit',
  'session.set_stoploss': '/set_stoploss',
  'session.set_horizon': '/set_horizon',
  'session.pause': '/pause',
  'session.resume': '/resume',
  'signals.route': 'signal routing',
  'admin.halt_all': '/halt_all',
  'admin.resume_all': '/resume_all',
  'admin.approve_live': '/approve_live',
  'admin.users': '/users',
  status: '/status',
  trades: '/trades',
};

export function chatWord(commandType: string | null): string {
  return commandType !== null && Object.hasOwn(chatWords, commandType) ? chatWords[commandType as CommandType] : 'your command';
}

/** Plain text (sent without a parse mode). */
export function receivedText(commandType: CommandType): string {
  return `received ✓ ${chatWords[commandType]}`;
}

export function rejectedHtml(commandType: string | null, reason: string | null): string {
  const why = (reason ?? 'no reason given').replace(/[.\s]+$/, '');
  const hint = /^no running session/.test(why) ? ' Start one with /session paper &lt;capitalUsd&gt;.' : '';
  return `❌ <b>${escapeHtml(chatWord(commandType))}</b> refused: ${escapeHtml(why)}.${hint}`;
}

// --- numbers ---

export function usd(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const rounded = Math.round(value * 100) / 100;
  const sign = rounded < 0 ? '-' : '';
  return `${sign}$${Math.abs(rounded).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function signedUsd(value: number): string {
  return Math.round(value * 100) > 0 ? `+${usd(value)}` : usd(value);
}

const decimalUsd = (d: string): string => signedUsd(Number(d));

export function pct(value: number): string {
  return `${Number(value.toFixed(4))}%`;
}

export function qty(value: number): string {
  return String(Number(value.toPrecision(10)));
}

/** An exact decimal without its sign (quantities and prices as the engine gave them, on the grid). */
const unsigned = (d: string): string => d.replace(/^-/, '');

// --- a trader's status ---

export function stopLossHtml(s: SessionSummary): string {
  if (s.stopLossPct === null) return 'Stop-loss: none';
  const floor = s.stopLossFloorUsd;
  if (floor === undefined || floor === null) return `Stop-loss: ${pct(s.stopLossPct)}`;
  const distance = s.stopLossDistanceUsd;
  const where = distance === undefined || distance === null ? '' : `, equity ${usd(Math.abs(distance))} ${distance >= 0 ? 'above' : 'below'} it`;
  return `Stop-loss: ${pct(s.stopLossPct)} — floor ${usd(floor)}${where}`;
}

export function horizonHtml(s: SessionSummary): string {
  if (s.horizonDeadline === null) return 'Horizon: none';
  const left = horizonLeft(s);
  return left === null
    ? `Horizon: ${escapeHtml(s.horizonDeadline.replace(/\.\d+Z$/, 'Z'))}`
    : `Horizon: ${left === 'reached' ? 'reached' : `flattens ${escapeHtml(left)}`}`;
}

/** One held position: side, size and entry on the grid, then where it could be closed now and what that is worth. */
export function positionHtml(symbol: string, p: SessionSummary['positions'][string]): string {
  const size = typeof p.qtyExact === 'string' ? unsigned(p.qtyExact) : qty(Math.abs(p.qty));
  const entry = typeof p.entryAtTick === 'string' ? p.entryAtTick : qty(p.entryPrice);
  const head = `  <b>${escapeHtml(symbol)}</b> ${p.qty > 0 ? 'long' : 'short'} ${size} @ ${entry}`;
  const mark = typeof p.mark === 'string' ? p.mark : p.exitPrice === null || p.exitPrice === undefined ? null : qty(p.exitPrice);
  if (mark === null) return `${head} · no quote`;
  const notional = p.notionalUsd === null || p.notionalUsd === undefined ? '' : ` · ${usd(p.notionalUsd)}`;
  const upnl = p.unrealizedPnlUsd === null || p.unrealizedPnlUsd === undefined ? '' : ` · uPnL ${signedUsd(p.unrealizedPnlUsd)}`;
  return `${head} · mark ${mark} (${p.qty > 0 ? 'bid' : 'ask'})${notional}${upnl}`;
}

export function sessionHeaderHtml(s: SessionSummary): string {
  const age = sessionAge(s);
  const flags = [s.paused ? 'paused' : null, s.killSwitch.engaged ? 'kill switch ON' : null].filter((x) => x !== null);
  return `${escapeHtml(s.mode)} session, ${escapeHtml(s.status)}${age === null ? '' : `, running ${escapeHtml(age)}`}${flags.length > 0 ? ` — ${flags.join(', ')}` : ''}`;
}

export function killSwitchHtml(s: SessionSummary): string | null {
  const line = killSwitchLine(s, { stop: '/stop', start: '/session' });
  return line === null ? null : `🛑 ${escapeHtml(line.charAt(0).toUpperCase() + line.slice(1))}.`;
}

// --- /exit ---

export function exitDoneHtml(r: ReplyResult<'session.exit', 'done'>): string {
  const cancelled = r.cancelledOrderIds.length > 0 ? ` Cancelled ${r.cancelledOrderIds.length} open order${r.cancelledOrderIds.length === 1 ? '' : 's'}.` : '';
  const symbol = `<b>${escapeHtml(r.symbol)}</b>`;
  return r.flattenOrderId === null
    ? `✅ ${symbol}: nothing held.${cancelled}`
    : `✅ Closing ${symbol}: ${escapeHtml(unsigned(r.qty))} at market (reduce-only). The fill follows.${cancelled}`;
}

// --- closed trades (/profit, /daily, /performance) ---

function readNotes(read: ClosedTradesRead): string[] {
  return [
    ...(read.partial ? [`⚠️ Partial: only your first ${maxRoundTripLedgerEntries} ledger entries were read.`] : []),
    ...(read.unreadable > 0 ? [`⚠️ ${read.unreadable} ledger entries could not be read and are left out.`] : []),
  ];
}

function symbolResult(r: SymbolResult | null): string {
  return r === null ? '–' : `${escapeHtml(r.symbol)} ${decimalUsd(r.netPnlUsd)} (${r.trades} trade${r.trades === 1 ? '' : 's'})`;
}

export function profitHtml(read: ClosedTradesRead): string {
  const p = profitSummary(read.trips);
  if (p.closedTrades === 0)
    return ['💹 <b>Profit</b>', `No closed trades yet${p.openTrades > 0 ? ` (${p.openTrades} open)` : ''}.`, ...readNotes(read)].join('\n');
  return [
    '💹 <b>Profit</b> (closed trades, net of fees and funding)',
    `Trades: ${p.closedTrades} · won ${p.wins} · lost ${p.losses}${p.draws > 0 ? ` · even ${p.draws}` : ''} · win rate ${Math.round(p.winRatePct ?? 0)}%`,
    `Net: <b>${decimalUsd(p.netPnlUsd)}</b> (realized ${decimalUsd(p.realizedPnlUsd)}, fees ${signedUsd(-Number(p.feesUsd))}, funding ${decimalUsd(p.fundingUsd)})`,
    `Best: ${symbolResult(p.bestSymbol)}`,
    `Worst: ${symbolResult(p.worstSymbol)}`,
    `Max drawdown: ${usd(Number(p.maxDrawdownUsd))}`,
    `Open trades: ${p.openTrades}`,
    ...readNotes(read),
  ].join('\n');
}

export function dailyHtml(read: ClosedTradesRead, days: number, nowMs: number): string {
  const rows = dailyProfit(read.trips.closed, days, nowMs).map((d) => `${d.day}  ${decimalUsd(d.netPnlUsd)}  (${d.trades} trade${d.trades === 1 ? '' : 's'})`);
  return [`📅 <b>Daily profit</b> (UTC, last ${days} day${days === 1 ? '' : 's'})`, `<pre>${escapeHtml(rows.join('\n'))}</pre>`, ...readNotes(read)].join('\n');
}

export function performanceHtml(read: ClosedTradesRead): string {
  const rows = performanceBySymbol(read.trips.closed);
  if (rows.length === 0) return ['🏁 <b>Performance</b>', 'No closed trades yet.', ...readNotes(read)].join('\n');
  return [
    '🏁 <b>Performance</b> per symbol (closed trades, net)',
    ...rows.map(
      (r, i) =>
        `${i + 1}. <b>${escapeHtml(r.symbol)}</b> ${decimalUsd(r.netPnlUsd)} · ${r.trades} trade${r.trades === 1 ? '' : 's'} · ${Math.round((r.wins / r.trades) * 100)}% won`,
    ),
    ...readNotes(read),
  ].join('\n');
}
