import { describe, expect, it } from 'vitest';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { boot } from '../../src/engine/boot.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { ExchangeAccount } from '../../src/exchange/port.js';
import { silentLogger } from '../../src/util/logger.js';
import { logHolding, usePaperExchange } from '../support/paper-exchange.js';

// Boot must not flatten everyone. The stale-feed clock of a symbol without a quote used to run from when the
// engine object was created, before reconciliation and subscription: in a probe a 31 s reconciliation made
// the first tick of one symbol flag every other held symbol as stale, and every session was flattened. Here
// the exchange (the simulator over HTTP) is slow at boot — each account read takes 12 s of the engine's
// clock — and the session holds BTC and ETH; once the feed is subscribed, the first BTC tick must not call
// ETH stale. Only a feed that stays silent for staleFeedMs after its subscription does.

const staleFeedMs = 30_000;
const readMs = 12_000;

describe('a slow exchange at boot', () => {
  const paperExchange = usePaperExchange(6);

  it('starts the stale-feed clocks at subscription, so a slow reconciliation flattens nobody', async () => {
    const { connector } = paperExchange();
    const userId = 'slow-boot';
    const real = connector.account(paperCredentials(userId));
    for (const [symbol, quantity] of [
      ['BTCUSDT', '0.010'],
      ['ETHUSDT', '0.100'],
    ] as const) {
      const placed = await real.placeOrder({ clientOrderId: `manual-${symbol}`, symbol, side: 'BUY', type: 'MARKET', quantity, reduceOnly: false });
      expect(placed.kind).toBe('accepted');
    }
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const events: WalEvent[] = [
      { type: 'engine.initialized', epoch: 'sb1' },
      { type: 'session.started', userId, mode: 'paper', capitalUsd: 10_000, stopLossPct: null, horizonDeadlineMs: null, atMs: clock.nowMs() },
    ];
    const log = await logHolding(clock, events);
    const slow = (account: ExchangeAccount): ExchangeAccount => {
      const later = async <T>(read: () => Promise<T>): Promise<T> => {
        const result = await read();
        clock.advance(readMs);
        return result;
      };
      return {
        ...account,
        listProtectiveStops: () => later(() => account.listProtectiveStops()),
        getOpenOrders: () => later(() => account.getOpenOrders()),
        getPositions: () => later(() => account.getPositions()),
      };
    };
    const config = { ...defaultCoreConfig, symbols: ['BTCUSDT', 'ETHUSDT'], staleFeedMs };
    const { engine } = await boot({
      log,
      config,
      clock,
      logger: silentLogger(),
      loadFilters: async () => ({ paper: await connector.marketData().getSymbolFilters(config.symbols) }),
      accountOf: () => slow(real),
      onEffects: () => undefined,
      onFatal: (error) => {
        throw error;
      },
      retry: { attempts: 1, readDelayMs: 0, sleep: async () => undefined },
    });
    expect(clock.nowMs() - Date.UTC(2026, 0, 1)).toBeGreaterThan(staleFeedMs); // boot took longer than the bound
    expect(Object.keys(engine.current.durable.sessions.get(userId)?.positions ?? {}).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);

    // The service subscribes, then the first tick (BTC only) arrives and a watchdog beat runs.
    await engine.submit({ kind: 'feed_started', venue: 'paper', symbols: config.symbols });
    await engine.submit({ kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 60_000, ask: 60_000.1, time: clock.nowMs() } });
    await engine.submit({ kind: 'timer' });
    expect(engine.current.durable.sessions.get(userId)?.killSwitch.engaged).toBe(false);

    // ETH stays silent: flagged once staleFeedMs has passed since the subscription, not before.
    clock.advance(staleFeedMs);
    await engine.submit({ kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 60_000, ask: 60_000.1, time: clock.nowMs() } });
    expect(engine.current.durable.sessions.get(userId)?.killSwitch.engaged).toBe(false);
    clock.advance(1);
    await engine.submit({ kind: 'timer' });
    expect(engine.current.durable.sessions.get(userId)?.killSwitch.reason).toBe('stale_feed:ETHUSDT');
  });
});
