import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { ExchangeAccount, ExchangeConnector } from '../../src/exchange/port.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';

// A refusal (a 4xx answer with a Binance error code) is classified without any error stack being formatted. Axios made
// each one an AxiosError and formatted two stacks to splice them (Axios.request); with source maps on (tsx) that was
// ~0.2 ms of CPU per refusal, and at 10 000 sessions every entry begins with a refused post-only order (-5022).
// Against the simulator over HTTP, through the real SDK.

describe('a refused request', () => {
  let sim: SimulatorHandle;
  let connector: ExchangeConnector;
  let account: ExchangeAccount;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 3, priceStepMs: 50 });
    connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 2_000 });
    account = connector.account({ apiKey: 'refusal-cost', apiSecret: 'secret' });
    await account.getPositions(); // the clock sync and the first connection, outside what is counted
  });
  afterAll(async () => {
    await account.close();
    await sim.close();
  });

  it('is classified with its code and formats no stack', async () => {
    let formatted = 0;
    const original = Error.prepareStackTrace;
    // Called by V8 whenever an error's stack is read for the first time.
    Error.prepareStackTrace = (error, frames) => {
      formatted += 1;
      return `${String(error)}\n${frames.map((f) => `    at ${String(f)}`).join('\n')}`;
    };
    try {
      // Reduce-only with no position: refused with -2022 (ReduceOnly Order is rejected).
      const refused = await account.placeOrder({
        clientOrderId: 'refused-1',
        symbol: 'ETHUSDT',
        side: 'SELL',
        type: 'MARKET',
        quantity: '0.050',
        reduceOnly: true,
      });
      expect(refused).toMatchObject({ kind: 'rejected', code: -2022 });
      const unknown = await account.queryOrder('ETHUSDT', 'never-placed');
      expect(unknown).toMatchObject({ kind: 'not_found' });
    } finally {
      Error.prepareStackTrace = original;
    }
    expect(formatted).toBe(0);
  });
});
