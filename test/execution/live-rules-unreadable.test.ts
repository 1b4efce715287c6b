import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCoreConfig } from '../../src/core/config.js';
import { createEngineMetrics } from '../../src/metrics/engine-metrics.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { uniquePrefix } from '../support/redis.js';
import type { TwoVenues } from '../support/two-venues.js';
import { startTwoVenues } from '../support/two-venues.js';
import { waitFor } from '../support/wait.js';

// The live exchange's trading rules could not be read at boot (here: the IP banned, HTTP 418, for a few seconds).
// Live sessions are refused until they are read, and the refusal says why: it used to say only that the rules were
// missing, the reason being in the service's log alone. Once the ban ends, the background read gets the rules and a
// live session starts.

const liveKey = { apiKey: 'LIVERULESKEY', apiSecret: 'LIVERULESSECRET' };
/** How long the live exchange bans the IP from the service's first request (ms): past boot's five reads. */
const banMs = 8_000;

describe('live trading rules unreadable at boot', () => {
  let paperSim: SimulatorHandle;
  let liveSim: SimulatorHandle;
  let venues: TwoVenues;

  beforeAll(async () => {
    paperSim = await startSimulator({ port: 0, seed: 5, priceStepMs: 50 });
    liveSim = await startSimulator({ port: 0, seed: 6, priceStepMs: 50 });
    liveSim.faults.ban418Count = 1;
    liveSim.faults.banMs = banMs;
    venues = await startTwoVenues({
      paperSim,
      liveSim,
      prefix: uniquePrefix('live-rules'),
      config: { ...defaultCoreConfig, liveTradingEnabled: true, liveApprovedUserIds: ['lv'] },
      liveCredentials: (userId) => (userId === 'lv' ? liveKey : null),
    });
  }, 30_000);

  afterAll(async () => {
    await venues.close();
    await paperSim.close();
    await liveSim.close();
  });

  it('refuses a live start saying why the rules could not be read, and starts one once they are', async () => {
    const { service, send, reply } = venues;
    expect(service.engine.current.market.venues.live.filters.BTCUSDT).toBeUndefined();
    const refused = await reply(await send({ id: 'st-0', userId: 'lv', type: 'session.start', mode: 'live', capitalUsd: 10_000 }), 'rejected');
    expect(refused.reason).toMatch(/no trading rules from the live exchange for BTCUSDT, ETHUSDT, SOLUSDT: .*ban/i);
    // An operator's alert can watch for it.
    const metrics = createEngineMetrics({ log: venues.log, state: () => service.engine.current, nowMs: () => Date.now() });
    const unreadable = async (): Promise<string> => metrics.registry.getSingleMetricAsString('qe_trading_rules_unreadable');
    expect(await unreadable()).toContain('qe_trading_rules_unreadable{venue="live"} 1');
    expect(await unreadable()).toContain('qe_trading_rules_unreadable{venue="paper"} 0');
    // Paper trades on meanwhile.
    await reply(await send({ id: 'st-1', userId: 'pp', type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');

    await waitFor('the live rules', () => service.engine.current.market.venues.live.filters.BTCUSDT, 20_000);
    await reply(await send({ id: 'st-2', userId: 'lv', type: 'session.start', mode: 'live', capitalUsd: 10_000, stopLossPct: 5 }), 'done', 10_000);
    expect(await unreadable()).toContain('qe_trading_rules_unreadable{venue="live"} 0');
    metrics.stop();
  }, 40_000);
});
