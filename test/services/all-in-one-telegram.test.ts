import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FakeTelegram } from '../support/fake-telegram-api.js';
import { startFakeTelegram } from '../support/fake-telegram-api.js';
import { spawnAll } from '../support/spawn-all.js';
import { waitFor } from '../support/wait.js';

// `npm start` with a Telegram bot configured: whatever the Bot API does (refuses the token, cannot be reached),
// the engine trades and the dashboard serves; the bot is disabled with a clear line, or retried until it answers.

const dir = mkdtempSync(join(tmpdir(), 'qe-all-tg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const goodToken = '123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function engineServes(run: ReturnType<typeof spawnAll>): Promise<void> {
  const [, dashboardUrl] = await run.waitForOutput('the dashboard line', /dashboard: (http:\/\/\S+)/);
  await run.waitForOutput('the demo session started', /\[done\] session\.start/);
  const state = await (await fetch(`${dashboardUrl}/api/state`)).text();
  expect(state).toContain('"demo"');
}

describe('npm start with Telegram trouble', () => {
  it('a refused token disables the bot with a clear line; the engine and the dashboard keep running', { timeout: 120_000 }, async () => {
    const fake = await startFakeTelegram({ token: goodToken });
    const run = spawnAll(join(dir, 'refused.db'), {
      TELEGRAM_BOT_TOKEN: '123456:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
      QE_TELEGRAM_API_ROOT: fake.apiRoot,
      QE_TELEGRAM_USER_IDS: '4242',
    });
    try {
      await run.waitForOutput('the bot disabled', /telegram: DISABLED — the Bot API refused the token/);
      await engineServes(run);
      expect(run.output()).not.toContain('BBBBBBBBBBBBBBBBBBBB'); // the token never reaches the console
      // A console for people: warnings as readable lines (no pino JSON), no line per routine signal.
      await run.waitForOutput('the no-master-key warning', /WARN no master key/);
      expect(run.output()).not.toMatch(/^\{"level"/m);
      expect(run.output()).not.toContain('[done] signals.route');
      expect(await run.stop()).toBe(0);
    } finally {
      await run.stop();
      await fake.close();
    }
  });

  it('an unreachable Bot API is retried with a visible line, and the bot starts once the API answers', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const run = spawnAll(join(dir, 'unreachable.db'), {
      TELEGRAM_BOT_TOKEN: goodToken,
      QE_TELEGRAM_API_ROOT: `http://127.0.0.1:${port}`,
      QE_TELEGRAM_USER_IDS: '4242',
    });
    let fake: FakeTelegram | null = null;
    try {
      await run.waitForOutput('the retry line', /telegram: cannot reach the Bot API .*retrying in \d+ s/);
      await engineServes(run);
      fake = await startFakeTelegram({ token: goodToken, port });
      await run.waitForOutput('the bot started on a later attempt', /telegram: bot started \(attempt \d+\)/);
      const api = fake;
      api.pushText(4242, '/help');
      await waitFor('the bot to answer /help', () => api.messages(4242).length > 0, 30_000);
      expect(await run.stop()).toBe(0);
    } finally {
      await run.stop();
      await fake?.close();
    }
  });
});
