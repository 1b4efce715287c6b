import { Writable } from 'node:stream';
import { createClient } from '@redis/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultCoreConfig } from '../../src/core/config.js';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { MarketData } from '../../src/exchange/port.js';
import type { EngineLog } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import { generateMasterKey, masterKeyFrom } from '../../src/secrets/key-box.js';
import type { KeyStore } from '../../src/secrets/key-store.js';
import { redisKeyStore } from '../../src/secrets/key-store.js';
import type { KeyVault } from '../../src/secrets/key-vault.js';
import { createKeyVault } from '../../src/secrets/key-vault.js';
import type { ExecutionService } from '../../src/services/execution/service.js';
import { startExecutionService } from '../../src/services/execution/service.js';
import type { TelegramBotHandle } from '../../src/services/telegram/run-telegram.js';
import { startTelegramBot } from '../../src/services/telegram/run-telegram.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { redactedPaths } from '../../src/util/logger.js';
import type { FakeTelegram } from '../support/fake-telegram-api.js';
import { startFakeTelegram } from '../support/fake-telegram-api.js';
import { commandId } from '../support/harness.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { converse } from './helpers.js';

// Runs a conversation that stores exchange keys through /connect, with every log line of the bot and the
// engine captured at level trace, then searches the logs, every key under the test prefix in Redis, what the
// bot sent to Telegram and the console for the API key, the secret, the bot token and the master key.

const token = '8123456789:AAE-LeakCheckBotToken_q7Zx9Kp2Wm4';
const apiKey = 'APIKEYvX93kQm7LeakProbeKey0123456789abcdefABCDEF';
const apiSecret = 'SECRETzP41nR8LeakProbeSecret9876543210fedcbaFEDC';
const trader = 321;

describe('no secret reaches a log line, the log streams or the chat', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  // The same redaction as createLogger, at the most verbose level, into memory.
  const logger = pino({ level: 'trace', redact: { paths: redactedPaths, censor: '[redacted]' } }, sink);
  const masterKeyBase64 = generateMasterKey();
  const masterKey = masterKeyFrom(masterKeyBase64);
  const consoleOutput: string[] = [];
  const prefix = uniquePrefix('telegram-leak');
  let sim: SimulatorHandle;
  let engineLog: EngineLog;
  let botLog: EngineLog;
  let marketData: MarketData;
  let service: ExecutionService;
  let fake: FakeTelegram;
  let keyStore: KeyStore;
  let vault: KeyVault;
  let bot: TelegramBotHandle | null = null;

  beforeAll(async () => {
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleOutput.push(args.map(String).join(' ')));
    }
    sim = await startSimulator({ port: 0, seed: 5, priceStepMs: 50 });
    engineLog = await openRedisLog({ url: redisUrl, prefix, limits: { reclaimIdleMs: 1_000 } });
    const connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 5_000, logger });
    marketData = connector.marketData();
    service = await startExecutionService({
      log: engineLog,
      paper: connector,
      marketData: { paper: marketData },
      config: defaultCoreConfig,
      logger,
      watchdogPeriodMs: 200,
      commandBlockMs: 100,
    });
    fake = await startFakeTelegram({ token });
    botLog = await openRedisLog({ url: redisUrl, prefix });
    keyStore = await redisKeyStore(redisUrl, prefix);
    vault = createKeyVault(keyStore, { current: masterKey, all: [masterKey] });
    bot = await startTelegramBot({
      log: botLog,
      token,
      apiRoot: fake.apiRoot,
      access: { userIds: [String(trader)], adminIds: [], ratePerMin: 100 },
      vault,
      logger,
      relay: { retryMs: 100 },
    });
  });

  afterAll(async () => {
    await bot?.stop();
    await botLog?.close();
    await fake?.close();
    await service?.stop();
    await marketData?.close();
    await engineLog?.close();
    await keyStore?.close();
    await sim?.close();
    await deletePrefix(prefix);
    vi.restoreAllMocks();
  });

  async function dumpRedis(): Promise<string> {
    const client = createClient({ url: redisUrl });
    await client.connect();
    const parts: string[] = [];
    try {
      for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
        for (const key of Array.isArray(batch) ? batch : [batch]) {
          const type = await client.type(key);
          if (type === 'stream') parts.push(key, JSON.stringify(await client.xRange(key, '-', '+')));
          else if (type === 'hash') parts.push(key, JSON.stringify(await client.hGetAll(key)));
          else if (type === 'string') parts.push(key, String(await client.get(key)));
          else if (type === 'list') parts.push(key, JSON.stringify(await client.lRange(key, 0, -1)));
          else if (type === 'set') parts.push(key, JSON.stringify(await client.sMembers(key)));
          else if (type === 'zset') parts.push(key, JSON.stringify(await client.zRange(key, 0, -1)));
          else parts.push(key, `(unexpected type ${type})`);
        }
      }
    } finally {
      client.destroy();
    }
    return parts.join('\n');
  }

  it('stores the keys through /connect and leaks neither them nor the token', async () => {
    await converse(fake, trader, '/start', /^Quant Engine bot/);
    await converse(fake, trader, '/session paper 1000 5', /^✅ Session started/);
    const { messageId } = fake.pushText(trader, `/connect ${apiKey} ${apiSecret}`);
    await waitFor('keys stored', () => fake.messages(trader).find((m) => m.startsWith('🔐 Keys stored')));
    expect(fake.deletedMessages).toContainEqual({ chat_id: trader, message_id: messageId });
    expect(await vault.credentials(`tg${trader}`)).toEqual({ apiKey, apiSecret });
    await converse(fake, trader, '/connect onlyOneValue', /Send exactly two values/);
    await converse(fake, trader, '/status', /^📊 <b>Status<\/b>/);

    // Error paths log too: a send Telegram refuses (relay retries), then a network failure (Telegram gone).
    fake.failSendMessage({ kind: 'server_error', times: 2 });
    await converse(fake, trader, '/pnl', /^💰 PnL/);
    await converse(fake, trader, '/stop confirm', /^✅ Session closed/);
    // With keys stored, a live start reaches the engine (which refuses it here: LIVE_TRADING is off).
    await converse(fake, trader, '/session live 100', /refused: live trading is disabled/);
    await converse(fake, trader, '/disconnect', /stored keys were deleted/);
    await converse(fake, trader, `/connect ${apiKey} ${apiSecret}`, /^🔐 Keys stored/); // stored again: sealed in Redis at the end
    await fake.close();
    const alertId = await engineLog.appendCommand(JSON.stringify({ id: commandId('st'), userId: `tg${trader}`, type: 'status' }));
    expect(alertId).toBeTruthy();
    await waitFor('the relay failing to reach Telegram', () => lines.some((l) => l.includes('sending failed; will retry')));
    await bot?.stop();
    bot = null;

    const logText = lines.join('');
    expect(lines.length).toBeGreaterThan(20); // trace level really captured the bot and the engine
    expect(logText).toContain('exchange keys stored');
    expect(logText).toContain('command appended');
    const redisText = await dumpRedis();
    expect(redisText).toContain('session.start'); // the dump really holds the streams
    expect(redisText).toContain(`${prefix}keys:exchange`);
    const chatText = JSON.stringify(fake.calls);
    const consoleText = consoleOutput.join('\n');

    for (const [name, secret] of [
      ['api key', apiKey],
      ['api secret', apiSecret],
      ['bot token', token],
      ['bot token secret part', token.split(':')[1] ?? token],
      ['master key', masterKeyBase64],
    ] as const) {
      expect(logText.includes(secret), `${name} in a log line`).toBe(false);
      expect(redisText.includes(secret), `${name} in Redis`).toBe(false);
      expect(chatText.includes(secret), `${name} sent to Telegram`).toBe(false);
      expect(consoleText.includes(secret), `${name} on the console`).toBe(false);
    }
  });
});
