import { afterAll, beforeAll, describe, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { openWs, type WsProbe } from '../paper-exchange/helpers.js';
import { expectShapeOf } from './expect-shape.js';

// The market streams beyond bookTicker (simulator.test.ts), against the examples of their USDⓈ-M pages
// (fixtures/SOURCES.md): each subscribed on the route Binance serves it on, first event's shape checked.

const expectShape = expectShapeOf({});
type Rec = Record<string, unknown>;
let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 13 });
});
afterAll(async () => {
  await sim.close();
});

async function firstEvent(route: 'public' | 'market', stream: string): Promise<unknown> {
  const ws: WsProbe = await openWs(`${sim.wsBaseUrl}/${route}/stream`);
  try {
    ws.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: [stream], id: 1 }));
    const message = (await ws.waitFor((m) => (m as Rec).stream === stream, 5_000)) as { data: unknown };
    return message.data;
  } finally {
    ws.close();
  }
}

describe('market streams, as documented', () => {
  it('<symbol>@depth5 (partial book depth) and <symbol>@depth (diff depth), on /public', async () => {
    expectShape('partial-depth-stream', await firstEvent('public', 'btcusdt@depth5'));
    expectShape('diff-depth-stream', await firstEvent('public', 'btcusdt@depth'));
  });

  it('<symbol>@aggTrade, on /market', async () => {
    expectShape('agg-trade-stream', await firstEvent('market', 'btcusdt@aggTrade'));
  });

  it('<symbol>@markPrice and <symbol>@markPrice@1s, on /market', async () => {
    expectShape('mark-price-stream', await firstEvent('market', 'btcusdt@markPrice'));
    expectShape('mark-price-stream', await firstEvent('market', 'btcusdt@markPrice@1s'));
  });

  it('<symbol>@miniTicker, on /market', async () => {
    expectShape('mini-ticker-stream', await firstEvent('market', 'btcusdt@miniTicker'));
  });
});
