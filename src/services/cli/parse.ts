import { randomBytes } from 'node:crypto';
import type { Command, CommandFields, CommandType } from '../../contract/commands.js';
import { buildCommand } from '../../contract/commands.js';
import { maxDailyDays } from '../../core/round-trips.js';

/** Days `daily` shows, and closed trades `closed` lists, when not told. */
export const defaultDailyDays = 7;
export const defaultClosedListed = 20;

// `quant-engine cli ...` arguments → what to do. Pure; the command is built by the contract's buildCommand,
// so a value the engine would refuse is refused here, before anything is appended. A word the CLI does not
// know (command, flag, extra argument) is refused here too: sent on, it would only land in the dead-letter queue.

export type CliAction =
  | { kind: 'command'; command: Command; waitFor: 'result' | 'done'; json: boolean }
  /** `json` absent: a table for people (csv wins over both). */
  | { kind: 'trades'; userId?: string; sessionId?: string; csv: boolean; last: number | null; json?: boolean }
  /** Closed trades from the fill ledger, computed here (src/services/closed-trades.ts); `count`: days for daily, newest N for closed. */
  | { kind: 'history'; what: 'profit' | 'daily' | 'performance' | 'closed'; userId: string; count: number; json: boolean }
  | { kind: 'inspect-wal'; last: number }
  | { kind: 'inspect-dlq'; last: number }
  | { kind: 'replay-dry-run' }
  /** Partitions, lease holders and lag of a cluster deployment (reads Redis, changes nothing). */
  | { kind: 'cluster'; json: boolean }
  | { kind: 'keys-rotate'; json: boolean }
  | { kind: 'keys-generate' }
  | { kind: 'help' };

export interface CliArgs {
  flags: Record<string, string>;
  positionals: string[];
}

/** Bad arguments: exit 2, nothing appended. */
export class CliUsageError extends Error {}

export const cliUsage = `usage: quant-engine cli [--sqlite-path P | --redis-url U] [--redis-prefix X] --user ID [--json] [--timeout-ms N] <command>
commands (appended to the command stream; prints the engine's answer):
  start <paper|live> <capitalUsd> [--stoploss PCT] [--horizon HOURS] [--leverage N]
  stop | status | pause | resume
  exit --symbol SYMBOL                                    close one symbol (reduce-only market); the rest keeps trading
  set-stoploss <PCT> | set-horizon <HOURS>
  route SYMBOL=WEIGHT [SYMBOL=WEIGHT ...] [--users a,b]     (as the signal source; --user defaults to "signals")
  trades [N] [--user U] [--session S] [--csv]   the fill ledger (reads the log): every fill, fee and funding payment,
                                                 exact decimals; N = only the newest N; all users without --user
  profit | daily [DAYS] | performance | closed [N]   closed trades (round trips from the fill ledger, net of fees
                                                 and funding): totals and drawdown, per UTC day (7), per symbol, the newest N (20)
  halt [REASON] | resume-all | users | approve-live USER [--revoke]   (admin: --user must be in QE_ADMIN_IDS)
exchange keys (sealed with AES-256-GCM under QE_MASTER_KEY):
  keys generate-master       prints a new random master key (base64)
  keys rotate                re-seals every stored key under QE_MASTER_KEY; old keys in QE_MASTER_KEYS_PREVIOUS
inspection (reads the log, changes nothing):
  inspect wal [--last N] | inspect dlq [--last N] | replay --dry-run
a partitioned log on a Redis Cluster: --cluster-urls U,U,.. --partitions P (or QE_REDIS_CLUSTER_URLS, QE_PARTITIONS);
  commands go to their user's partition (halt, resume-all, users and route without --users to every one, answered
  once all have); inspection and trades read one partition (--partition N, default 0)
  cluster                    every partition: owner worker, fencing token, lease age and remaining, lag (commands
                             not yet read / read but unfinished)
output: a short readable answer; --json prints the engine's reply as JSON (one object per line) for scripts.
exit codes: 0 done, 1 refused by the engine (or a read failed), 2 bad usage, 3 no answer within --timeout-ms.`;

/** Flags every command takes. */
export const globalFlags = ['sqlite-path', 'redis-url', 'cluster-urls', 'partitions', 'partition', 'redis-prefix', 'user', 'json', 'timeout-ms'] as const;

/** Each command: the flags it takes besides the global ones, and how many positional arguments (min, max). */
const verbs: Record<string, { flags: readonly string[]; args: readonly [number, number] }> = {
  help: { flags: [], args: [0, 0] },
  start: { flags: ['stoploss', 'horizon', 'leverage'], args: [2, 2] },
  stop: { flags: [], args: [0, 0] },
  exit: { flags: ['symbol'], args: [0, 0] },
  profit: { flags: [], args: [0, 0] },
  daily: { flags: [], args: [0, 1] },
  performance: { flags: [], args: [0, 0] },
  closed: { flags: [], args: [0, 1] },
  status: { flags: [], args: [0, 0] },
  pause: { flags: [], args: [0, 0] },
  resume: { flags: [], args: [0, 0] },
  'set-stoploss': { flags: [], args: [1, 1] },
  'set-horizon': { flags: [], args: [1, 1] },
  route: { flags: ['users'], args: [1, Infinity] },
  trades: { flags: ['session', 'csv'], args: [0, 1] },
  halt: { flags: [], args: [0, Infinity] },
  'resume-all': { flags: [], args: [0, 0] },
  users: { flags: [], args: [0, 0] },
  'approve-live': { flags: ['revoke'], args: [1, 1] },
  keys: { flags: [], args: [1, 1] },
  inspect: { flags: ['last'], args: [1, 1] },
  replay: { flags: ['dry-run'], args: [0, 0] },
  cluster: { flags: [], args: [0, 0] },
};
export const cliVerbs = Object.keys(verbs);

/** Flags that take no value: the argument after one is never its value. */
const booleanFlags = new Set(['dry-run', 'revoke', 'csv', 'json']);

/** The contract's field names, as the CLI's user typed them. */
const fieldWords: Record<string, string> = {
  capitalUsd: 'capital',
  stopLossPct: '--stoploss',
  horizonHours: '--horizon',
  leverage: '--leverage',
  pct: 'stop-loss percent',
  hours: 'horizon hours',
  symbol: '--symbol',
  userId: '--user',
  targetUserId: 'user to approve',
  reason: 'halt reason',
};

export function splitArgs(argv: readonly string[]): CliArgs {
  const flags: Record<string, string> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      const next = argv[i + 1];
      if (inline !== undefined) flags[name] = inline;
      else if (next !== undefined && !next.startsWith('--') && !booleanFlags.has(name)) {
        flags[name] = next;
        i += 1;
      } else flags[name] = 'true';
    } else positionals.push(arg);
  }
  return { flags, positionals };
}

function newId(): string {
  return `cli-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

function num(text: string | undefined, what: string): number {
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(value))
    throw new CliUsageError(`${what} must be a number, got ${JSON.stringify(text ?? '')}`);
  return value;
}

/** A count the CLI itself uses (N, --last, --timeout-ms): a whole number of at least 1. */
export function wholeAtLeastOne(text: string | undefined, what: string): number {
  const value = num(text, what);
  if (!(Number.isInteger(value) && value >= 1)) throw new CliUsageError(`${what} must be a whole number of at least 1, got ${text}`);
  return value;
}

function checkWords(verb: string, args: CliArgs): void {
  const spec = verbs[verb];
  if (spec === undefined) throw new CliUsageError(`unknown command "${verb}"; the commands are: ${cliVerbs.join(', ')}`);
  const allowed = new Set<string>([...globalFlags, ...spec.flags]);
  for (const flag of Object.keys(args.flags)) {
    if (!allowed.has(flag)) throw new CliUsageError(`unknown flag --${flag} for ${verb}; it takes: ${[...allowed].map((f) => `--${f}`).join(', ')}`);
    if (booleanFlags.has(flag) && args.flags[flag] !== 'true') throw new CliUsageError(`--${flag} takes no value`);
    if (!booleanFlags.has(flag) && args.flags[flag] === 'true') throw new CliUsageError(`--${flag} needs a value`);
  }
  const count = args.positionals.length - 1;
  const [min, max] = spec.args;
  if (count < min || count > max) {
    const extra = count > max ? `: unexpected ${JSON.stringify(args.positionals.slice(1 + max).join(' '))}` : '';
    throw new CliUsageError(`${verb} takes ${min === max ? min : `${min} or more`} argument${max === 1 ? '' : 's'}, got ${count}${extra}`);
  }
}

/** buildCommand's refusal in the CLI's words: `capital: must be more than 0`, not `invalid session.start command: capitalUsd: …`. */
function inCliWords(reason: string): string {
  const issues = reason.replace(/^invalid [\w.]+ command: /, '');
  return issues.replace(/(^|; )(\w+):/g, (_, sep: string, field: string) => `${sep}${fieldWords[field] ?? field}:`);
}

export function parseCli(args: CliArgs): CliAction {
  const [verb, ...rest] = args.positionals;
  if (verb === undefined) throw new CliUsageError('no command given');
  checkWords(verb, args);
  const json = args.flags.json === 'true';
  type OwnFields<T extends CommandType> = Omit<CommandFields<T>, 'id' | 'userId' | 'source'> & { userId?: string };
  const command = <T extends CommandType>(type: T, fields: OwnFields<T>, waitFor: 'result' | 'done' = 'result'): CliAction => {
    // No default identity: the engine decides what this user may do (admin commands need an id in QE_ADMIN_IDS).
    const userId = fields.userId ?? args.flags.user;
    if (userId === undefined) throw new CliUsageError(`${verb} needs --user ID (who is asking; admin commands need an id in QE_ADMIN_IDS)`);
    const built = buildCommand(type, { id: newId(), source: 'cli', ...fields, userId } as CommandFields<T>);
    if (!built.ok) throw new CliUsageError(inCliWords(built.reason));
    return { kind: 'command', command: built.command, waitFor, json };
  };
  switch (verb) {
    case 'help':
      return { kind: 'help' };
    case 'start': {
      const [mode, capital] = rest;
      if (mode !== 'paper' && mode !== 'live') throw new CliUsageError('start needs a mode: paper or live');
      return command('session.start', {
        mode,
        capitalUsd: num(capital, 'capital'),
        ...(args.flags.stoploss !== undefined ? { stopLossPct: num(args.flags.stoploss, '--stoploss') } : {}),
        ...(args.flags.horizon !== undefined ? { horizonHours: num(args.flags.horizon, '--horizon') } : {}),
        ...(args.flags.leverage !== undefined ? { leverage: num(args.flags.leverage, '--leverage') } : {}),
      });
    }
    case 'stop':
      return command('session.stop', {}, 'done');
    case 'exit':
      if (args.flags.symbol === undefined) throw new CliUsageError('exit needs --symbol SYMBOL (e.g. --symbol BTCUSDT)');
      return command('session.exit', { symbol: args.flags.symbol.toUpperCase() });
    case 'profit':
    case 'daily':
    case 'performance':
    case 'closed': {
      const userId = args.flags.user;
      if (userId === undefined) throw new CliUsageError(`${verb} needs --user ID (whose closed trades)`);
      const fallback = verb === 'daily' ? defaultDailyDays : defaultClosedListed;
      const count = rest[0] === undefined ? fallback : wholeAtLeastOne(rest[0], verb === 'daily' ? 'DAYS' : 'N');
      if (verb === 'daily' && count > maxDailyDays) throw new CliUsageError(`DAYS must be at most ${maxDailyDays}, got ${count}`);
      return { kind: 'history', what: verb, userId, count, json };
    }
    case 'status':
    case 'pause':
    case 'resume':
      return command(verb === 'status' ? 'status' : `session.${verb}`, {});
    case 'set-stoploss':
      return command('session.set_stoploss', { pct: num(rest[0], 'stop-loss percent') });
    case 'set-horizon':
      return command('session.set_horizon', { hours: num(rest[0], 'horizon hours') });
    case 'halt':
      return command('admin.halt_all', rest.length > 0 ? { reason: rest.join(' ') } : {});
    case 'resume-all':
      return command('admin.resume_all', {});
    case 'users':
      return command('admin.users', {});
    case 'approve-live':
      return command('admin.approve_live', { targetUserId: rest[0] ?? '', approved: args.flags.revoke !== 'true' });
    case 'trades':
      return {
        kind: 'trades',
        ...(args.flags.user !== undefined ? { userId: args.flags.user } : {}),
        ...(args.flags.session !== undefined ? { sessionId: args.flags.session } : {}),
        csv: args.flags.csv === 'true',
        last: rest[0] === undefined ? null : wholeAtLeastOne(rest[0], 'N'),
        json,
      };
    case 'keys':
      if (rest[0] === 'rotate') return { kind: 'keys-rotate', json };
      if (rest[0] === 'generate-master') return { kind: 'keys-generate' };
      throw new CliUsageError('keys what? rotate or generate-master');
    case 'route': {
      const signals = rest.map((pair) => {
        const [symbol, weight] = pair.split('=');
        // `route BTCUSDT 0.5` is two words without "=": named as such, not as an empty weight of BTCUSDT.
        if (!symbol || weight === undefined) throw new CliUsageError(`bad pair ${JSON.stringify(pair)}; write SYMBOL=WEIGHT (BTCUSDT=0.5)`);
        return { symbol: symbol.toUpperCase(), weight: num(weight, `weight of ${symbol}`) };
      });
      return command('signals.route', { userId: args.flags.user ?? 'signals', signals, ...(args.flags.users ? { userIds: args.flags.users.split(',') } : {}) });
    }
    case 'inspect': {
      const last = args.flags.last === undefined ? 50 : wholeAtLeastOne(args.flags.last, '--last');
      if (rest[0] === 'wal') return { kind: 'inspect-wal', last };
      if (rest[0] === 'dlq') return { kind: 'inspect-dlq', last };
      throw new CliUsageError('inspect what? wal or dlq');
    }
    case 'cluster':
      return { kind: 'cluster', json };
    default: // replay (checkWords refused every other word)
      if (args.flags['dry-run'] !== 'true') throw new CliUsageError('replay only runs as --dry-run (it prints the state the WAL rebuilds)');
      return { kind: 'replay-dry-run' };
  }
}
