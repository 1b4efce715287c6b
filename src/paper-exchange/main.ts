// CLI entry: `tsx src/paper-exchange/main.ts --port 9100 --seed 7 [--state PATH]` runs the simulator until
// SIGINT/SIGTERM; with --state it continues from (and keeps its state in) that SQLite file, the generated key pair too.
// `... reset --state PATH --yes` erases the paper accounts in that file (a blank paper account).
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import { liveWriterOf } from '../log/sqlite-writer.js';
import { paperSecretOf } from '../engine/accounts.js';
import { startSimulator } from './server.js';
import type { SimCredentials } from './types.js';
import { keepCredentials, keptCredentials } from './kept-credentials.js';
import { openSqlitePaperState, type PaperStateStore } from './state-store.js';

const defaultCliPort = 9100;

interface CliArgs {
  port: number;
  seed?: number;
  fundingRateBps?: number;
  fundingIntervalMs?: number;
  legacyStreamRoutes?: boolean;
  auth: CliAuth;
  /** SQLite file of the exchange's state; none = in memory, blank at every start. */
  statePath?: string;
  /** `reset`: confirmed with --yes. */
  yes?: boolean;
}

/**
 * Who may trade: one key pair (given by --api-key/--api-secret or QE_SIM_API_KEY/QE_SIM_API_SECRET, else generated
 * at start and printed), or the engine's paper accounts (--paper-accounts, for `execution` against this simulator),
 * or anyone (--no-auth, signatures unchecked: the old behaviour, never what a venue does).
 */
export type CliAuth = { kind: 'pair'; apiKey: string; apiSecret: string; generated: boolean; kept?: boolean } | { kind: 'paper-accounts' } | { kind: 'none' };

/** A generated pair is replaced by the one the state file kept from an earlier start (kept-credentials.ts). */
function withKeptPair(auth: CliAuth, store: PaperStateStore | undefined): CliAuth {
  if (auth.kind !== 'pair' || !auth.generated || store === undefined) return auth;
  const kept = keptCredentials(store);
  return kept ? { ...auth, ...kept, kept: true } : auth;
}

/** Bytes of randomness in a generated key and secret (Binance's are 64 characters: 32 bytes in hex). */
const generatedCredentialBytes = 32;

function authOf(values: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): CliAuth {
  if (values.get('no-auth') === 'true') return { kind: 'none' };
  if (values.get('paper-accounts') === 'true') return { kind: 'paper-accounts' };
  const apiKey = values.get('api-key') ?? env.QE_SIM_API_KEY;
  const apiSecret = values.get('api-secret') ?? env.QE_SIM_API_SECRET;
  if ((apiKey === undefined) !== (apiSecret === undefined)) throw new Error('--api-key and --api-secret go together');
  if (apiKey !== undefined && apiSecret !== undefined) {
    if (apiKey === '' || apiSecret === '' || apiKey === 'true' || apiSecret === 'true') throw new Error('--api-key and --api-secret need values');
    return { kind: 'pair', apiKey, apiSecret, generated: false };
  }
  return {
    kind: 'pair',
    apiKey: randomBytes(generatedCredentialBytes).toString('hex'),
    apiSecret: randomBytes(generatedCredentialBytes).toString('hex'),
    generated: true,
  };
}

export function credentialsOf(auth: CliAuth): SimCredentials | undefined {
  if (auth.kind === 'none') return undefined;
  if (auth.kind === 'paper-accounts') return paperSecretOf;
  return { [auth.apiKey]: auth.apiSecret };
}

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CliArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) values.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (argv[i + 1] === undefined || argv[i + 1]?.startsWith('--'))
      values.set(arg.slice(2), 'true'); // a switch
    else values.set(arg.slice(2), argv[++i] ?? '');
  }
  const intArg = (name: string): number | undefined => {
    const text = values.get(name);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${text}"`);
    return n;
  };
  const numberArg = (name: string): number | undefined => {
    const text = values.get(name);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${text}"`);
    return n;
  };
  const seed = intArg('seed');
  const statePath = values.get('state');
  if (statePath === 'true' || statePath === '') throw new Error('--state needs a file path');
  // --funding-rate-bps: funding per interval in basis points (negative: shorts pay longs); --funding-interval-ms.
  const fundingRateBps = numberArg('funding-rate-bps');
  const fundingIntervalMs = intArg('funding-interval-ms');
  if (fundingIntervalMs === 0) throw new Error('--funding-interval-ms must be positive');
  return {
    port: intArg('port') ?? defaultCliPort,
    ...(seed !== undefined ? { seed } : {}),
    ...(fundingRateBps !== undefined ? { fundingRateBps } : {}),
    ...(fundingIntervalMs !== undefined ? { fundingIntervalMs } : {}),
    // --legacy-stream-routes: also serve the retired /stream and /ws/<listenKey> paths.
    ...(values.get('legacy-stream-routes') === 'true' ? { legacyStreamRoutes: true } : {}),
    auth: authOf(values, env),
    ...(statePath !== undefined ? { statePath } : {}),
    ...(values.get('yes') === 'true' ? { yes: true } : {}),
  };
}

/**
 * `npm start` keeps its simulator's state in the engine's file: reset under it was written back over by the running
 * exchange (its state is in memory), and the engine traded on as if nothing happened. Refused while an engine holds
 * the file (src/log/sqlite-writer.ts); a file no engine writes (a standalone simulator's) has no claim to check.
 */
function refuseUnderRunningEngine(path: string): void {
  if (!existsSync(path)) return;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const holder = liveWriterOf(db, Date.now(), hostname());
    if (holder) throw new Error(`${holder.what} (pid ${holder.pid} on ${holder.host}) is running on ${path}: stop it first, then reset (nothing was changed)`);
  } finally {
    db.close();
  }
}

/**
 * `simulator reset --state PATH --yes`: erases every paper account in the file (ids and prices continue). Run it
 * with the exchange stopped: a running one holds its state in memory and would write it back. An engine that
 * traded on it sees the blank account at its next start as a reconciliation, with an alert.
 */
function resetCli(args: CliArgs): void {
  if (args.statePath === undefined) throw new Error('reset needs --state PATH (an in-memory exchange is blank at every start)');
  refuseUnderRunningEngine(args.statePath);
  const store = openSqlitePaperState(args.statePath);
  try {
    const accounts = store.load()?.accounts.size ?? 0;
    if (!args.yes) {
      console.log(`this erases ${accounts} paper account(s) in ${args.statePath}: wallets, positions, orders and stops; run again with --yes`);
      process.exitCode = 2;
      return;
    }
    store.reset();
    console.log(`reset ${accounts} paper account(s) in ${args.statePath}`);
  } finally {
    store.close();
  }
}

export async function runSimulatorCli(argv: string[]): Promise<void> {
  const parsed = parseArgs(argv, process.env);
  if (argv[0] === 'reset') {
    resetCli(parsed);
    return;
  }
  const { auth: asked, statePath, yes: _yes, ...simOpts } = parsed;
  const state = statePath !== undefined ? openSqlitePaperState(statePath) : undefined;
  const auth = withKeptPair(asked, state);
  const credentials = credentialsOf(auth);
  const sim = await startSimulator({
    ...simOpts,
    ...(credentials !== undefined ? { credentials } : {}),
    ...(state !== undefined ? { state } : {}),
  });
  // Kept after the start, so a new state file still starts as a new exchange (the restore sees no rows).
  if (state !== undefined && auth.kind === 'pair' && auth.generated && !auth.kept) keepCredentials(state, auth);
  if (statePath !== undefined) console.log(`exchange simulator state ${statePath} (${sim.restored ? 'continued' : 'new'})`);
  console.log(`exchange simulator REST ${sim.restBaseUrl}`);
  console.log(`exchange simulator WS   ${sim.wsBaseUrl}`);
  if (auth.kind === 'pair') {
    // A generated (or kept) pair is printed so a client can be pointed at it; a configured one is never echoed.
    const kept = auth.kept ? ' (kept in the state file)' : '';
    console.log(auth.generated ? `API key    ${auth.apiKey}${kept}\nAPI secret ${auth.apiSecret}` : `API key    ${auth.apiKey} (secret as configured)`);
  } else {
    console.log(auth.kind === 'paper-accounts' ? 'accepting the engine paper accounts (paper-<user>)' : 'no authentication (--no-auth)');
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sim.close();
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  runSimulatorCli(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
