import type { CheckLine, DoctorLimits } from '../../core/doctor-checks.js';
import { decideChecks, exitCodeOf, formatLine } from '../../core/doctor-checks.js';
import { coreConfigFromEnv, readEnv } from '../../config/env.js';
import type { Env } from '../../config/env.js';
import { paperCredentials } from '../../engine/accounts.js';
import { defaultRecvWindowMs } from '../../exchange/binance/connector.js';
import type { AccountCredentials } from '../../exchange/port.js';
import { defaultRateBudgetLimits } from '../../exchange/rate-budget.js';
import { startSimulator } from '../../paper-exchange/server.js';
import { openKeyStore } from '../../secrets/key-store.js';
import { keyVaultFromEnv } from '../../secrets/key-vault.js';
import { parseFlags } from '../../util/args.js';
import type { DoctorTarget } from './doctor-reads.js';
import { readDoctorFacts } from './doctor-reads.js';

// `quant-engine doctor [--live] [--rest URL --ws URL] [--user U] [--capital USD] [--leverage N]`: read-only checks
// to run before risking money, one line each (`ok|warn|fail  <check>  <detail / what to fix>`); exit 0 when all are
// ok or warn, 1 on any fail, 2 on bad usage. Paper by default (QE_PAPER_REST_URL/WS_URL, or a simulator started
// in process); --live checks Binance (QE_LIVE_REST_URL/WS_URL, /sapi on --spot-rest, default Binance's spot host)
// with the user's stored keys (--user, opened with QE_MASTER_KEY) or QE_API_KEY/QE_API_SECRET.

/** Binance's spot host, where /sapi (the API key's restrictions) lives (https://developers.binance.com/docs/wallet/account/api-key-permission). */
const binanceSpotRestUrl = 'https://api.binance.com';
/** Each read's bound when --timeout-ms is not given. */
const defaultDoctorTimeoutMs = 5_000;
/**
 * Binance refuses a signed request stamped more than 1 000 ms ahead of its clock, and one older than recvWindow
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info, "Timing security").
 */
const clockAheadRefusedMs = 1_000;

export const doctorUsage = `usage: quant-engine doctor [--live] [--rest URL --ws URL] [--spot-rest URL] [--user U]
                          [--capital USD] [--leverage N] [--timeout-ms MS]
  read-only account checks, one line each: ok | warn | fail, with what to fix; exit 1 on any fail`;

export interface DoctorRun {
  lines: CheckLine[];
  exitCode: 0 | 1;
}

/** Reads and decides: the testable whole of the command, without the process around it. */
export async function runDoctorChecks(target: DoctorTarget, limits: DoctorLimits): Promise<DoctorRun> {
  const lines = decideChecks(await readDoctorFacts(target), limits);
  return { lines, exitCode: exitCodeOf(lines) };
}

export function doctorLimits(env: Env, flags: Record<string, string>): DoctorLimits {
  const config = coreConfigFromEnv(env);
  return {
    symbols: config.symbols,
    sessionLeverage: flags.leverage !== undefined ? positiveNumber(flags.leverage, '--leverage') : config.defaultSessionLeverage,
    maxLeverage: config.maxLeverage,
    capitalUsd: flags.capital !== undefined ? positiveNumber(flags.capital, '--capital') : null,
    clockWarnOffsetMs: clockAheadRefusedMs,
    clockFailOffsetMs: defaultRecvWindowMs,
    weightPerMinute: defaultRateBudgetLimits.weightPerMinute,
    reservedForRiskReducingWeight: defaultRateBudgetLimits.reservedForRiskReducingWeight,
  };
}

function positiveNumber(text: string, name: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got "${text}"`);
  return n;
}

class UsageError extends Error {}

async function credentialsFor(env: NodeJS.ProcessEnv, parsedEnv: Env, flags: Record<string, string>, live: boolean): Promise<AccountCredentials> {
  const apiKey = env.QE_API_KEY;
  const apiSecret = env.QE_API_SECRET;
  if (apiKey && apiSecret) return { apiKey, apiSecret };
  const user = flags.user;
  if (!live) return paperCredentials(user ?? 'doctor');
  if (user === undefined) throw new UsageError('--live needs --user U (keys stored with /connect) or QE_API_KEY and QE_API_SECRET');
  const store = await openKeyStore({ redisUrl: parsedEnv.REDIS_URL, redisPrefix: parsedEnv.QE_REDIS_PREFIX, sqlitePath: parsedEnv.QE_SQLITE_PATH });
  try {
    const credentials = await keyVaultFromEnv(store, env).credentials(user);
    if (!credentials) throw new UsageError(`no exchange keys stored for ${user} (store them with /connect)`);
    return credentials;
  } finally {
    await store.close();
  }
}

/** The command: returns the exit code. */
export async function runDoctor(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, print: (text: string) => void = console.log): Promise<number> {
  let flags: Record<string, string>;
  let parsedEnv: Env;
  let limits: DoctorLimits;
  let credentials: AccountCredentials;
  let timeoutMs: number;
  const live = argv.includes('--live');
  try {
    flags = parseFlags(argv);
    parsedEnv = readEnv(env);
    limits = doctorLimits(parsedEnv, flags);
    credentials = await credentialsFor(env, parsedEnv, flags, live);
    timeoutMs = flags['timeout-ms'] !== undefined ? positiveNumber(flags['timeout-ms'], '--timeout-ms') : defaultDoctorTimeoutMs;
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof Error && error.message.startsWith('unexpected argument'))) throw error;
    print(`${error.message}\n${doctorUsage}`);
    return 2;
  }
  const given = flags.rest !== undefined && flags.ws !== undefined ? { rest: flags.rest, ws: flags.ws } : null;
  const configured = live
    ? { rest: parsedEnv.QE_LIVE_REST_URL, ws: parsedEnv.QE_LIVE_WS_URL }
    : parsedEnv.QE_PAPER_REST_URL !== undefined && parsedEnv.QE_PAPER_WS_URL !== undefined
      ? { rest: parsedEnv.QE_PAPER_REST_URL, ws: parsedEnv.QE_PAPER_WS_URL }
      : null;
  // Paper with nothing configured: a simulator of our own, as `all` would start.
  const sim = (given ?? configured) ? null : await startSimulator({ seed: parsedEnv.QE_SIM_SEED });
  const where = given ?? configured ?? { rest: sim?.restBaseUrl ?? '', ws: sim?.wsBaseUrl ?? '' };
  try {
    print(`doctor: ${live ? 'live' : 'paper'} exchange ${where.rest}${sim ? ' (a simulator started for this run)' : ''}`);
    const run = await runDoctorChecks(
      {
        restBaseUrl: where.rest,
        spotRestBaseUrl: flags['spot-rest'] ?? (live && !given ? binanceSpotRestUrl : where.rest),
        wsBaseUrl: where.ws,
        streamRoutes: parsedEnv.QE_STREAM_ROUTES,
        credentials,
        symbols: limits.symbols,
        timeoutMs,
        recvWindowMs: defaultRecvWindowMs,
        nowMs: () => Date.now(),
      },
      limits,
    );
    for (const l of run.lines) print(formatLine(l));
    return run.exitCode;
  } finally {
    await sim?.close();
  }
}
