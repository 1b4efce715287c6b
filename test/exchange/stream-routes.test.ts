import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { BookTicker } from '../../src/model/market.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { parseArgs } from '../../src/paper-exchange/main.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { waitFor } from '../support/wait.js';

// Binance's current USDⓈ-M stream routes: book tickers on /public, user data on /private with the listenKey as
// a query parameter; the legacy /stream and /ws/<listenKey> paths are retired. The paper exchange serves only
// the current routes unless asked, and refuses a stream on the wrong route, so an adapter on the old paths
// fails on paper exactly as it would live.

function connects(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      ws.close();
      resolve(true);
    });
    ws.on('error', () => resolve(false));
  });
}

describe('stream routes', () => {
  let sim: SimulatorHandle;
  let legacySim: SimulatorHandle;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 21, priceStepMs: 50 });
    legacySim = await startSimulator({ port: 0, seed: 22, priceStepMs: 50, legacyStreamRoutes: true });
  });
  afterAll(async () => {
    await sim.close();
    await legacySim.close();
  });

  it('the paper exchange serves the split routes only, each for its own kind of stream', async () => {
    expect(await connects(`${sim.wsBaseUrl}/public/stream?streams=btcusdt@bookTicker`)).toBe(true);
    expect(await connects(`${sim.wsBaseUrl}/stream?streams=btcusdt@bookTicker`)).toBe(false);
    expect(await connects(`${sim.wsBaseUrl}/ws/btcusdt@bookTicker`)).toBe(false);
    expect(await connects(`${sim.wsBaseUrl}/market/stream?streams=btcusdt@bookTicker`)).toBe(false);
    expect(await connects(`${sim.wsBaseUrl}/market/stream?streams=btcusdt@markPrice`)).toBe(true);
    expect(await connects(`${legacySim.wsBaseUrl}/stream?streams=btcusdt@bookTicker`)).toBe(true);
    // `quant-engine simulator --legacy-stream-routes` turns them on.
    expect(parseArgs(['--legacy-stream-routes', '--port', '0'])).toMatchObject({ legacyStreamRoutes: true, port: 0 });
    expect(parseArgs(['--port', '0'])).not.toHaveProperty('legacyStreamRoutes');
  });

  it('the adapter uses the split routes for book tickers and user data', async () => {
    const connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 5_000 });
    const market = connector.marketData();
    const ticks: BookTicker[] = [];
    const subscription = await market.subscribeBookTicker(['BTCUSDT'], (tick) => ticks.push(tick));
    await waitFor('a book ticker on /public', () => (ticks.length > 0 ? true : undefined));
    const account = connector.account({ apiKey: 'routes-user', apiSecret: 'routes-secret' });
    const updates: string[] = [];
    const userStream = await account.subscribeOrderUpdates((order) => updates.push(order.clientOrderId));
    expect(
      (await account.placeOrder({ clientOrderId: 'routes-1', symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', reduceOnly: false })).kind,
    ).toBe('accepted');
    await waitFor('the order update on /private', () => (updates.includes('routes-1') ? true : undefined));
    await userStream.close();
    await subscription.close();
    await account.close();
  });

  it('the legacy routes stay available as an option', async () => {
    const connector = createBinanceConnector({
      restBaseUrl: legacySim.restBaseUrl,
      wsBaseUrl: legacySim.wsBaseUrl,
      restTimeoutMs: 5_000,
      streamRoutes: 'legacy',
    });
    const ticks: BookTicker[] = [];
    const subscription = await connector.marketData().subscribeBookTicker(['ETHUSDT'], (tick) => ticks.push(tick));
    await waitFor('a book ticker on the legacy route', () => (ticks.length > 0 ? true : undefined));
    await subscription.close();
  });
});
