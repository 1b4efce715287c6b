import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { coreConfigFromEnv, readEnv } from '../../src/config/env.js';
import { replayLog } from '../../src/engine/engine.js';
import { openSqliteLog } from '../../src/log/sqlite-log.js';
import type { AlgoOrder } from '../../src/paper-exchange/algo-orders.js';
import { fromJson } from '../../src/paper-exchange/snapshot-of.js';
import { openSqlitePaperState } from '../../src/paper-exchange/state-store.js';
import { runCli } from '../../src/services/cli/run-cli.js';
import { apiClient } from '../paper-exchange/helpers.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { sigkill } from '../support/sigkill.js';
import { waitFor } from '../support/wait.js';

// Issue 17 item 2: `npm start` SIGKILLed while the demo session trades, then started again on the same SQLite
// file. The paper exchange lives in that file too, so after the restart engine and exchange agree: no reconcile
// "corrected" alert, and the session's positions and protective stops are the exchange's.

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qe-all-crash-'));
const sqlitePath = join(dir, 'engine.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Running {
  child: ChildProcess;
  output: () => string;
  simUrl: string;
}

async function startAll(): Promise<Running> {
  const env: NodeJS.ProcessEnv = { ...process.env, QE_SQLITE_PATH: sqlitePath, QE_DASHBOARD_PORT: '0', QE_SIGNAL_PERIOD_MS: '300' };
  delete env.REDIS_URL;
  delete env.TELEGRAM_BOT_TOKEN;
  delete env.QE_SIM_PORT;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'all'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const simUrl = await waitFor(
    'the simulator line',
    () => {
      if (child.exitCode !== null) throw new Error(`quant-engine all exited early:\n${out}`);
      return /simulator \(paper exchange\) at (http:\/\/\S+)/.exec(out)?.[1];
    },
    30_000,
  );
  await waitFor('the running line', () => out.includes('running; Ctrl-C to stop'), 30_000);
  return { child, output: () => out, simUrl };
}

async function postOnlyRefused(simUrl: string): Promise<void> {
  const res = await fetch(`${simUrl}/sim/v1/faults?forcePostOnlyReject=true`, { method: 'POST' });
  expect(res.status).toBe(200);
}

interface SessionView {
  positions: Record<string, { qty: string }>;
}

async function sessionOf(): Promise<SessionView> {
  const out: string[] = [];
  const code = await runCli(['--sqlite-path', sqlitePath, '--user', 'demo', 'status', '--json'], { out: (l) => out.push(l), err: () => undefined });
  expect(code).toBe(0);
  return (JSON.parse(out[0] ?? '{}') as { result: { session: SessionView } }).result.session;
}

describe('npm start survives SIGKILL (issue 17)', () => {
  it('after a SIGKILL while the demo trades, a restart finds engine and paper exchange in agreement', { timeout: 180_000 }, async () => {
    const first = await startAll();
    try {
      // The demo's post-only entries rest until the market trades through them (luck, under a loaded CI): refused
      // post-only, they take the bounded IOC fallback at once.
      await postOnlyRefused(first.simUrl);
      await waitFor('a demo fill', () => first.output().includes('[alert fill] demo'), 45_000);
      await new Promise((r) => setTimeout(r, 2_000)); // keep trading, then die mid-flight
    } finally {
      await sigkill(first.child);
    }

    const second = await startAll();
    try {
      // Boot reconciliation runs before "running"; give the first fills after it a moment too.
      await new Promise((r) => setTimeout(r, 2_000));
      const demo = paperCredentials('demo');
      const api = apiClient(second.simUrl, demo.apiKey, demo.apiSecret); // npm start checks the engine's paper keys
      const nonZero = (entries: [string, string][]): Record<string, number> =>
        Object.fromEntries(entries.filter(([, qty]) => Number(qty) !== 0).map(([symbol, qty]) => [symbol, Number(qty)]));
      const read = async (): Promise<{ engine: Record<string, number>; exchange: Record<string, number> }> => {
        const session = await sessionOf();
        const risk = (await api.signed('GET', '/fapi/v2/positionRisk')).body as { symbol: string; positionAmt: string }[];
        return {
          engine: nonZero(Object.entries(session.positions).map(([symbol, p]) => [symbol, p.qty])),
          exchange: nonZero(risk.map((p) => [p.symbol, p.positionAmt])),
        };
      };
      // The demo keeps trading, so the two reads agree once no order is between them (a real divergence stays).
      let last = await read();
      await waitFor(
        'engine and exchange to agree',
        async () => {
          last = await read();
          return JSON.stringify(last.engine) === JSON.stringify(last.exchange);
        },
        20_000,
      ).catch(() => undefined);
      expect(Object.keys(last.exchange).length).toBeGreaterThan(0); // the demo's positions survived on the exchange
      expect(last.engine).toEqual(last.exchange);
      // No reconcile correction, no position closed behind the engine's back, no stop found missing.
      expect(second.output()).not.toContain('corrected');
      // A protective stop the engine had planned but the exchange had not confirmed when the process died is found
      // missing and re-placed ("[alert protective_stop] … re-placing it"): that is the unconfirmed part, not a loss.
      expect(second.output()).not.toMatch(/\[alert (reconcile|exchange_close|manual_trade)\]/);
      expect(second.output()).not.toMatch(/\[alert protective_stop\].*(fired|closed)/);
      expect(second.output()).toMatch(/state in .*\(continued\)/);
      // The protective stops the engine holds (as its log folds them after a clean stop) are the ones resting on
      // the exchange (as its state store holds them).
      const exited = once(second.child, 'exit');
      second.child.kill('SIGTERM');
      await exited;
      const log = openSqliteLog({ path: sqlitePath });
      const { durable } = await replayLog(log, coreConfigFromEnv(readEnv()));
      await log.close();
      const engineStops = Object.values(durable.sessions.get('demo')?.protectiveStops ?? {})
        .filter((x) => x.status === 'active')
        .map((x) => x.clientAlgoId)
        .sort();
      const store = openSqlitePaperState(sqlitePath);
      const rows = store.load();
      store.close();
      const exchangeStops = (rows?.algoOrders ?? [])
        .map((text) => fromJson<AlgoOrder>(text))
        .filter((o) => o.accountKey === 'paper-demo' && o.status === 'NEW')
        .map((o) => o.clientAlgoId)
        .sort();
      expect(exchangeStops).toEqual(engineStops);
    } finally {
      await sigkill(second.child);
    }
  });
});
