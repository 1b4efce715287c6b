import { describe, expect, it } from 'vitest';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { Subscription } from '../../src/exchange/port.js';
import { defaultRateBudgetLimits, memoryRateBudget } from '../../src/exchange/rate-budget.js';
import { minClockRemeasureMs, SharedClock } from '../../src/exchange/binance/own-requests.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { waitFor } from '../support/wait.js';

// Requests the adapter makes on its own, with no effect behind them: the clock sync (GET /fapi/v1/time) and the
// user-data stream's listen keys (POST/PUT /fapi/v1/listenKey). At a boot every session opens its stream at once;
// measured with 1 000 sessions, these uncharged requests (one clock sync per account, one listen key per stream)
// pushed the IP past its limit into a 418 ban, and every stream retried on its own backoff all through the ban, so
// a session.stop sent after the restart was never answered. They now go through the request budget, the clock is
// measured once per venue connection, and a stream refused by the budget waits for what the budget says.
// The limits here are scaled down (100 weight a minute) so that 60 accounts are a thousand-session boot.

const weightPerMinute = 100;
const accounts = 60;

describe('the adapter’s own requests', () => {
  it('stay within the request budget: one clock sync, a listen key per stream, no 429 and no 418', async () => {
    const sim = await startSimulator({ port: 0, seed: 5, gatewayLimits: { weightPerMinute } });
    const budget = memoryRateBudget({ ...defaultRateBudgetLimits, weightPerMinute, reservedForRiskReducingWeight: 20 });
    const connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, rateBudget: budget, wsReconnectDelayMs: 50 });
    const subscriptions: Subscription[] = [];
    try {
      for (let i = 0; i < accounts; i += 1) {
        const account = connector.account({ apiKey: `own-${i}`, apiSecret: `secret-${i}` });
        subscriptions.push(await account.subscribeOrderUpdates(() => undefined));
      }
      // Every stream opens within the normal lane's share (1 clock sync + 60 listen keys < 100 − 20 kept for exits).
      await waitFor(
        'every user stream open',
        () => sim.requests().filter((r) => r.path === '/fapi/v1/listenKey' && r.status === 200).length === accounts,
        10_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // time for a retry storm, were there one
      const log = sim.requests();
      expect(log.filter((r) => r.status === 429 || r.status === 418)).toEqual([]);
      expect(log.filter((r) => r.path === '/fapi/v1/time')).toHaveLength(1);
      expect(log.filter((r) => r.path === '/fapi/v1/listenKey')).toHaveLength(accounts);
      // Never more weight in a minute than the normal lane's share of the limit.
      const byMinute = new Map<number, number>();
      for (const r of log) byMinute.set(Math.floor(r.receivedAt / 60_000), (byMinute.get(Math.floor(r.receivedAt / 60_000)) ?? 0) + r.weight);
      for (const weight of byMinute.values()) expect(weight).toBeLessThanOrEqual(weightPerMinute - 20);
    } finally {
      for (const s of subscriptions) await s.close();
      await sim.close();
    }
  });
});

describe('the shared exchange clock', () => {
  it('is measured again after a -1021 only once minClockRemeasureMs has passed since it was measured', async () => {
    let now = 1_000_000;
    let measured = 0;
    const clock = new SharedClock(
      async () => {
        measured += 1;
        return 250;
      },
      undefined,
      () => now,
    );
    expect(await clock.offsetMs()).toBe(250);
    // A burst of -1021 right after the measurement: requests that aged on the way, not a clock that moved.
    for (let i = 0; i < 100; i += 1) clock.invalidate();
    await clock.offsetMs();
    expect(measured).toBe(1);
    now += minClockRemeasureMs;
    clock.invalidate();
    await clock.offsetMs();
    expect(measured).toBe(2);
  });
});
