import type { CommandType } from '../../contract/commands.js';
import type { StatusResult, TradesResult, UsersResult } from '../../contract/command-results.js';
import type { AnsweredReply } from '../../contract/outbound.js';
import type { StatusView } from './parse-command.js';
import type { ReplyResult } from '../../contract/command-results.js';
import type { SessionSummary } from '../../contract/session-summary.js';
import { dailyProfit, performanceBySymbol, profitSummary } from '../../core/round-trips.js';
import type { SymbolResult } from '../../core/round-trips.js';
import type { ClosedTradesRead } from '../closed-trades.js';
import { maxRoundTripLedgerEntries } from '../closed-trades.js';
import { horizonLeft, killSwitchLine, sessionAge, stopLossStanding } from '../trader-view.js';
import { isDecimal, toDecimal } from '../../model/decimal.js';
import type { FillGroup } from './fill-groups.js';
import { averagePrice } from './fill-groups.js';
import type { NotifyMode, NotifyPrefs, NotifyProblem } from './notify.js';
import { modeFor, notifyModes, riskAlertKinds, switchableAlertKinds } from './notify.js';

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

/**
 * A closed session's result: its net and what it comes from. An answer written before the engine gave fees and
 * funding (the log keeps those) says the realized PnL, as it did then.
 */
function stopDoneHtml(r: ReplyResult<'session.stop', 'done'>): string {
  if (r.netPnlUsd === undefined || r.feesUsd === undefined || r.fundingUsd === undefined)
    return `✅ Session closed, flat. Realized PnL: ${signedUsd(r.realizedPnlUsd)}`;
  return `✅ Session closed, flat. Net: <b>${signedUsd(r.netPnlUsd)}</b> (realized ${signedUsd(r.realizedPnlUsd)}, fees ${signedUsd(-r.feesUsd)}, funding ${signedUsd(r.fundingUsd)})`;
}

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
  const standing = stopLossStanding(s);
  if (standing === null) return `Stop-loss: ${pct(s.stopLossPct)}`;
  const distance = standing.distanceUsd;
  const where = distance === null ? '' : `, equity ${usd(Math.abs(distance))} ${distance >= 0 ? 'above' : 'below'} it`;
  return `Stop-loss: ${pct(s.stopLossPct)} — floor ${usd(standing.floorUsd)}${where}`;
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
  // A closed session keeps its kill switch engaged; the kill switch's line says why it ended (trader-view.ts).
  const flags = [s.paused ? 'paused' : null, s.killSwitch.engaged && s.status !== 'closed' ? 'kill switch ON' : null].filter((x) => x !== null);
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

// --- confirmation of /stop and /halt_all (confirm.ts) ---

/** The question asked before a command that cannot be taken back; answered with the Confirm / Cancel buttons. */
export function confirmQuestionHtml(commandType: CommandType, ttlMs: number): string {
  const what =
    commandType === 'admin.halt_all'
      ? '⛔ <b>Halt all trading?</b> Every session on this engine is flattened and no new orders are placed until /resume_all.'
      : '🛑 <b>Stop your session?</b> Open orders are cancelled and every position is closed at market.';
  const seconds = Math.round(ttlMs / 1000);
  return `${what}\nPress Confirm within ${seconds} s (or send ${escapeHtml(chatWords[commandType])} confirm).`;
}

export const confirmButtonText = '✅ Confirm';
export const cancelButtonText = '✖️ Cancel';

/** The action keyboard's buttons (keyboard.ts), in the words of the commands they type. */
export const keyboardButtonTexts = {
  status: '📊 Status',
  profit: '💰 Profit',
  daily: '📅 Daily',
  stop: '🛑 Stop',
  pause: '⏸ Pause',
  resume: '▶️ Resume',
} as const;

/** Toast for a press on a keyboard button that is not the presser's (or data made up). */
export const foreignKeyboardToast = 'This button is not yours: send /help for your own.';

/** Short texts for the button press itself (answerCallbackQuery shows them as a toast; plain text). */
export const confirmToasts = {
  confirmed: 'Confirmed: sent to the engine.',
  cancelled: 'Cancelled: nothing was sent.',
  stale: 'This button has expired or was already used.',
  foreign: 'This button is not yours.',
} as const;

/** Chat lines after a press (plain words, HTML-safe). */
export function cancelledHtml(commandType: CommandType): string {
  return `✖️ ${escapeHtml(chatWords[commandType])} cancelled: nothing was sent to the engine.`;
}

export function staleConfirmationHtml(): string {
  return '⌛ That confirmation has expired or was already used; nothing was sent. Send the command again to get a fresh one.';
}

// --- grouped fills (fill-groups.ts) ---

/** One order's fills of one window: how many, how much in all, at what average price. */
export function fillGroupHtml(g: FillGroup): string {
  const head = `✅ <b>${escapeHtml(g.side)} ${escapeHtml(g.totalQty)} ${escapeHtml(g.symbol)}</b>`;
  const liquidity = g.liquidity === null ? '' : `, ${g.liquidity}`;
  const fee = g.fee === null ? '' : `, fee ${escapeHtml(g.fee.amount)} ${escapeHtml(g.fee.asset)}`;
  const what = `(${escapeHtml(g.purpose)}${liquidity}${fee}, order ${escapeHtml(g.orderId)})`;
  return g.count === 1
    ? `${head} filled @ ${escapeHtml(averagePrice(g))} ${what}`
    : `${head} filled in ${g.count} fills, avg price ${escapeHtml(averagePrice(g))} ${what}`;
}

// --- /notify and /digest (notify.ts) ---

const modeWords: Record<NotifyMode, string> = {
  on: 'on',
  silent: 'silent (no sound)',
  off: 'off',
  digest: 'digest (collected, sent hourly or on /digest)',
};

const alwaysOnNote = `Always on, with sound: ${[...riskAlertKinds].join(', ')} (money at risk or trading stopped; liquidations come as exchange_close).`;

export function notifyShowHtml(prefs: NotifyPrefs): string {
  return [
    '🔔 <b>Notifications</b>',
    ...switchableAlertKinds.map(
      (k) => `${escapeHtml(k)}: ${modeWords[modeFor(prefs, k)]}${k === 'fill' && modeFor(prefs, k) !== 'off' ? ', grouped per order per minute' : ''}`,
    ),
    alwaysOnNote,
    'Change with /notify &lt;type|all&gt; on|silent|off|digest, e.g. /notify fills digest.',
  ].join('\n');
}

export function notifySetHtml(kinds: readonly string[], mode: NotifyMode, allSwitchable: boolean): string {
  const what = allSwitchable ? 'every switchable alert' : kinds.map((k) => escapeHtml(k)).join(', ');
  return `🔔 ${what}: ${modeWords[mode]}.${allSwitchable ? ` ${alwaysOnNote}` : ''}`;
}

export function alwaysOnHtml(kind: string): string {
  return `⚠️ ${escapeHtml(kind)} alerts are always on and cannot be silenced or switched off. ${alwaysOnNote}`;
}

export const notifySaveFailedText = '⚠️ Your notification settings could not be saved just now; nothing changed. Try again in a moment.';

/** The collected alerts of one user (lines are HTML already, escaped where they were made). */
export function digestHtml(lines: readonly string[], dropped: number): string {
  const more = dropped > 0 ? [`… and ${dropped} more`] : [];
  return [`🗞 <b>Digest</b> (${lines.length + dropped} notification${lines.length + dropped === 1 ? '' : 's'})`, ...lines, ...more].join('\n');
}

export const emptyDigestText = '🗞 Nothing collected for your digest. Choose what goes there with /notify &lt;type&gt; digest.';

// --- help, refusals and key storage (bot.ts, parse-command.ts) ---

export interface BotCommandSpec {
  command: string;
  usage: string;
  description: string;
  admin: boolean;
}

export const botCommandSpecs: readonly BotCommandSpec[] = [
  { command: 'start', usage: '/start', description: 'show this help', admin: false },
  { command: 'help', usage: '/help', description: 'show this help', admin: false },
  { command: 'session', usage: '/session paper|live <capitalUsd> [stoplossPct] [horizonHours]', description: 'start a trading session', admin: false },
  { command: 'stop', usage: '/stop [confirm]', description: 'flatten and close the session (asks to confirm)', admin: false },
  { command: 'status', usage: '/status', description: 'session, positions and equity', admin: false },
  { command: 'positions', usage: '/positions', description: 'open positions and orders', admin: false },
  { command: 'pnl', usage: '/pnl', description: 'profit and loss', admin: false },
  { command: 'trades', usage: '/trades [n]', description: 'your latest fills', admin: false },
  { command: 'profit', usage: '/profit', description: 'closed trades: net profit, win rate, drawdown', admin: false },
  { command: 'daily', usage: '/daily [days]', description: 'profit per UTC day', admin: false },
  { command: 'performance', usage: '/performance', description: 'profit per symbol', admin: false },
  { command: 'exit', usage: '/exit <SYMBOL>', description: 'close one symbol (e.g. /exit BTCUSDT)', admin: false },
  { command: 'set_stoploss', usage: '/set_stoploss <pct>', description: 'stop-loss, % of capital', admin: false },
  { command: 'set_horizon', usage: '/set_horizon <hours>', description: 'flatten after this many hours', admin: false },
  { command: 'pause', usage: '/pause', description: 'no new entries', admin: false },
  { command: 'resume', usage: '/resume', description: 'allow entries again', admin: false },
  { command: 'notify', usage: '/notify [<type|all> on|silent|off|digest]', description: 'which alerts reach you, and how', admin: false },
  { command: 'digest', usage: '/digest', description: 'send the alerts collected for your digest now', admin: false },
  { command: 'connect', usage: '/connect <apiKey> <apiSecret>', description: 'store your Binance API keys (message is deleted)', admin: false },
  { command: 'disconnect', usage: '/disconnect', description: 'delete your stored API keys', admin: false },
  { command: 'halt_all', usage: '/halt_all [confirm] [reason]', description: 'halt all trading (admin; asks to confirm)', admin: true },
  { command: 'resume_all', usage: '/resume_all', description: 'lift the global halt (admin)', admin: true },
  { command: 'users', usage: '/users', description: 'all sessions (admin)', admin: true },
  { command: 'approve_live', usage: '/approve_live <user>', description: 'approve live trading for a user (admin)', admin: true },
];

/** `/help` (and `/start`): what the bot does, then every command the user may send, grouped as a trader uses them. */
export function helpText(isAdmin: boolean): string {
  const line = (s: BotCommandSpec): string => `${s.usage} — ${s.description}`;
  const user = botCommandSpecs.filter((s) => !s.admin && s.command !== 'start').map(line);
  const admin = botCommandSpecs.filter((s) => s.admin).map(line);
  return [
    'Quant Engine bot. Every command goes to the engine; a change gets "received ✓" when it is queued, then the engine\'s answer; a read gets the answer. The buttons below do the same as typing.',
    '',
    ...user,
    ...(isAdmin ? ['', 'Admin:', ...admin] : []),
  ].join('\n');
}

/** The commands shown in Telegram's menu (setMyCommands): everyone's, without /start; admins' own menu has theirs too. */
export function menuCommands(isAdmin = false): { command: string; description: string }[] {
  return botCommandSpecs.filter((s) => (isAdmin || !s.admin) && s.command !== 'start').map((s) => ({ command: s.command, description: s.description }));
}

export const notAllowedText = 'Sorry, this bot is private and you are not on its list of users. Nothing was sent to the engine.';
export const privateChatOnlyText = 'Please talk to me in a private chat: nothing sent in a group reaches the engine.';
export const notACommandText = 'I only understand commands. Send /help for the list.';

/** One notice per burst (rate-limit.ts): the user is told when to try again. */
export function slowDownText(retryInMs: number): string {
  return `Slow down: too many commands. Try again in ${Math.max(1, Math.ceil(retryInMs / 1000))} s. Nothing was sent to the engine.`;
}

/** A command refused before anything was sent (parse-command.ts): the reason, in the user's words. */
export function badCommandText(reason: string): string {
  return `⚠️ ${reason}`;
}

/**
 * Edit distance with a swap of two neighbours as one edit (optimal string alignment: /stauts is one edit from
 * /status), for "did you mean". Commands are short, so the table is a few hundred cells.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row) row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** Typos closer than this (edits) to a command get a "did you mean". */
const maxSuggestionEdits = 2;

/** An unknown command, with the nearest one the user may send when it is a likely typo (/stauts → /status). */
export function unknownCommandText(name: string, isAdmin: boolean): string {
  const shown = name.slice(0, 32) || '?';
  const near = botCommandSpecs
    .filter((s) => isAdmin || !s.admin)
    .map((s) => ({ command: s.command, edits: editDistance(name.toLowerCase(), s.command) }))
    .filter((c) => c.edits <= maxSuggestionEdits && name.length > 1)
    .sort((x, y) => x.edits - y.edits)[0];
  return `Unknown command /${shown}.${near !== undefined ? ` Did you mean /${near.command}?` : ''} Send /help for the list.`;
}

/** Why arguments were refused; every one ends with the usage. */
export const argumentTexts = {
  adminOnly: (name: string) => `/${name} is for admins only.`,
  noArguments: (name: string, usage: string) => `/${name} takes no arguments. Usage: ${usage}`,
  tooMany: (usage: string) => `Too many arguments. Usage: ${usage}`,
  missing: (what: string, usage: string) => `${what} is missing. Usage: ${usage}`,
  notPositive: (what: string, got: string, usage: string) => `${what} must be a positive number, got "${got.slice(0, 20)}". Usage: ${usage}`,
  notANumber: (what: string, got: string, usage: string) => `${what} must be a number, got "${got.slice(0, 20)}". Usage: ${usage}`,
  outOfRange: (what: string, problem: string, usage: string) => `${what} ${problem}. Usage: ${usage}`,
  wholeNumber: (what: string, max: number, got: string, usage: string) =>
    `${what} must be a whole number from 1 to ${max}, got "${got.slice(0, 20)}". Usage: ${usage}`,
  mode: (usage: string) => `Mode must be paper or live. Usage: ${usage}`,
  oneSymbol: (usage: string) => `Name one symbol. Usage: ${usage}`,
  symbolShape: (usage: string) => `A symbol is letters and digits, like BTCUSDT. Usage: ${usage}`,
  twoKeys: (usage: string) => `Send exactly two values, your API key and secret. Usage: ${usage}`,
  keyLength: (max: number) => `API key and secret must be at most ${max} characters each.`,
  reasonLength: (max: number) => `The reason may be at most ${max} characters.`,
  oneUser: (usage: string) => `Name exactly one user. Usage: ${usage}`,
  userShape: () => 'A user is a Telegram user id (a number) or an engine user id (letters, digits and . _ : -).',
  notifyShape: (usage: string) => `Name a type and a mode. Usage: ${usage}`,
  notifyMode: (got: string, usage: string) => `Mode must be one of ${notifyModes.join(', ')}, got "${got.slice(0, 20)}". Usage: ${usage}`,
  notifyType: (got: string, usage: string) => `Unknown type "${got.slice(0, 20)}": one of all, ${switchableAlertKinds.join(', ')}. Usage: ${usage}`,
} as const;

/** Why `/notify` arguments were refused (notify.ts names the problem). */
export function notifyRefusal(error: { problem: NotifyProblem; got: string }, usage: string): string {
  if (error.problem === 'mode') return argumentTexts.notifyMode(error.got, usage);
  if (error.problem === 'type') return argumentTexts.notifyType(error.got, usage);
  return argumentTexts.notifyShape(usage);
}

/** A live /session without stored keys ("not connected"): nothing is sent, and the user is told how to connect. */
export const notConnectedText =
  '⚠️ A live session trades with your own Binance keys, and none are stored for you: send /connect <apiKey> <apiSecret> first (the message is deleted). Nothing was sent.';
export const historyUnreadableText = '⚠️ Your trade history could not be read just now; try again in a moment.';
export const engineUnreachableText = '⚠️ The engine could not be reached; the command may not have been queued. Check with /status before sending it again.';

/** /connect and /disconnect replies: what happened to the keys and to the message that carried them. */
export const keyTexts = {
  deleteFailed: '⚠️ I could not delete your message with the keys: delete it yourself, and consider revoking those keys on Binance.',
  storageOff: '🔒 Key storage is not configured on this engine (no master key), so nothing was stored. Your message was deleted.',
  storeFailed: '⚠️ Your keys could not be stored; nothing was saved. Your message was deleted. Try /connect again in a moment.',
  stored: '🔐 Keys stored, encrypted. Your message was deleted. You can now start a live session: /session live <capitalUsd>.',
  storageOffDisconnect: '🔒 Key storage is not configured on this engine; no keys are stored.',
  deleted: '🔓 Your stored keys were deleted. Live sessions need them again: /connect <apiKey> <apiSecret>.',
  noneStored: 'No keys were stored for you; nothing to delete.',
} as const;

// --- engine answers (format.ts picks which text answers which outbound event) ---

/** Open orders listed in a status before "… and N more". */
const maxOrdersListed = 10;
/** Users listed by /users before "… and N more". */
const maxUsersListed = 50;

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
export function statusHtml(result: StatusResult, view: StatusView): string {
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

/** An exact decimal in its canonical form, without the zeros the exchange pads its prices with ("150.07000" → "150.07"). */
const withoutTrailingZeros = (d: string): string => (isDecimal(d) ? toDecimal(d) : d);

export function tradesHtml(result: TradesResult): string {
  const { trades } = result;
  if (trades.length === 0) return 'No trades yet.';
  return [
    `🧾 Last ${trades.length} trade${trades.length === 1 ? '' : 's'} (newest first):`,
    ...trades.map((t) =>
      escapeHtml(
        `  ${new Date(t.atMs).toISOString().slice(0, 19).replace('T', ' ')} ${t.side} ${qty(Number(t.quantity))} ${t.symbol} @ ${withoutTrailingZeros(t.avgPrice)} (${t.purpose}, ${t.status})`,
      ),
    ),
  ].join('\n');
}

export function usersHtml(result: UsersResult): string {
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

export function doneHtml(reply: AnsweredReply, view: StatusView | null): string {
  switch (reply.commandType) {
    case 'session.start': {
      const v = reply.result;
      if (v === null) return '✅ Session started.';
      const notes = (v.notes ?? []).map((note) => `⚠️ ${escapeHtml(note)}`);
      return [`✅ Session started: ${v.mode}, capital ${usd(v.capitalUsd)}`, stopLossHtml(v), horizonHtml(v), ...notes].join('\n');
    }
    case 'session.exit':
      return exitDoneHtml(reply.result);
    case 'session.stop':
      return reply.status === 'done' ? stopDoneHtml(reply.result) : generic('/stop', reply.result);
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
      return statusHtml(reply.result, view ?? 'status');
    case 'trades':
      return tradesHtml(reply.result);
    case 'admin.users':
      return usersHtml(reply.result);
    case 'admin.halt_all':
    case 'admin.resume_all':
      return reply.result.halted ? '⛔ All trading halted; every session is being flattened.' : '✅ Global halt lifted.';
    case 'admin.approve_live': {
      const r = reply.result;
      const disabled = r.liveTradingEnabled ? '' : ' (note: live trading is disabled on this engine)';
      return `✅ ${escapeHtml(r.userId)}: live trading ${r.liveApproved ? 'approved' : 'not approved'}${disabled}.`;
    }
    case 'signals.route':
      return generic(chatWord(reply.commandType), reply.result);
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
  signal_skipped: '⚠️',
};

/** An alert as the chat shows it: its icon, kind and the engine's words (escaped). */
export function alertHtml(kind: string, message: string): string {
  return escapeHtml(`${(Object.hasOwn(alertIcons, kind) ? alertIcons[kind] : undefined) ?? '🔔'} Alert (${kind}): ${message}`);
}

/** The engine took the command and works on it (a stop flattens first). */
export function acceptedHtml(commandType: string): string {
  return commandType === 'session.stop'
    ? '⏳ Stopping: cancelling orders and flattening; you will get "done" once flat.'
    : `⏳ ${escapeHtml(chatWord(commandType))} accepted`;
}
