import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { ExchangeConnector, MarketData } from '../../src/exchange/port.js';
import type { EngineLog } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import { generateMasterKey, masterKeyFrom } from '../../src/secrets/key-box.js';
import { memoryKeyStore } from '../../src/secrets/key-store.js';
import type { KeyVault } from '../../src/secrets/key-vault.js';
import { createKeyVault } from '../../src/secrets/key-vault.js';
import type { CredentialCache } from '../../src/services/execution/live-credentials.js';
import { startCredentialCache } from '../../src/services/execution/live-credentials.js';
import type { ExecutionService } from '../../src/services/execution/service.js';
import { startExecutionService } from '../../src/services/execution/service.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { silentLogger } from '../../src/util/logger.js';
import { allOutbound } from '../support/outbound.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

// A live session trades on the live exchange with the keys its user stored (sealed) and nothing else: the
// "live" simulator here verifies HMAC signatures against the one key pair it knows.

const apiKey = 'LIVEKEYEXAMPLE0001';
const apiSecret = 'LIVESECRETEXAMPLE-0001-abcdef';
const rotatedKey = 'LIVEKEYEXAMPLE0002';
const rotatedSecret = 'LIVESECRETEXAMPLE-0002-abcdef';
/** The key pairs the live exchange accepts; the test rotates and revokes keys by changing it. */
const liveKeyTable: Record<string, string> = { [apiKey]: apiSecret };

describe('live accounts use the stored, sealed exchange keys', () => {
  let paperSim: SimulatorHandle;
  let liveSim: SimulatorHandle;
  let log: EngineLog;
  let paper: ExchangeConnector;
  let live: ExchangeConnector;
  let marketData: MarketData;
  let liveMarketData: MarketData;
  let credentials: CredentialCache;
  let vault: KeyVault;
  let service: ExecutionService;
  const prefix = uniquePrefix('live-keys');

  beforeAll(async () => {
    paperSim = await startSimulator({ port: 0, seed: 3, priceStepMs: 50 });
    liveSim = await startSimulator({ port: 0, seed: 4, priceStepMs: 50, credentials: liveKeyTable });
    log = await openRedisLog({ url: redisUrl, prefix });
    paper = createBinanceConnector({ restBaseUrl: paperSim.restBaseUrl, wsBaseUrl: paperSim.wsBaseUrl, restTimeoutMs: 5_000 });
    live = createBinanceConnector({ restBaseUrl: liveSim.restBaseUrl, wsBaseUrl: liveSim.wsBaseUrl, restTimeoutMs: 5_000 });
    const master = masterKeyFrom(generateMasterKey());
    vault = createKeyVault(memoryKeyStore(), { current: master, all: [master] });
    await vault.connect('keyed', apiKey, apiSecret);
    credentials = await startCredentialCache(vault, silentLogger(), 100);
    marketData = paper.marketData();
    liveMarketData = live.marketData();
    service = await startExecutionService({
      log,
      paper,
      live,
      liveCredentials: (userId) => credentials.get(userId),
      // Each venue's own feed: live sessions are sized and guarded on the live exchange's prices.
      marketData: { paper: marketData, live: liveMarketData },
      config: { ...defaultCoreConfig, liveTradingEnabled: true, adminUserIds: ['boss'] },
      logger: silentLogger(),
      watchdogPeriodMs: 200,
      commandBlockMs: 100,
      onFatal: (error) => {
        throw error;
      },
    });
  });

  afterAll(async () => {
    await service.stop();
    credentials.stop();
    await marketData.close();
    await liveMarketData.close();
    await log.close();
    await paperSim.close();
    await liveSim.close();
    await deletePrefix(prefix);
  });

  async function reply(id: string, status: string): Promise<Extract<OutboundEvent, { type: 'reply' }>> {
    return waitFor(`${status} reply to ${id}`, async () =>
      (await allOutbound(log)).find((e): e is Extract<OutboundEvent, { type: 'reply' }> => e.type === 'reply' && e.commandId === id && e.status === status),
    );
  }

  async function send(command: Record<string, unknown>): Promise<string> {
    await log.appendCommand(JSON.stringify(command));
    return String(command.id);
  }

  it('routes an approved live session to the live exchange, signed with its stored keys', async () => {
    await reply(await send({ id: 'ap-1', userId: 'boss', type: 'admin.approve_live', targetUserId: 'keyed' }), 'done');
    await reply(await send({ id: 'ap-2', userId: 'boss', type: 'admin.approve_live', targetUserId: 'keyless' }), 'done');
    await reply(await send({ id: 'st-1', userId: 'keyed', type: 'session.start', mode: 'live', capitalUsd: 10_000 }), 'done');
    // Without stored keys the account preflight cannot check the account: the live session does not start.
    const keylessStart = await reply(await send({ id: 'st-2', userId: 'keyless', type: 'session.start', mode: 'live', capitalUsd: 10_000 }), 'rejected');
    expect(keylessStart.reason).toMatch(/no exchange account/);
    await reply(await send({ id: 'rt-1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.3 }] }), 'done');

    await waitFor('the keyed live order on the live exchange', () => liveSim.orders().some((o) => o.accountKey === apiKey));
    // Nothing of either live user went to the paper exchange, and the live exchange saw only the stored key.
    expect(paperSim.orders()).toEqual([]);
    expect(new Set(liveSim.orders().map((o) => o.accountKey))).toEqual(new Set([apiKey]));
  });

  it('trades with rotated keys once they are stored, and says what to do when the exchange refuses a key', async () => {
    // Rotation: the user stores a new key pair (/connect again); the old account must not be kept forever.
    liveKeyTable[rotatedKey] = rotatedSecret;
    await vault.connect('keyed', rotatedKey, rotatedSecret);
    await waitFor('the new keys opened', () => (credentials.get('keyed')?.apiKey === rotatedKey ? true : undefined));
    await reply(
      await send({ id: 'rt-2', userId: 'signals', type: 'signals.route', userIds: ['keyed'], signals: [{ symbol: 'ETHUSDT', weight: 0.2 }] }),
      'done',
    );
    await waitFor('an order signed with the rotated key', () => liveSim.orders().some((o) => o.accountKey === rotatedKey && o.symbol === 'ETHUSDT'));
    expect(
      liveSim
        .orders()
        .filter((o) => o.symbol === 'ETHUSDT')
        .map((o) => o.accountKey),
    ).not.toContain(apiKey);

    // Revocation: the exchange now refuses the key (-2015); the alert names the cause and the next step.
    delete liveKeyTable[rotatedKey];
    await reply(
      await send({ id: 'rt-3', userId: 'signals', type: 'signals.route', userIds: ['keyed'], signals: [{ symbol: 'SOLUSDT', weight: 0.2 }] }),
      'done',
    );
    const alert = await waitFor('an alert about the refused key', async () =>
      (await allOutbound(log)).find((e) => e.type === 'alert' && e.userId === 'keyed' && /-2015/.test(e.message)),
    );
    expect(alert).toMatchObject({ kind: 'order_rejected', message: expect.stringMatching(/refused this account's API key.*\/connect/) });
  });
});
