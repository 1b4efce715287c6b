// `quant-engine doctor` against the paper exchange over HTTP/WS: a well-configured account passes every check (the
// real command, as a child process), a misconfigured one gets a fail line with what to fix for each problem, a slow
// endpoint is bounded by the timeout, and the run is read-only (GETs, plus a listen key created and deleted).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckLine, DoctorLimits } from '../../src/core/doctor-checks.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import type { DoctorTarget } from '../../src/services/doctor/doctor-reads.js';
import { runDoctor, runDoctorChecks } from '../../src/services/doctor/run-doctor.js';
import { apiClient } from '../paper-exchange/helpers.js';
import { doctorTestLimits } from '../support/doctor-limits.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const limits: DoctorLimits = doctorTestLimits(symbols);

let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 50, seed: 5 });
});
afterAll(async () => {
  await sim.close();
});

const target = (user: string, over: Partial<DoctorTarget> = {}): DoctorTarget => ({
  restBaseUrl: sim.restBaseUrl,
  spotRestBaseUrl: sim.restBaseUrl,
  wsBaseUrl: sim.wsBaseUrl,
  streamRoutes: 'split',
  credentials: paperCredentials(user),
  symbols,
  timeoutMs: 3_000,
  recvWindowMs: 5_000,
  nowMs: () => Date.now(),
  ...over,
});

/** What a careful user does on a fresh account: leverage down to the session's on every traded symbol. */
async function lowerLeverage(user: string, except: string[] = []): Promise<void> {
  const api = apiClient(sim.restBaseUrl, paperCredentials(user).apiKey);
  for (const symbol of symbols.filter((s) => !except.includes(s))) {
    expect((await api.signed('POST', '/fapi/v1/leverage', { symbol, leverage: '5' })).status).toBe(200);
  }
}

const byCheck = (lines: readonly CheckLine[]): Record<string, CheckLine> => Object.fromEntries(lines.map((l) => [l.check, l]));

function runCommand(args: string[]): Promise<{ code: number | null; out: string }> {
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'warn', QE_SYMBOLS: symbols.join(',') };
  delete env.QE_API_KEY;
  delete env.QE_API_SECRET;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'doctor', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

describe('quant-engine doctor', () => {
  it('a well-configured account: every check ok, exit 0', async () => {
    await lowerLeverage('alice');
    const printed: string[] = [];
    const code = await runDoctor(
      ['--rest', sim.restBaseUrl, '--ws', sim.wsBaseUrl, '--user', 'alice', '--capital', '1000'],
      { QE_SYMBOLS: symbols.join(',') },
      (t) => printed.push(t),
    );
    const out = printed.join('\n');
    const lines = printed.filter((l) => /^(ok|warn|fail) /.test(l));
    expect(lines.length, out).toBe(16);
    expect(
      lines.filter((l) => !l.startsWith('ok ')),
      out,
    ).toEqual([]);
    for (const check of [
      'clock offset',
      'api key withdrawals',
      'position mode',
      'multi-assets mode',
      'BTCUSDT settings',
      'balance',
      'stream /public',
      'stream /private',
      'rate-limit headroom',
    ]) {
      expect(out).toContain(check);
    }
    expect(code, out).toBe(0);
  });

  it('`quant-engine doctor` is a command: the same run as a child process exits 0', async () => {
    await lowerLeverage('dave');
    const { code, out } = await runCommand(['--rest', sim.restBaseUrl, '--ws', sim.wsBaseUrl, '--user', 'dave']);
    expect(out.split('\n').filter((l) => l.startsWith('ok ')).length, out).toBe(16);
    expect(code, out).toBe(0);
  }, 120_000); // loading the code in a child process takes seconds, a minute on a busy machine

  it('a fresh account (20x on every symbol) passes: a warning per symbol, exit 0, since each session start sets its leverage', async () => {
    const run = await runDoctorChecks(target('erin'), limits);
    const lines = byCheck(run.lines);
    for (const symbol of symbols) {
      expect(lines[`${symbol} settings`]).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('each session start sets its leverage (5x') });
    }
    expect(run.lines.filter((l) => l.verdict === 'fail')).toEqual([]);
    expect(run.exitCode).toBe(0);
  }, 30_000);

  it('a misconfigured account: hedge mode, multi-assets, BNB fee discount, withdrawals on, futures off, leverage above the session, a skewed clock → fail lines with the fix, exit 1', async () => {
    const user = 'bob';
    const api = apiClient(sim.restBaseUrl, paperCredentials(user).apiKey);
    await lowerLeverage(user, ['BTCUSDT']); // BTCUSDT stays at the venue's default 20x
    expect((await api.signed('POST', '/fapi/v1/marginType', { symbol: 'ETHUSDT', marginType: 'ISOLATED' })).status).toBe(200);
    expect((await api.signed('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'true' })).status).toBe(200);
    expect((await api.signed('POST', '/fapi/v1/multiAssetsMargin', { multiAssetsMargin: 'true' })).status).toBe(200);
    expect((await api.signed('POST', '/fapi/v1/feeBurn', { feeBurn: 'true' })).status).toBe(200);
    const control = await fetch(
      `${sim.restBaseUrl}/sim/v1/apiRestrictions?apiKey=${paperCredentials(user).apiKey}&enableWithdrawals=true&enableFutures=false&ipRestrict=false`,
      { method: 'POST' },
    );
    expect(control.status).toBe(200);

    // This host's clock runs 10 s behind the exchange's.
    const run = await runDoctorChecks(target(user, { nowMs: () => Date.now() - 10_000 }), limits);
    const lines = byCheck(run.lines);
    expect(run.exitCode).toBe(1);
    expect(lines['clock offset']).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('NTP') });
    expect(lines['clock offset']?.detail).toMatch(/behind the exchange/);
    expect(lines['api key trading']).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('futures trading is disabled') });
    expect(lines['api key withdrawals']).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('disable them') });
    expect(lines['api key ip']?.verdict).toBe('warn');
    expect(lines['position mode']).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('dualSidePosition=false') });
    expect(lines['multi-assets mode']).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('multiAssetsMargin=false') });
    expect(lines['BNB fee discount']).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('feeBurn=false') });
    expect(lines['BTCUSDT settings']).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('leverage 20x is above the session') });
    expect(lines['BTCUSDT settings']?.detail).toContain('leverage=5');
    expect(lines['ETHUSDT settings']).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('isolated') });
    expect(lines['SOLUSDT settings']?.verdict).toBe('ok');
    // The skew is measured and compensated: the signed reads after it still got through.
    expect(lines.balance?.verdict).toBe('ok');
  }, 30_000);

  it('is read-only, and bounds every read: a slow endpoint fails its line within the timeout, a missing stream route fails its line', async () => {
    await lowerLeverage('carol');
    const before = sim.requests().length;
    sim.faults.latencyByPathMs['/fapi/v1/multiAssetsMargin'] = 2_000;
    const started = Date.now();
    try {
      const run = await runDoctorChecks(target('carol', { timeoutMs: 400, streamRoutes: 'legacy' }), limits);
      const lines = byCheck(run.lines);
      expect(lines['multi-assets mode']).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('no answer within 400 ms') });
      expect(lines['stream /public']?.verdict).toBe('fail'); // this venue serves only the split routes
      expect(lines['stream /private']?.verdict).toBe('fail');
      expect(lines['position mode']?.verdict).toBe('ok');
      expect(run.exitCode).toBe(1);
    } finally {
      delete sim.faults.latencyByPathMs['/fapi/v1/multiAssetsMargin'];
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    const writes = sim
      .requests()
      .slice(before)
      .filter((r) => r.method !== 'GET')
      .map((r) => `${r.method} ${r.path}`);
    expect(writes).toEqual(['POST /fapi/v1/listenKey', 'DELETE /fapi/v1/listenKey']);
  }, 30_000);

  it('bad usage exits 2 with the reason: --live without keys, a bad number', async () => {
    const printed: string[] = [];
    const print = (text: string): void => void printed.push(text);
    expect(await runDoctor(['--live'], { QE_SYMBOLS: 'BTCUSDT' }, print)).toBe(2);
    expect(printed.join('\n')).toContain('--live needs --user U');
    expect(await runDoctor(['--rest', sim.restBaseUrl, '--ws', sim.wsBaseUrl, '--capital', 'lots'], {}, print)).toBe(2);
    expect(printed.join('\n')).toContain('--capital must be a positive number');
  });

  it("the simulator's key control refuses a flag that is not true or false", async () => {
    const res = await fetch(`${sim.restBaseUrl}/sim/v1/apiRestrictions?apiKey=k&enableWithdrawals=yes`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: number }).code).toBe(-1130);
  });
});
