import type { Command, CommandFields, CommandType } from '../../contract/commands.js';
import {
  buildCommand,
  defaultTradesListed,
  idPattern,
  maxCapitalUsd,
  maxHorizonHours,
  maxIdChars,
  maxReasonChars,
  maxTradesListed,
} from '../../contract/commands.js';
import { engineUserId } from './config.js';
import { maxDailyDays } from '../../core/round-trips.js';
import type { NotifyRequest } from './notify.js';
import { parseNotifyArgs } from './notify.js';

/** Days /daily shows when not told. */
export const defaultDailyDays = 7;

// Telegram text + sender → what the bot should do. Pure: the clock is an argument. The engine validates every
// command again with its own schema; this parser is there to answer mistakes in the chat right away, so
// nothing half-formed is ever appended.

export type StatusView = 'status' | 'positions' | 'pnl';

export interface Sender {
  telegramUserId: number;
  chatId: number;
  messageId: number;
  isAdmin: boolean;
}

/** A command the bot appends: built (and checked) by the contract's buildCommand. */
export type EngineCommand = Command;

export type BotAction =
  | { kind: 'help' }
  /** confirmed: the user already confirmed (`/stop confirm`); a /stop or /halt_all without it is asked first (confirm.ts). */
  | { kind: 'engine'; command: EngineCommand; view: StatusView | null; confirmed?: true }
  | { kind: 'connect'; apiKey: string; apiSecret: string }
  | { kind: 'disconnect' }
  /** Closed trades, computed by the bot from the fill ledger (src/services/closed-trades.ts); `days` for /daily. */
  | { kind: 'history'; what: 'profit' | 'daily' | 'performance'; days: number }
  /** Notification settings, kept by the bot itself (notify.ts, notify-store.ts). */
  | { kind: 'notify'; request: Exclude<NotifyRequest, { kind: 'error' }> }
  /** The collected digest, sent now. */
  | { kind: 'digest' }
  | { kind: 'error'; message: string }
  | { kind: 'not_a_command' };

export interface BotCommandSpec {
  command: string;
  usage: string;
  description: string;
  admin: boolean;
}

/** Every bot command, in help order: the source of /help and setMyCommands. */
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

const maxCredentialChars = 256;

/** `/name@botname args` → name (lower case) and args; null when the text is not a command. */
export function splitCommand(text: string): { name: string; args: string[]; rest: string } | null {
  const trimmed = text.trim();
  if (!trimmed.startsWith('/')) return null;
  const match = /^\/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(trimmed);
  if (!match?.[1]) return { name: '', args: [], rest: '' };
  const rest = (match[2] ?? '').trim();
  return { name: match[1].toLowerCase(), args: rest.length > 0 ? rest.split(/\s+/) : [], rest };
}

/** True when the text is a /connect command (whatever its arguments): such messages are deleted first. */
export function isConnectCommand(text: string): boolean {
  return splitCommand(text)?.name === 'connect';
}

function parseNumber(text: string | undefined, what: string, usage: string): number | string {
  if (text === undefined) return `${what} is missing. Usage: ${usage}`;
  const cleaned = text.replace(/%$/, '');
  // A number, but not above zero: say what is wrong with it, not that it is no number.
  if (/^-(\d+(\.\d*)?|\.\d+)$/.test(cleaned)) return `${what} must be a positive number, got "${text.slice(0, 20)}". Usage: ${usage}`;
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(cleaned)) return `${what} must be a number, got "${text.slice(0, 20)}". Usage: ${usage}`;
  return Number(cleaned);
}

type NumberCheck = { ok: true; value: number } | { ok: false; message: string };

function number(text: string | undefined, what: string, usage: string, check: (n: number) => string | null): NumberCheck {
  const parsed = parseNumber(text, what, usage);
  if (typeof parsed === 'string') return { ok: false, message: parsed };
  const problem = check(parsed);
  return problem === null ? { ok: true, value: parsed } : { ok: false, message: `${what} ${problem}. Usage: ${usage}` };
}

const pctCheck = (n: number): string | null => (n > 0 && n < 100 ? null : 'must be above 0 and below 100');
const hoursCheck = (n: number): string | null => (n > 0 && n <= maxHorizonHours ? null : `must be above 0 and at most ${maxHorizonHours}`);
const capitalCheck = (n: number): string | null =>
  n <= 0 ? 'must be a positive number' : n <= maxCapitalUsd ? null : `must be at most ${maxCapitalUsd.toLocaleString('en-US')} USD`;

function usageOf(name: string): string {
  return botCommandSpecs.find((s) => s.command === name)?.usage ?? `/${name}`;
}

export interface ParseInput {
  text: string;
  sender: Sender;
  /**
   * The bot's own Telegram id. Command ids are tg-<bot>-<chat>-<message>: unique (a message id is unique in its
   * chat, a chat is between one user and one bot) and deterministic, so an update Telegram delivers twice (a
   * crash before its offset was confirmed) becomes the same command, which the engine de-duplicates.
   */
  botId: number;
  nowMs: number;
  /**
   * A keyboard press (keyboard.ts) has no message of its own: its command id is tg-<bot>-<chat>-cb<callback query
   * id> instead (a press Telegram delivers twice is the same command again).
   */
  callbackQueryId?: string;
}

const confirmed = (action: BotAction): BotAction => (action.kind === 'engine' ? { ...action, confirmed: true } : action);

/** Pure: the bot action for one message. */
export function parseBotCommand(input: ParseInput): BotAction {
  const split = splitCommand(input.text);
  if (split === null) return { kind: 'not_a_command' };
  const { name, args, rest } = split;
  const { sender } = input;
  const spec = botCommandSpecs.find((s) => s.command === name);
  if (!spec) return { kind: 'error', message: `Unknown command /${name || '?'}. Send /help for the list.` };
  if (spec.admin && !sender.isAdmin) return { kind: 'error', message: `/${name} is for admins only.` };

  const userId = engineUserId(sender.telegramUserId);
  const id =
    input.callbackQueryId === undefined
      ? `tg-${input.botId}-${sender.chatId}-${sender.messageId}`
      : `tg-${input.botId}-${sender.chatId}-cb${input.callbackQueryId.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, maxIdChars);
  type OwnFields<T extends CommandType> = Omit<CommandFields<T>, 'id' | 'userId' | 'source' | 'issuedAtMs'>;
  const engine = <T extends CommandType>(type: T, fields: OwnFields<T>, view: StatusView | null = null): BotAction => {
    const built = buildCommand(type, { id, userId, source: 'telegram', issuedAtMs: input.nowMs, ...fields } as CommandFields<T>);
    return built.ok ? { kind: 'engine', command: built.command, view } : { kind: 'error', message: built.reason };
  };
  const noArgs = (type: 'session.stop' | 'session.pause' | 'session.resume' | 'admin.resume_all' | 'admin.users'): BotAction =>
    args.length === 0 ? engine(type, {}) : { kind: 'error', message: `/${name} takes no arguments. Usage: ${spec.usage}` };

  switch (name) {
    case 'start':
    case 'help':
      return { kind: 'help' };
    case 'session': {
      const usage = spec.usage;
      const [mode, capitalText, stopText, horizonText, ...extra] = args;
      if (mode !== 'paper' && mode !== 'live') return { kind: 'error', message: `Mode must be paper or live. Usage: ${usage}` };
      if (extra.length > 0) return { kind: 'error', message: `Too many arguments. Usage: ${usage}` };
      const capital = number(capitalText, 'Capital', usage, capitalCheck);
      if (!capital.ok) return { kind: 'error', message: capital.message };
      const stop = stopText === undefined ? null : number(stopText, 'Stop-loss %', usage, pctCheck);
      if (stop && !stop.ok) return { kind: 'error', message: stop.message };
      const horizon = horizonText === undefined ? null : number(horizonText, 'Horizon (hours)', usage, hoursCheck);
      if (horizon && !horizon.ok) return { kind: 'error', message: horizon.message };
      return engine('session.start', {
        mode,
        capitalUsd: capital.value,
        ...(stop?.ok ? { stopLossPct: stop.value } : {}),
        ...(horizon?.ok ? { horizonHours: horizon.value } : {}),
      });
    }
    case 'stop':
      // `/stop confirm`: the text alternative to the Confirm button, for clients that show no inline keyboards.
      if (args.length === 1 && args[0]?.toLowerCase() === 'confirm') return confirmed(engine('session.stop', {}));
      return noArgs('session.stop');
    case 'pause':
      return noArgs('session.pause');
    case 'resume':
      return noArgs('session.resume');
    case 'status':
    case 'positions':
    case 'pnl':
      return args.length === 0 ? engine('status', {}, name) : { kind: 'error', message: `/${name} takes no arguments.` };
    case 'trades': {
      if (args.length > 1) return { kind: 'error', message: `Too many arguments. Usage: ${spec.usage}` };
      if (args[0] === undefined) return engine('trades', { limit: defaultTradesListed });
      const n = args[0];
      if (!/^\d+$/.test(n) || Number(n) < 1 || Number(n) > maxTradesListed) {
        return { kind: 'error', message: `n must be a whole number from 1 to ${maxTradesListed}, got "${n.slice(0, 20)}". Usage: ${spec.usage}` };
      }
      return engine('trades', { limit: Number(n) });
    }
    case 'exit': {
      const [symbol, ...extra] = args;
      if (symbol === undefined || extra.length > 0) return { kind: 'error', message: `Name one symbol. Usage: ${spec.usage}` };
      if (!/^[A-Za-z0-9]{2,20}$/.test(symbol)) return { kind: 'error', message: `A symbol is letters and digits, like BTCUSDT. Usage: ${spec.usage}` };
      return engine('session.exit', { symbol: symbol.toUpperCase() });
    }
    case 'profit':
    case 'performance':
      return args.length === 0 ? { kind: 'history', what: name, days: 0 } : { kind: 'error', message: `/${name} takes no arguments.` };
    case 'daily': {
      if (args.length > 1) return { kind: 'error', message: `Too many arguments. Usage: ${spec.usage}` };
      const n = args[0] ?? String(defaultDailyDays);
      if (!/^\d+$/.test(n) || Number(n) < 1 || Number(n) > maxDailyDays)
        return { kind: 'error', message: `days must be a whole number from 1 to ${maxDailyDays}, got "${n.slice(0, 20)}". Usage: ${spec.usage}` };
      return { kind: 'history', what: 'daily', days: Number(n) };
    }
    case 'set_stoploss': {
      if (args.length > 1) return { kind: 'error', message: `Too many arguments. Usage: ${spec.usage}` };
      const pct = number(args[0], 'Stop-loss %', spec.usage, pctCheck);
      return pct.ok ? engine('session.set_stoploss', { pct: pct.value }) : { kind: 'error', message: pct.message };
    }
    case 'set_horizon': {
      if (args.length > 1) return { kind: 'error', message: `Too many arguments. Usage: ${spec.usage}` };
      const hours = number(args[0], 'Horizon (hours)', spec.usage, hoursCheck);
      return hours.ok ? engine('session.set_horizon', { hours: hours.value }) : { kind: 'error', message: hours.message };
    }
    case 'connect': {
      // Never echo the arguments: they are credentials.
      const [apiKey, apiSecret, ...extra] = args;
      if (apiKey === undefined || apiSecret === undefined || extra.length > 0) {
        return { kind: 'error', message: `Send exactly two values. Usage: ${spec.usage}` };
      }
      if (apiKey.length > maxCredentialChars || apiSecret.length > maxCredentialChars) {
        return { kind: 'error', message: `API key and secret must be at most ${maxCredentialChars} characters each.` };
      }
      return { kind: 'connect', apiKey, apiSecret };
    }
    case 'notify': {
      const request = parseNotifyArgs(args, spec.usage);
      return request.kind === 'error' ? { kind: 'error', message: request.message } : { kind: 'notify', request };
    }
    case 'digest':
      return args.length === 0 ? { kind: 'digest' } : { kind: 'error', message: `/digest takes no arguments.` };
    case 'disconnect':
      return args.length === 0 ? { kind: 'disconnect' } : { kind: 'error', message: `/disconnect takes no arguments.` };
    case 'halt_all': {
      // `/halt_all confirm [reason]` skips the question (a reason that starts with the word "confirm" needs the buttons).
      const direct = args[0]?.toLowerCase() === 'confirm';
      const reason = direct ? rest.slice(args[0]?.length ?? 0).trim() : rest;
      if (reason.length > maxReasonChars) return { kind: 'error', message: `The reason may be at most ${maxReasonChars} characters.` };
      const halt = engine('admin.halt_all', reason.length > 0 ? { reason } : {});
      return direct ? confirmed(halt) : halt;
    }
    case 'resume_all':
      return noArgs('admin.resume_all');
    case 'users':
      return noArgs('admin.users');
    case 'approve_live': {
      const [target, ...extra] = args;
      if (target === undefined || extra.length > 0) return { kind: 'error', message: `Name exactly one user. Usage: ${usageOf('approve_live')}` };
      const targetUserId = /^\d{1,20}$/.test(target) ? engineUserId(target) : target;
      if (targetUserId.length > maxIdChars || !idPattern.test(targetUserId))
        return { kind: 'error', message: 'A user is a Telegram user id (a number) or an engine user id (letters, digits and . _ : -).' };
      return engine('admin.approve_live', { targetUserId, approved: true });
    }
    default:
      return { kind: 'error', message: `Unknown command /${name}. Send /help for the list.` };
  }
}
