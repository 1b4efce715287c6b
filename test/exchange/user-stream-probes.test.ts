import { afterEach, describe, expect, it } from 'vitest';
import type { BinanceConnectorOptions } from '../../src/exchange/binance/connector.js';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { Subscription } from '../../src/exchange/port.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { sleep } from '../paper-exchange/helpers.js';

// A quiet account's user stream gets no messages, so each was probed (PUT /fapi/v1/listenKey, weight 1) every
// silenceProbeMs: at 10 000 bench accounts 2 000 of the IP's 2 400 weight per minute. The probes of one connector's
// accounts now share a ration, and a keep-alive answered ok (the probe is one) restarts the keep-alive period.
// Scaled down in time, against the paper exchange.

const hour = 60 * 60_000;

let sim: SimulatorHandle | null = null;
const subscriptions: Subscription[] = [];

afterEach(async () => {
  for (const s of subscriptions.splice(0)) await s.close();
  await sim?.close();
  sim = null;
});

async function quietAccounts(count: number, options: Partial<BinanceConnectorOptions>): Promise<SimulatorHandle> {
  sim = await startSimulator({ port: 0, seed: 31, priceStepMs: 1_000 });
  const connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 2_000, ...options });
  for (let i = 0; i < count; i += 1) {
    const account = connector.account({ apiKey: `quiet-${i}`, apiSecret: 's' });
    subscriptions.push(await account.subscribeOrderUpdates(() => undefined));
  }
  return sim;
}

const keepAlives = (s: SimulatorHandle): number[] =>
  s
    .requests()
    .filter((r) => r.method === 'PUT' && r.path === '/fapi/v1/listenKey')
    .map((r) => r.receivedAt);

describe('silence probes of quiet user streams', () => {
  it('stay within the ration shared by all accounts of the connector', async () => {
    const probesPerMinute = 240; // one every 250 ms
    const s = await quietAccounts(20, {
      listenKeyKeepaliveIntervalMs: hour,
      userStreamSilenceProbeMs: 300,
      silenceProbesPerMinute: probesPerMinute,
    });
    const fromMs = Date.now();
    await sleep(2_500);
    const puts = keepAlives(s).filter((at) => at >= fromMs);
    // Unrationed: 20 accounts × 2.5 s / 300 ms ≈ 160 PUTs. Rationed: one per 250 ms, the first at once.
    expect(puts.length).toBeGreaterThan(0);
    expect(puts.length).toBeLessThanOrEqual(Math.floor((2_500 * probesPerMinute) / 60_000) + 1);
    for (let i = 1; i < puts.length; i += 1) expect((puts[i] ?? 0) - (puts[i - 1] ?? 0)).toBeGreaterThanOrEqual(200);
  });

  it('a probe answered ok counts as the keep-alive: no PUT follows within the keep-alive period from it', async () => {
    // The keep-alive is due every 1 000 ms and the silence probe after 700 ms: each probe pushes the keep-alive
    // 1 000 ms past itself, so only probes are sent, ~700 ms apart. Before, the keep-alive kept its own period and
    // fired 200–400 ms after a probe.
    const s = await quietAccounts(1, { listenKeyKeepaliveIntervalMs: 1_000, userStreamSilenceProbeMs: 700, silenceProbesPerMinute: 600 });
    await sleep(3_000);
    const puts = keepAlives(s);
    expect(puts.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < puts.length; i += 1) expect((puts[i] ?? 0) - (puts[i - 1] ?? 0)).toBeGreaterThanOrEqual(650);
  });
});

describe('keep-alives of user streams opened together', () => {
  it('spread their first keep-alive over the later half of the period instead of all coming at once', async () => {
    // A period long against the time the 20 opens take (under a loaded CI, up to a second): each stream's first
    // keep-alive comes 2 000–4 000 ms after its own open, so all 20 fall before the last open + 4 000 ms.
    const periodMs = 4_000;
    const s = await quietAccounts(20, { listenKeyKeepaliveIntervalMs: periodMs, userStreamSilenceProbeMs: hour });
    const allOpened = Date.now();
    await sleep(periodMs + 300);
    const first = keepAlives(s).filter((at) => at < allOpened + periodMs + 150);
    expect(first.length).toBe(20);
    // Old: every stream's at its period from its open, so they spread only as much as the opens did. Now: over 2 s.
    expect(Math.max(...first) - Math.min(...first)).toBeGreaterThan(1_000);
  });
});
