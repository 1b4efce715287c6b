import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, field, openWs, type WsProbe } from './helpers.js';

// A replayed quote (POST /sim/v1/touch, or the handle's setTouch): the touch exactly as given, the walk paused so it
// holds, the book published with the quote's time, resting orders it trades through filled; the tape stays as set
// (off here, as a backtest has it). Bad touches are refused.

let sim: SimulatorHandle;
const probes: WsProbe[] = [];
beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 23, book: { maxTouchTradeFraction: 0 } });
});
afterAll(async () => {
  for (const p of probes) p.close();
  await sim.close();
});

type Rec = Record<string, unknown>;

async function touch(params: Record<string, string>): Promise<Response> {
  return fetch(`${sim.restBaseUrl}/sim/v1/touch?${new URLSearchParams(params).toString()}`, { method: 'POST' });
}

describe('touch control', () => {
  it('sets the touch exactly and publishes it with the quote time; the walk stays paused until resumed', async () => {
    const p = await openWs(`${sim.wsBaseUrl}/public/ws/btcusdt@bookTicker`);
    probes.push(p);
    const res = await touch({ symbol: 'BTCUSDT', bid: '86944.4', ask: '86944.5', time: '1767247200000' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ symbol: 'BTCUSDT', bid: '86944.40', ask: '86944.50', time: 1767247200000 }); // at the price scale;
    const msg = (await p.waitFor((m) => (m as Rec).T === 1767247200000)) as Rec;
    expect(msg).toMatchObject({ s: 'BTCUSDT', b: '86944.40', a: '86944.50' });
    // Paused: however long the price step is, nothing else is published and the book still shows the touch.
    const api = apiClient(sim.restBaseUrl, 'touch-key');
    const book = await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'BTCUSDT' });
    expect([field(book, 'bidPrice'), field(book, 'askPrice')]).toEqual(['86944.40', '86944.50']);
    expect(p.messages.filter((m) => (m as Rec).e === 'bookTicker').at(-1)).toBe(msg);
    sim.pausePriceProcess(false);
    await p.waitFor((m) => (m as Rec).e === 'bookTicker' && (m as Rec).T !== 1767247200000);
    sim.setTouch('BTCUSDT', '86944.4', '86944.5');
  });

  it('a resting order fills only when a touch trades through it (the tape off)', async () => {
    const api = apiClient(sim.restBaseUrl, 'touch-maker');
    sim.setTouch('BTCUSDT', '86950.0', '86950.1', 1767247201000);
    const order = await api.signed('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTX',
      price: '86950.0',
      quantity: '0.010',
    });
    expect(order.status).toBe(200);
    sim.setTouch('BTCUSDT', '86949.9', '86950.1', 1767247202000); // the bid moved under it: not traded through
    sim.setTouch('BTCUSDT', '86950.0', '86950.1', 1767247203000); // back at the touch, no tape: still resting
    expect(sim.orders().find((o) => o.accountKey === 'touch-maker')?.status).toBe('NEW');
    sim.setTouch('BTCUSDT', '86949.0', '86950.0', 1767247204000); // the ask reached it: filled as maker at its price
    expect(sim.orders().find((o) => o.accountKey === 'touch-maker')).toMatchObject({ status: 'FILLED', executedQty: '0.010' });
    expect(sim.trades('touch-maker')).toMatchObject([{ symbol: 'BTCUSDT', side: 'BUY', price: '86950.00', qty: '0.010', maker: true }]);
  });

  it('refuses a touch off the tick grid, crossed, unknown or without a time it can read', async () => {
    expect((await touch({ symbol: 'BTCUSDT', bid: '86944.45', ask: '86944.5' })).status).toBe(400);
    expect((await touch({ symbol: 'BTCUSDT', bid: '86944.5', ask: '86944.5' })).status).toBe(400);
    expect((await touch({ symbol: 'BTCUSDT', bid: '-1', ask: '86944.5' })).status).toBe(400);
    expect((await touch({ symbol: 'NOPEUSDT', bid: '1', ask: '2' })).status).toBe(400);
    expect((await touch({ symbol: 'BTCUSDT', bid: '86944.4', ask: '86944.5', time: 'soon' })).status).toBe(400);
    expect(() => sim.setTouch('BTCUSDT', '86944.5', '86944.4')).toThrow();
  });
});
