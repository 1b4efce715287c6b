import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { ExchangeAccount } from '../../src/exchange/port.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { apiClient } from '../paper-exchange/helpers.js';

// The adapter's account preflight calls, through the real SDK, against the paper exchange.

let sim: SimulatorHandle;
let account: ExchangeAccount;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 5, priceStepMs: 50, startingBalanceUsd: 25_000 });
  account = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 1_000 }).account({
    apiKey: 'margin-adapter',
    apiSecret: 's',
  });
});
afterAll(async () => {
  await account.close();
  await sim.close();
});

it('reads position mode, multi-assets mode, balance and brackets; sets leverage and margin type', async () => {
  const state = await account.readMarginState?.(['BTCUSDT']);
  expect(state).toMatchObject({ dualSidePosition: false, multiAssetsMargin: false, availableBalanceUsd: '25000.00000000', positions: [] });
  expect(state?.brackets.BTCUSDT?.[0]).toMatchObject({ initialLeverage: 125, maintMarginRatio: '0.004' });
  expect(Object.keys(state?.brackets ?? {})).toEqual(['BTCUSDT']);

  expect(await account.setLeverage?.('BTCUSDT', 7)).toEqual({ kind: 'ok' });
  expect(await account.setLeverage?.('BTCUSDT', 500)).toMatchObject({ kind: 'rejected', code: -4028 });
  // Already CROSSED: Binance's -4046 "No need to change margin type." reads as done.
  expect(await account.setMarginType?.('BTCUSDT', 'CROSSED')).toEqual({ kind: 'ok' });
  expect(await account.setMarginType?.('BTCUSDT', 'ISOLATED')).toEqual({ kind: 'ok' });
});

it("reads the BNB fee discount as the account's setting says (GET /fapi/v1/feeBurn)", async () => {
  expect(await account.readMarginState?.(['BTCUSDT'])).toMatchObject({ feeBurn: false });
  const keys = apiClient(sim.restBaseUrl, 'margin-adapter');
  expect((await keys.signed('POST', '/fapi/v1/feeBurn', { feeBurn: 'true' })).status).toBe(200);
  expect(await account.readMarginState?.(['BTCUSDT'])).toMatchObject({ feeBurn: true });
  expect((await keys.signed('POST', '/fapi/v1/feeBurn', { feeBurn: 'false' })).status).toBe(200);
  expect(await account.readMarginState?.(['BTCUSDT'])).toMatchObject({ feeBurn: false });
});
