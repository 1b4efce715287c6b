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
import { argumentTexts as say, botCommandSpecs, notifyRefusal, unknownCommandText } from './messages.js';

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

// The command list (usages and descriptions) is user text: it lives in the catalogue, messages.ts, as does every
// refusal below (argumentTexts).
export type { BotCommandSpec } from './messages.js';
export { botCommandSpecs } from './messages.js';

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
  if (text === undefined) return say.missing(what, usage);
  const cleaned = text.replace(/%$/, '');
  // A number, but not above zero: say what is wrong with it, not that it is no number.
  if (/^-(\d+(\.\d*)?|\.\d+)$/.test(cleaned)) return say.notPositive(what, text, usage);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(cleaned)) return say.notANumber(what, text, usage);
  return Number(cleaned);
}

type NumberCheck = { ok: true; value: number } | { ok: false; message: string };

function number(text: string | undefined, what: string, usage: string, check: (n: number) => string | null): NumberCheck {
  const parsed = parseNumber(text, what, usage);
  if (typeof parsed === 'string') return { ok: false, message: parsed };
  const problem = check(parsed);
  return problem === null ? { ok: true, value: parsed } : { ok: false, message: say.outOfRange(what, problem, usage) };
}

const pctCheck = (n: number): string | null => (n > 0 && n < 100 ? null : 'must be above 0 and below 100');
const hoursCheck = (n: number): string | null => (n > 0 && n <= maxHorizonHours ? null : `must be above 0 and at most ${maxHorizonHours}`);
const capitalCheck = (n: number): string | null =>
  n <= 0 ? 'must be a positive number' : n <= maxCapitalUsd ? null : `must be at most ${maxCapitalUsd.toLocaleString('en-US')} USD`;

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
  if (!spec) return { kind: 'error', message: unknownCommandText(name, sender.isAdmin) };
  if (spec.admin && !sender.isAdmin) return { kind: 'error', message: say.adminOnly(name) };

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
    args.length === 0 ? engine(type, {}) : { kind: 'error', message: say.noArguments(name, spec.usage) };

  switch (name) {
    case 'start':
    case 'help':
      return { kind: 'help' };
    case 'session': {
      const usage = spec.usage;
      const [mode, capitalText, stopText, horizonText, ...extra] = args;
      if (mode !== 'paper' && mode !== 'live') return { kind: 'error', message: say.mode(usage) };
      if (extra.length > 0) return { kind: 'error', message: say.tooMany(usage) };
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
      return args.length === 0 ? engine('status', {}, name) : { kind: 'error', message: say.noArguments(name, spec.usage) };
    case 'trades': {
      if (args.length > 1) return { kind: 'error', message: say.tooMany(spec.usage) };
      if (args[0] === undefined) return engine('trades', { limit: defaultTradesListed });
      const n = args[0];
      if (!/^\d+$/.test(n) || Number(n) < 1 || Number(n) > maxTradesListed)
        return { kind: 'error', message: say.wholeNumber('n', maxTradesListed, n, spec.usage) };
      return engine('trades', { limit: Number(n) });
    }
    case 'exit': {
      const [symbol, ...extra] = args;
      if (symbol === undefined || extra.length > 0) return { kind: 'error', message: say.oneSymbol(spec.usage) };
      if (!/^[A-Za-z0-9]{2,20}$/.test(symbol)) return { kind: 'error', message: say.symbolShape(spec.usage) };
      return engine('session.exit', { symbol: symbol.toUpperCase() });
    }
    case 'profit':
    case 'performance':
      return args.length === 0 ? { kind: 'history', what: name, days: 0 } : { kind: 'error', message: say.noArguments(name, spec.usage) };
    case 'daily': {
      if (args.length > 1) return { kind: 'error', message: say.tooMany(spec.usage) };
      const n = args[0] ?? String(defaultDailyDays);
      if (!/^\d+$/.test(n) || Number(n) < 1 || Number(n) > maxDailyDays)
        return { kind: 'error', message: say.wholeNumber('days', maxDailyDays, n, spec.usage) };
      return { kind: 'history', what: 'daily', days: Number(n) };
    }
    case 'set_stoploss': {
      if (args.length > 1) return { kind: 'error', message: say.tooMany(spec.usage) };
      const pct = number(args[0], 'Stop-loss %', spec.usage, pctCheck);
      return pct.ok ? engine('session.set_stoploss', { pct: pct.value }) : { kind: 'error', message: pct.message };
    }
    case 'set_horizon': {
      if (args.length > 1) return { kind: 'error', message: say.tooMany(spec.usage) };
      const hours = number(args[0], 'Horizon (hours)', spec.usage, hoursCheck);
      return hours.ok ? engine('session.set_horizon', { hours: hours.value }) : { kind: 'error', message: hours.message };
    }
    case 'connect': {
      // Never echo the arguments: they are credentials.
      const [apiKey, apiSecret, ...extra] = args;
      if (apiKey === undefined || apiSecret === undefined || extra.length > 0) return { kind: 'error', message: say.twoKeys(spec.usage) };
      if (apiKey.length > maxCredentialChars || apiSecret.length > maxCredentialChars) return { kind: 'error', message: say.keyLength(maxCredentialChars) };
      return { kind: 'connect', apiKey, apiSecret };
    }
    case 'notify': {
      const request = parseNotifyArgs(args);
      return request.kind === 'error' ? { kind: 'error', message: notifyRefusal(request, spec.usage) } : { kind: 'notify', request };
    }
    case 'digest':
      return args.length === 0 ? { kind: 'digest' } : { kind: 'error', message: say.noArguments(name, spec.usage) };
    case 'disconnect':
      return args.length === 0 ? { kind: 'disconnect' } : { kind: 'error', message: say.noArguments(name, spec.usage) };
    case 'halt_all': {
      // `/halt_all confirm [reason]` skips the question (a reason that starts with the word "confirm" needs the buttons).
      const direct = args[0]?.toLowerCase() === 'confirm';
      const reason = direct ? rest.slice(args[0]?.length ?? 0).trim() : rest;
      if (reason.length > maxReasonChars) return { kind: 'error', message: say.reasonLength(maxReasonChars) };
      const halt = engine('admin.halt_all', reason.length > 0 ? { reason } : {});
      return direct ? confirmed(halt) : halt;
    }
    case 'resume_all':
      return noArgs('admin.resume_all');
    case 'users':
      return noArgs('admin.users');
    case 'approve_live': {
      const [target, ...extra] = args;
      if (target === undefined || extra.length > 0) return { kind: 'error', message: say.oneUser(spec.usage) };
      const targetUserId = /^\d{1,20}$/.test(target) ? engineUserId(target) : target;
      if (targetUserId.length > maxIdChars || !idPattern.test(targetUserId)) return { kind: 'error', message: say.userShape() };
      return engine('admin.approve_live', { targetUserId, approved: true });
    }
    default:
      return { kind: 'error', message: unknownCommandText(name, sender.isAdmin) };
  }
}
