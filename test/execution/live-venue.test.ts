import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCoreConfig } from '../../src/core/config.js';
import { snapToStep } from '../../src/model/decimal.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { defaultSimSymbols, startSimulator } from '../../src/paper-exchange/server.js';
import type { ExecutionService } from '../../src/services/execution/service.js';
import { uniquePrefix } from '../support/redis.js';
import type { TwoVenues } from '../support/two-venues.js';
import { startTwoVenues } from '../support/two-venues.js';
import { waitFor } from '../support/wait.js';

// A live session trades on the live exchange's prices, never on the paper simulator's random walk. Two
// simulators quote BTCUSDT 40 % apart (paper 60 000, live 100 000): any read of the wrong venue shows.

const livePrice = 100_000;
const paperPrice = 60_000;
/** The post-only fallback's bound from mid (the core's fallbackBoundBps), in basis points. */
const fallbackBoundBps = defaultCoreConfig.fallbackBoundBps;
const liveKey = { apiKey: 'LIVEVENUEKEY', apiSecret: 'LIVEVENUESECRET' };

function symbolsAt(btcPrice: number) {
  return defaultSimSymbols.map((s) => (s.symbol === 'BTCUSDT' ? { ...s, startPrice: btcPrice } : s));
}

describe('a live session uses its own venue: the live exchange’s market data', () => {
  let paperSim: SimulatorHandle;
  let liveSim: SimulatorHandle;
  let venues: TwoVenues;
  let service: ExecutionService;
  let send: TwoVenues['send'];
  let reply: TwoVenues['reply'];

  beforeAll(async () => {
    paperSim = await startSimulator({ port: 0, seed: 5, priceStepMs: 50, symbols: symbolsAt(paperPrice) });
    liveSim = await startSimulator({ port: 0, seed: 6, priceStepMs: 50, symbols: symbolsAt(livePrice) });
    // The live feed is silent from the start: a live session must be refused until it speaks.
    liveSim.faults.wsSilent = true;
    venues = await startTwoVenues({
      paperSim,
      liveSim,
      prefix: uniquePrefix('live-venue'),
      config: { ...defaultCoreConfig, liveTradingEnabled: true, liveApprovedUserIds: ['lv'] },
      liveCredentials: (userId) => (userId === 'lv' ? liveKey : null),
    });
    ({ service, send, reply } = venues);
  });

  afterAll(async () => {
    await venues.close();
    await paperSim.close();
    await liveSim.close();
  });

  const liveQuote = () => service.engine.current.market.venues.live.quotes.BTCUSDT;

  it('refuses a live session while the live feed is silent, and starts it once the feed speaks', async () => {
    const refused = await reply(await send({ id: 'st-0', userId: 'lv', type: 'session.start', mode: 'live', capitalUsd: 10_000 }), 'rejected');
    expect(refused.reason).toMatch(/live exchange's market data is not healthy \(no live market data for BTCUSDT/);
    expect(service.engine.current.durable.sessions.get('lv')).toBeUndefined();

    liveSim.faults.wsSilent = false;
    await waitFor('a live quote', () => liveQuote());
    await reply(await send({ id: 'st-1', userId: 'lv', type: 'session.start', mode: 'live', capitalUsd: 10_000, stopLossPct: 5 }), 'done');
    await reply(await send({ id: 'st-2', userId: 'pp', type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
  });

  it("prices and sizes the live session's entries on the live book, within the 15 bps bound of the live price", async () => {
    // Still prices: the bound is checked against the book the order was priced from.
    liveSim.pausePriceProcess(true);
    paperSim.pausePriceProcess(true);
    // Every post-only entry on the live exchange would take: the bounded fallback then fills at the live price.
    liveSim.faults.forcePostOnlyReject = true;
    await reply(await send({ id: 'rt-1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.3 }] }), 'done');
    await waitFor('the live position', () => liveSim.position(liveKey.apiKey, 'BTCUSDT') > 0);
    await waitFor('the engine to learn the fill', () =>
      service.engine.current.durable.orders.values().some((o) => o.userId === 'lv' && o.timeInForce === 'IOC' && o.status === 'FILLED'),
    );
    const quote = liveQuote();
    if (!quote) throw new Error('no live quote');
    const mid = (quote.bid + quote.ask) / 2;
    // The post-only entry at the live touch (refused: it would take), then its fallback, which the live exchange filled.
    const entries = service.engine.current.durable.orders
      .values()
      .filter((o) => o.userId === 'lv' && o.symbol === 'BTCUSDT')
      .sort((a, b) => Number(a.fallbackOf !== null) - Number(b.fallbackOf !== null)); // orders enumerate in no time order
    expect(entries.map((o) => [o.timeInForce, o.status])).toEqual([
      ['GTX', 'REJECTED'],
      ['IOC', 'FILLED'],
    ]);
    for (const o of entries) expect(Math.abs(Number(o.price) - mid) / mid).toBeLessThanOrEqual(fallbackBoundBps / 10_000);
    // 30 % of 10 000 USD at the live mid (~100 000: 0.030 or a step under it), not at ~60 000 (0.05).
    const liveQty = snapToStep((0.3 * 10_000) / mid, '0.001', 'down');
    expect(['0.029', '0.030']).toContain(liveQty);
    expect(entries.map((o) => o.quantity)).toEqual([liveQty, liveQty]);
    expect(liveSim.orders().map((o) => [o.symbol, o.timeInForce, Number(o.price)])).toEqual([['BTCUSDT', 'IOC', Number(entries[1]?.price)]]);
    // The paper session's entry rests at the paper touch, on the paper exchange.
    const paperOrder = await waitFor('the paper entry', () => paperSim.orders().find((o) => o.symbol === 'BTCUSDT'));
    expect(Math.abs(Number(paperOrder.price) - paperPrice) / paperPrice).toBeLessThan(0.01);
  });

  it('marks the live session to market at the live bid, whatever the paper price does', async () => {
    paperSim.setMid('BTCUSDT', paperPrice / 2); // a 50 % paper crash: nothing to do with the live session
    await waitFor('the paper crash seen', () => (service.engine.current.market.venues.paper.quotes.BTCUSDT?.bid ?? Infinity) < paperPrice * 0.6);
    const status = await reply(await send({ id: 'ss-1', userId: 'lv', type: 'status' }), 'done');
    const quote = liveQuote();
    if (!quote || status.commandType !== 'status' || !status.result?.session) throw new Error('no status');
    const session = status.result.session;
    expect(session.positions.BTCUSDT?.exitPrice).toBe(quote.bid);
    expect(session.killSwitch.engaged).toBe(false);
    // Equity: capital less what the position lost between its fill and the live bid (a spread, not 40 %).
    expect(Math.abs(session.equityUsd - 10_000)).toBeLessThan(10);
  });

  it('fires the stop-loss on live prices', async () => {
    // 0.03 BTC losing 20 % of 100 000 = 600 USD > 5 % of 10 000: the live session must be stopped out.
    liveSim.setMid('BTCUSDT', livePrice * 0.8);
    const killed = await waitFor('the live stop-loss', () => {
      const kill = service.engine.current.durable.sessions.get('lv')?.killSwitch;
      return kill?.engaged ? kill : undefined;
    });
    // The engine's stop-loss on live marks, or the protective stop resting on the live exchange, whichever the
    // gap reaches first: both act on live prices only (the paper session is untouched below).
    expect(['stop_loss', 'protective_stop']).toContain(killed.reason);
    await waitFor('the live position closed', () => liveSim.position(liveKey.apiKey, 'BTCUSDT') === 0);
    expect(service.engine.current.durable.sessions.get('pp')?.killSwitch.engaged).toBe(false);
  });
});
