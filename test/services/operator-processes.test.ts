import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeTelegram } from '../support/fake-telegram-api.js';
import { startFakeTelegram } from '../support/fake-telegram-api.js';
import { useHarness } from '../support/harness.js';
import { redisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

// `quant-engine telegram` and `quant-engine dashboard` as real processes, each on its own Redis connections,
// beside an engine: configured from the environment, ready lines printed, clean exit on SIGTERM.

const root = fileURLToPath(new URL('../..', import.meta.url));
const token = '515151:operator-process-test-token';

interface Proc {
  child: ChildProcess;
  output: () => string;
  stop(): Promise<number | null>;
}

function spawnService(service: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', service], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

describe('operator services as processes', () => {
  const harness = useHarness({ label: 'operator-procs' });
  let fake: FakeTelegram;
  const procs: Proc[] = [];
  beforeAll(async () => {
    fake = await startFakeTelegram({ token });
  });
  afterAll(async () => {
    for (const p of procs) await p.stop();
    await fake.close();
  });

  it('the telegram service answers a user through the engine and exits cleanly', async () => {
    const bot = spawnService('telegram', {
      REDIS_URL: redisUrl,
      QE_REDIS_PREFIX: harness().prefix,
      TELEGRAM_BOT_TOKEN: token,
      QE_TELEGRAM_API_ROOT: fake.apiRoot,
      QE_TELEGRAM_USER_IDS: '4242',
    });
    procs.push(bot);
    await waitFor('telegram ready', () => bot.output().includes('"ready":true'), 60_000);
    fake.pushText(4242, '/pause');
    await waitFor('received and the engine answer', () => fake.messages(4242).includes('received ✓ /pause') && fake.messages(4242).length >= 2);
    fake.pushText(4242, '/status'); // a read: the engine's answer, no "received"
    await waitFor('the status answer', () => fake.messages(4242).some((m) => m.startsWith('No session. Start one with')));
    expect(await bot.stop()).toBe(0);
    expect(bot.output()).not.toContain(token);
  });

  it('the dashboard service serves state and takes commands, and refuses a public bind without a token', async () => {
    const refused = spawnService('dashboard', { REDIS_URL: redisUrl, QE_REDIS_PREFIX: harness().prefix, QE_DASHBOARD_HOST: '0.0.0.0', QE_DASHBOARD_PORT: '0' });
    procs.push(refused);
    const [code] = (await once(refused.child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(refused.output()).toMatch(/without a token/);

    const dash = spawnService('dashboard', { REDIS_URL: redisUrl, QE_REDIS_PREFIX: harness().prefix, QE_DASHBOARD_PORT: '0', QE_DASHBOARD_TOKEN: '' });
    procs.push(dash);
    const url = await waitFor('dashboard url', () => /"dashboard":"(http:[^"]+)"/.exec(dash.output())?.[1], 60_000);
    const answer = await fetch(`${url}/api/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'halt_all' }),
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      command: { type: 'admin.halt_all', source: 'dashboard' },
      reply: { status: 'done', commandType: 'admin.halt_all' },
    });
    await waitFor('the engine halted', () => harness().service.engine.current.durable.halted);
    const resumed = await fetch(`${url}/api/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'resume_all' }),
    });
    expect(await resumed.json()).toMatchObject({ reply: { status: 'done' } });
    expect(await dash.stop()).toBe(0);
  });
});
