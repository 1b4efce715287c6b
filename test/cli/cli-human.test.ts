import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReplyEvent } from '../../src/contract/outbound.js';
import { openSqliteLog } from '../../src/log/sqlite-log.js';
import { replyLines } from '../../src/services/cli/format.js';
import { parseCli, splitArgs } from '../../src/services/cli/parse.js';
import { runCli } from '../../src/services/cli/run-cli.js';
import { useHarness } from '../support/harness.js';
import { redisUrl } from '../support/redis.js';

// Issue 15 item 6: the CLI for people (readable answers, --json for scripts), arguments checked before anything
// is appended, no database created by a typo, no implicit admin.

const dir = mkdtempSync(join(tmpdir(), 'qe-cli-human-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** An engine database with nothing in it: what a running `npm start` leaves, minus the engine. */
async function emptyEngineDb(name: string): Promise<string> {
  const path = join(dir, name);
  const log = await openSqliteLog({ path, limits: {} });
  await log.init();
  await log.close();
  return path;
}

async function commandsIn(path: string): Promise<number> {
  const log = await openSqliteLog({ path, limits: {} });
  await log.init();
  try {
    return await log.commandEntryCount();
  } finally {
    await log.close();
  }
}

describe('cli arguments are checked before anything is sent', () => {
  const refusal = (...argv: string[]): string => {
    try {
      parseCli(splitArgs(argv));
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error(`accepted: ${argv.join(' ')}`);
  };

  it('names the valid commands and flags for a typo', () => {
    expect(refusal('--user', 'al', 'stat')).toMatch(/unknown command "stat"; the commands are: .*start, stop, exit, .*status/);
    expect(refusal('--user', 'al', 'status', '--jsn')).toMatch(/unknown flag --jsn for status; it takes: .*--json/);
    expect(refusal('--user', 'al', 'start', 'paper', '100', '--stop-loss', '5')).toMatch(/unknown flag --stop-loss for start; it takes: .*--stoploss/);
    expect(refusal('--user', 'al', 'stop', 'now')).toMatch(/stop takes 0 arguments, got 1: unexpected "now"/);
  });

  it("range-checks numbers with the engine's own limits", () => {
    // The range in words, with its bound ("Too small: expected number to be >0" before).
    expect(refusal('--user', 'al', 'start', 'paper', '-5')).toBe('capital: must be more than 0');
    expect(refusal('--user', 'al', 'start', 'paper', '2000000000')).toBe('capital: must be at most 1,000,000,000');
    expect(refusal('--user', 'al', 'start', 'paper', '100', '--stoploss', '100')).toBe('--stoploss: must be above 0 and below 100 (percent of capital)');
    expect(refusal('--user', 'al', 'start', 'paper', '100', '--leverage', '200')).toMatch(/--leverage: leverage must be at most 125/);
    expect(refusal('--user', 'al', 'start', 'paper', '100', '--leverage', '2.5')).toMatch(/whole number/);
    expect(refusal('--user', 'al', 'start', 'paper', '100', '--horizon', '0')).toBe('--horizon: must be above 0 and at most 8784 (366 days)');
    expect(refusal('--user', 'al', 'set-stoploss', '0')).toBe('stop-loss percent: must be above 0 and below 100 (percent of capital)');
    expect(refusal('route', 'BTCUSDT=1.5')).toBe('signals.0.weight: must be from -1 (all short) to 1 (all long)');
    expect(refusal('inspect', 'wal', '--last', '0')).toMatch(/--last must be a whole number of at least 1/);
    expect(parseCli(splitArgs(['--user', 'al', 'start', 'paper', '100', '--leverage', '5']))).toMatchObject({ command: { leverage: 5 } });
  });

  it('has no implicit identity: engine commands need --user (the route source keeps its own name)', () => {
    for (const verb of [['status'], ['users'], ['halt'], ['approve-live', 'al']]) expect(refusal(...verb)).toMatch(/needs --user ID/);
    expect(parseCli(splitArgs(['--user', 'operator', 'users']))).toMatchObject({ command: { type: 'admin.users', userId: 'operator' } });
    expect(parseCli(splitArgs(['route', 'BTCUSDT=0.1']))).toMatchObject({ command: { userId: 'signals' } });
  });

  it('exits 2 and appends nothing for a typo, a bad number or a missing --user', async () => {
    const path = await emptyEngineDb('typo.db');
    for (const argv of [['stat'], ['status', '--jsn'], ['start', 'paper', '0'], ['set-stoploss', '150'], ['status', '--timeout-ms', '-1']]) {
      const r = await run('--sqlite-path', path, '--user', 'al', ...argv);
      expect(r.code).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(/quant-engine cli help/);
    }
    expect((await run('--sqlite-path', path, 'users')).code).toBe(2);
    expect(await commandsIn(path)).toBe(0);
  });

  it('prints the usage and exits 2 with no command; help exits 0', async () => {
    const none = await run();
    expect(none.code).toBe(2);
    expect(none.err.join('\n')).toMatch(/^no command given\nusage: quant-engine cli/);
    const help = await run('help');
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toMatch(/exit codes: 0 done, 1 refused by the engine.*2 bad usage, 3 no answer/s);
    // --help and -h as most tools take them: the same usage, exit 0.
    for (const flag of ['--help', '-h']) expect(await run(flag)).toMatchObject({ code: 0, out: help.out, err: [] });
  });

  it('refuses a --sqlite-path with no engine database instead of creating one', async () => {
    const missing = join(dir, 'no-such-dir', 'mistyped.db');
    const r = await run('--sqlite-path', missing, '--user', 'al', 'status');
    expect(r).toMatchObject({ code: 2, out: [] });
    expect(r.err).toEqual([`no engine database at ${missing}; is npm start running here? (or pass --sqlite-path / --redis-url)`]);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });
});

describe('cli answers for people', () => {
  const status = (session: Record<string, unknown> | null, halted = false): ReplyEvent =>
    ({ type: 'reply', commandId: 'c1', userId: 'al', commandType: 'status', status: 'done', reason: null, result: { halted, session }, atMs: 0 }) as ReplyEvent;

  it('shows status as a small table, rounded: prices to significant digits, money to cents', () => {
    const lines = replyLines(
      status({
        userId: 'al',
        mode: 'paper',
        status: 'active',
        capitalUsd: 1000,
        stopLossPct: 5,
        horizonDeadline: '2026-12-02T10:00:00.123Z',
        paused: false,
        killSwitch: { engaged: false, reason: null },
        positions: {
          SOLUSDT: { qty: 0.30000000000000004, entryPrice: 149.9036956521739, unrealizedPnlUsd: -0.0249 },
          BTCUSDT: { qty: -0.006, entryPrice: 59973.6, unrealizedPnlUsd: null },
        },
        realizedPnlUsd: -0.02479,
        feesUsd: 1.19081199,
        fundingUsd: 0.005,
        equityUsd: 9998.78439801,
        unrealizedPnlUsd: 0,
        grossExposureUsd: 0,
        unpricedSymbols: [],
        openOrders: [],
      }),
    );
    expect(lines).toEqual([
      'al: paper session active · capital $1,000.00 · stop-loss 5% · horizon 2026-12-02T10:00:00Z',
      'symbol   side   qty    entry    mark      notional  uPnL',
      'BTCUSDT  short  0.006  59973.6  no quote  -         no quote',
      'SOLUSDT  long   0.3    149.904  no quote  -         -$0.02',
      'realized -$0.02 · fees $1.19 · funding $0.01 · equity $9,998.78',
    ]);
  });

  it('says what to do when there is no session, and a refusal is one line', () => {
    expect(replyLines(status(null, true))).toEqual([
      'trading is halted for everyone (an admin resumes it: resume-all)',
      'no session for al; start one: start paper <capitalUsd>',
    ]);
    const refused = {
      type: 'reply',
      commandId: 'c',
      userId: 'al',
      commandType: 'admin.users',
      status: 'rejected',
      reason: 'admin only',
      result: null,
      atMs: 0,
    };
    expect(replyLines(refused as ReplyEvent)).toEqual(['refused: admin only']);
  });
});

describe('cli against a running engine', () => {
  const harness = useHarness({ label: 'cli-human' });
  const cli = (...argv: string[]) => run('--redis-url', redisUrl, '--redis-prefix', harness().prefix, '--timeout-ms', '20000', ...argv);

  it('answers in words by default and in JSON with --json; a refusal exits 1 with one line', async () => {
    const started = await cli('--user', 'cli-human', 'start', 'paper', '1500', '--stoploss', '4');
    expect(started.code).toBe(0);
    expect(started.out[0]).toBe('started');
    expect(started.out[1]).toMatch(
      /^cli-human: paper session active for < 1m · capital \$1,500\.00 · stop-loss 4%: floor \$1,440\.00, equity \$60\.00 above it/,
    );

    const human = await cli('--user', 'cli-human', 'status');
    expect(human.code).toBe(0);
    expect(human.out.join('\n')).toMatch(/realized -?\$\d+\.\d\d · fees \$\d+\.\d\d · funding -?\$\d+\.\d\d · equity \$[\d,]+\.\d\d/);
    expect(() => JSON.parse(human.out[0] ?? '')).toThrow();

    const json = await cli('--user', 'cli-human', 'status', '--json');
    expect(JSON.parse(json.out[0] ?? '{}')).toMatchObject({ type: 'reply', status: 'done', result: { session: { userId: 'cli-human', capitalUsd: 1500 } } });

    const notAdmin = await cli('--user', 'cli-human', 'users');
    expect(notAdmin).toMatchObject({ code: 1, out: [] });
    expect(notAdmin.err).toHaveLength(1);
    expect(notAdmin.err[0]).toMatch(/^refused: /);

    const admin = await cli('--user', 'operator', 'users');
    expect(admin.code).toBe(0);
    expect(admin.out[1]).toMatch(/^user +mode +status +capital +equity +live approved$/);
    expect(admin.out.some((l) => /^cli-human +paper +active +\$1,500\.00/.test(l))).toBe(true);
  });
});
