import { randomBytes } from 'node:crypto';
import type { Command, CommandFields, CommandType } from '../../contract/commands.js';
import { buildCommand } from '../../contract/commands.js';

// `quant-engine cli ...` arguments → what to do. Pure; the command is built by the contract's buildCommand,
// so a value the engine would refuse is refused here, before anything is appended.

export type CliAction =
  | { kind: 'command'; command: Command; waitFor: 'result' | 'done' }
  | { kind: 'trades'; userId?: string; sessionId?: string; csv: boolean; last: number | null }
  | { kind: 'inspect-wal'; last: number }
  | { kind: 'inspect-dlq'; last: number }
  | { kind: 'replay-dry-run' }
  | { kind: 'keys-rotate' }
  | { kind: 'keys-generate' }
  | { kind: 'help' };

export interface CliArgs {
  flags: Record<string, string>;
  positionals: string[];
}

export const cliUsage = `usage: quant-engine cli [--redis-url U | --sqlite-path P] [--redis-prefix X] [--user ID] [--timeout-ms N] <command>
commands (appended to the command stream; prints the engine's answer; exit 1 if rejected):
  start <paper|live> <capitalUsd> [--stoploss PCT] [--horizon HOURS]
  stop | status | pause | resume
  set-stoploss <PCT> | set-horizon <HOURS>
  route SYMBOL=WEIGHT [SYMBOL=WEIGHT ...] [--users a,b]     (as the signal source)
  trades [N] [--user U] [--session S] [--csv]   the fill ledger (reads the log): every fill, fee and funding payment,
                                                 exact decimals; N = only the newest N; all users without --user
  halt [REASON] | resume-all | users | approve-live USER [--revoke]   (admin)
exchange keys (sealed with AES-256-GCM under QE_MASTER_KEY):
  keys generate-master       prints a new random master key (base64)
  keys rotate                re-seals every stored key under QE_MASTER_KEY; old keys in QE_MASTER_KEYS_PREVIOUS
inspection (reads the log, changes nothing):
  inspect wal [--last N] | inspect dlq [--last N] | replay --dry-run`;

/** Flags that take no value: the argument after one is never its value. */
const booleanFlags = new Set(['dry-run', 'revoke', 'csv']);

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
  if (text === undefined || text.trim() === '' || !Number.isFinite(value)) throw new Error(`${what} must be a number, got ${JSON.stringify(text ?? '')}`);
  return value;
}

export function parseCli(args: CliArgs): CliAction {
  const [verb, ...rest] = args.positionals;
  const user = args.flags.user ?? 'operator';
  type OwnFields<T extends CommandType> = Omit<CommandFields<T>, 'id' | 'userId' | 'source'> & { userId?: string };
  const command = <T extends CommandType>(type: T, fields: OwnFields<T>, waitFor: 'result' | 'done' = 'result'): CliAction => {
    const built = buildCommand(type, { id: newId(), userId: user, source: 'cli', ...fields } as CommandFields<T>);
    if (!built.ok) throw new Error(built.reason);
    return { kind: 'command', command: built.command, waitFor };
  };
  switch (verb) {
    case undefined:
    case 'help':
      return { kind: 'help' };
    case 'start': {
      const [mode, capital] = rest;
      if (mode !== 'paper' && mode !== 'live') throw new Error('start needs a mode: paper or live');
      return command('session.start', {
        mode,
        capitalUsd: num(capital, 'capitalUsd'),
        ...(args.flags.stoploss !== undefined ? { stopLossPct: num(args.flags.stoploss, 'stoploss') } : {}),
        ...(args.flags.horizon !== undefined ? { horizonHours: num(args.flags.horizon, 'horizon') } : {}),
      });
    }
    case 'stop':
      return command('session.stop', {}, 'done');
    case 'status':
    case 'pause':
    case 'resume':
      return command(verb === 'status' ? 'status' : `session.${verb}`, {});
    case 'set-stoploss':
      return command('session.set_stoploss', { pct: num(rest[0], 'pct') });
    case 'set-horizon':
      return command('session.set_horizon', { hours: num(rest[0], 'hours') });
    case 'halt':
      return command('admin.halt_all', rest.length > 0 ? { reason: rest.join(' ') } : {});
    case 'resume-all':
      return command('admin.resume_all', {});
    case 'users':
      return command('admin.users', {});
    case 'approve-live': {
      if (!rest[0]) throw new Error('approve-live needs the user to approve');
      return command('admin.approve_live', { targetUserId: rest[0], approved: args.flags.revoke !== 'true' });
    }
    case 'trades': {
      const last = rest[0] === undefined ? null : num(rest[0], 'N');
      if (last !== null && !(Number.isInteger(last) && last >= 1)) throw new Error(`N must be a whole number of at least 1, got ${rest[0]}`);
      return {
        kind: 'trades',
        ...(args.flags.user !== undefined ? { userId: args.flags.user } : {}),
        ...(args.flags.session !== undefined ? { sessionId: args.flags.session } : {}),
        csv: args.flags.csv === 'true',
        last,
      };
    }
    case 'keys':
      if (rest[0] === 'rotate') return { kind: 'keys-rotate' };
      if (rest[0] === 'generate-master') return { kind: 'keys-generate' };
      throw new Error('keys what? rotate or generate-master');
    case 'route': {
      if (rest.length === 0) throw new Error('route needs SYMBOL=WEIGHT pairs');
      const signals = rest.map((pair) => {
        const [symbol, weight] = pair.split('=');
        if (!symbol) throw new Error(`bad pair ${pair}`);
        return { symbol: symbol.toUpperCase(), weight: num(weight, `weight of ${symbol}`) };
      });
      return command('signals.route', { userId: args.flags.user ?? 'signals', signals, ...(args.flags.users ? { userIds: args.flags.users.split(',') } : {}) });
    }
    case 'inspect': {
      const last = args.flags.last === undefined ? 50 : num(args.flags.last, 'last');
      if (rest[0] === 'wal') return { kind: 'inspect-wal', last };
      if (rest[0] === 'dlq') return { kind: 'inspect-dlq', last };
      throw new Error('inspect what? wal or dlq');
    }
    case 'replay':
      if (args.flags['dry-run'] !== 'true') throw new Error('replay only runs as --dry-run (it prints the state the WAL rebuilds)');
      return { kind: 'replay-dry-run' };
    default:
      throw new Error(`unknown command ${verb}`);
  }
}
