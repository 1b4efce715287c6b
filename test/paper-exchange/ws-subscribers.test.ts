import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultKeepAlive, defaultMarketStreamMaxLifetimeMs, defaultUserStreamMaxLifetimeMs, WsHub } from '../../src/paper-exchange/ws-streams.js';
import { openWs, sleep, type WsProbe } from './helpers.js';

// The simulator's WebSocket hub finds a push's connections through its subscriber index, not by asking about every
// connection's every listen key: at 10 000 accounts each order update cost 10 000 key lookups, and the simulator fell
// seconds behind the engine (stop → flatten p50 13.8 s at the exchange against 56 ms at the engine's send).

const accounts = 40;
const keyOf = (i: number): string => `key-${i}`;

describe('user-data pushes', () => {
  let server: http.Server;
  let hub: WsHub;
  let base = '';
  let lookups = 0;
  const probes: WsProbe[] = [];

  beforeAll(async () => {
    server = http.createServer();
    hub = new WsHub(
      server,
      {
        accountOfListenKey: (key) => {
          lookups += 1;
          return key.startsWith('key-') ? `acct-${key.slice(4)}` : undefined;
        },
        listenKeyOfAccount: (account) => (account.startsWith('acct-') ? `key-${account.slice(5)}` : undefined),
        isMarketSilent: () => false,
        isUserSilent: () => false,
        takeDroppedMessage: () => false,
        messageDelayMs: () => 0,
        sweepExpiredListenKeys: () => [],
        legacyRoutes: false,
        userStream: { maxLifetimeMs: defaultUserStreamMaxLifetimeMs, closeOnListenKeyExpiry: false, pushListenKeyExpired: true },
        marketStreamMaxLifetimeMs: defaultMarketStreamMaxLifetimeMs,
        keepAlive: defaultKeepAlive,
      },
      60 * 60_000,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (let i = 0; i < accounts; i += 1) probes.push(await openWs(`${base}/private/ws?listenKey=${keyOf(i)}`));
  });
  afterAll(async () => {
    for (const p of probes) p.ws.close();
    await hub.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("reach the account's own connection, without a lookup per connection", async () => {
    lookups = 0;
    for (let round = 0; round < 10; round += 1) hub.publishUser('acct-7', { e: 'ORDER_TRADE_UPDATE', round });
    await probes[7]?.waitFor((m) => (m as { round?: number }).round === 9);
    await sleep(50);
    expect(probes[7]?.messages).toHaveLength(10);
    expect(probes.filter((p, i) => i !== 7 && p.messages.length > 0)).toHaveLength(0);
    expect(lookups).toBe(0);
  });

  it('stop at a closed connection', async () => {
    probes[3]?.ws.close();
    await sleep(50);
    hub.publishUser('acct-3', { e: 'ACCOUNT_UPDATE' });
    hub.publishUser('acct-4', { e: 'ACCOUNT_UPDATE' });
    await probes[4]?.waitFor((m) => (m as { e?: string }).e === 'ACCOUNT_UPDATE');
    expect(probes[3]?.messages).toHaveLength(0);
  });
});
