import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import { memoryRateBudget } from '../../src/exchange/rate-budget.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';

// Requests an account makes outside the executor, at scale: a thousand sessions starting at once must not each
// measure the exchange clock (GET /fapi/v1/time) nor open listen keys past the request budget, or the IP is
// rate-limited and then banned (418), and the ban stops flattens too.

describe('venue-wide requests of many accounts', () => {
  let sim: SimulatorHandle;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 5, priceStepMs: 50 });
  });
  afterAll(async () => {
    await sim.close();
  });

  const count = (path: string, method?: string): number =>
    sim.requests().filter((r) => r.path === path && (method === undefined || r.method === method)).length;

  it('measures the exchange clock once for all accounts of a venue', async () => {
    const connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 2_000 });
    const before = count('/fapi/v1/time');
    const accounts = Array.from({ length: 20 }, (_, i) => connector.account({ apiKey: `clock-${i}`, apiSecret: 'secret' }));
    await Promise.all(accounts.map((a) => a.getPositions()));
    expect(count('/fapi/v1/time') - before).toBe(1);
  });

  it('asks the budget before a listen key: a refused one is not sent', async () => {
    // A budget whose normal lane is already spent: weight 10 a minute, all of it kept for exits.
    const rateBudget = memoryRateBudget({ weightPerMinute: 10, reservedForRiskReducingWeight: 10, defaultBackoffMs: 1_000 });
    const connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 2_000, rateBudget });
    const before = count('/fapi/v1/listenKey', 'POST');
    const sub = await connector.account({ apiKey: 'listen-refused', apiSecret: 'secret' }).subscribeOrderUpdates(() => undefined);
    await sub.close();
    expect(count('/fapi/v1/listenKey', 'POST') - before).toBe(0);
  });
});
