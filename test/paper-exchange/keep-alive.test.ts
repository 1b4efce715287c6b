import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, field, sleep } from './helpers.js';

// The server pings every connection (Binance: every 3 minutes) and drops one that has not answered for the pong
// timeout (10 minutes), scaled down here. Without the pings a quiet account's user stream looked dead to the adapter
// after its 10-minute idle timeout, and every quiet account asked for a new listen key.

let sim: SimulatorHandle;
let url: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 1_000, seed: 29, wsPingEveryMs: 40, wsPongTimeoutMs: 300 });
  const api = apiClient(sim.restBaseUrl, 'keep-alive');
  const listenKey = String(field(await api.apiKeyCall('POST', '/fapi/v1/listenKey'), 'listenKey'));
  url = `${sim.wsBaseUrl}/private/ws?listenKey=${listenKey}`;
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await sim.close();
});

async function connect(autoPong: boolean): Promise<{ ws: WebSocket; pings: () => number; closed: () => boolean }> {
  const ws = new WebSocket(url, { autoPong });
  sockets.push(ws);
  let pings = 0;
  let closed = false;
  ws.on('ping', () => (pings += 1));
  ws.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, pings: () => pings, closed: () => closed };
}

describe('keep-alive', () => {
  it('pings a quiet user-data connection, keeps the one that answers, drops the one that does not', async () => {
    const answering = await connect(true);
    const silent = await connect(false);
    await sleep(600);
    expect(answering.pings()).toBeGreaterThanOrEqual(3);
    expect(answering.closed()).toBe(false);
    expect(silent.closed()).toBe(true);
  });
});
