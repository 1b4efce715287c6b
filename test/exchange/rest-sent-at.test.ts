import { executionAsyncId } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestClient } from '../../src/exchange/binance/rest-client.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';

// Each REST answer's headers reach the rate budget with the time its request was sent (to book its weight into that
// minute). That time came from an AsyncLocalStorage around the call; once one is used, Node runs async hooks on every
// promise of the process for good (each await ~2.5 times as costly), so the adapter stamps it into the answer instead.
// Against the simulator over HTTP, through the real SDK.

/** The async id a promise continuation runs under: 0 unless async hooks track promises. */
const continuationAsyncId = (): Promise<number> => Promise.resolve().then(() => executionAsyncId());

describe('a REST answer', () => {
  let sim: SimulatorHandle;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 5, priceStepMs: 50 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('reaches the rate budget with its send time, and leaves promises untracked', async () => {
    expect(await continuationAsyncId()).toBe(0);
    const seen: { weight: unknown; sentAtMs: number | undefined }[] = [];
    const client = createRestClient(
      { restBaseUrl: sim.restBaseUrl, restTimeoutMs: 2_000, recvWindowMs: 5_000, apiKey: 'sent-at', apiSecret: 'secret' },
      (headers, sentAtMs) => seen.push({ weight: (headers as Record<string, unknown>)['x-mbx-used-weight-1m'], sentAtMs }),
    );
    const before = Date.now();
    await client.getPositionsV3();
    const after = Date.now();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.weight).toBeDefined();
    expect(seen[0]?.sentAtMs).toBeGreaterThanOrEqual(before);
    expect(seen[0]?.sentAtMs).toBeLessThanOrEqual(after);
    // No async hooks were turned on by the call: promise continuations still run untracked.
    expect(await continuationAsyncId()).toBe(0);
  });
});
