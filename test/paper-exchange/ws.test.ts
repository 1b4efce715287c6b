import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { apiClient, field, openWs, sleep, type WsProbe } from './helpers.js';

let sim: SimulatorHandle;
const probes: WsProbe[] = [];

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 3, legacyStreamRoutes: true });
});
afterAll(async () => {
  for (const p of probes) p.close();
  await sim.close();
});

async function probe(path: string): Promise<WsProbe> {
  const p = await openWs(`${sim.wsBaseUrl}${path}`);
  probes.push(p);
  return p;
}

type Rec = Record<string, unknown>;
const isBookTicker = (symbol: string) => (m: unknown) => (m as Rec).e === 'bookTicker' && (m as Rec).s === symbol;

describe('market streams', () => {
  it('/ws/<symbol>@bookTicker sends raw bookTicker events on every price step', async () => {
    const p = await probe('/ws/btcusdt@bookTicker');
    const msg = (await p.waitFor(isBookTicker('BTCUSDT'))) as Rec;
    expect(Object.keys(msg).sort()).toEqual(['A', 'B', 'E', 'T', 'a', 'b', 'e', 's', 'u']);
    expect(Number(msg.a)).toBeGreaterThan(Number(msg.b));
    await sleep(200);
    expect(p.messages.length).toBeGreaterThan(3);
    expect(p.messages.every(isBookTicker('BTCUSDT'))).toBe(true);
  });

  it('/stream?streams=a/b wraps events as {stream, data}', async () => {
    const p = await probe('/stream?streams=ethusdt@bookTicker/solusdt@bookTicker');
    const wrapped = (m: unknown, symbol: string) => (m as Rec).stream === `${symbol.toLowerCase()}@bookTicker` && isBookTicker(symbol)((m as Rec).data);
    await p.waitFor((m) => wrapped(m, 'ETHUSDT'));
    await p.waitFor((m) => wrapped(m, 'SOLUSDT'));
    expect(p.messages.some((m) => wrapped(m, 'BTCUSDT'))).toBe(false);
  });

  it('SUBSCRIBE on the SDK URL (/public/stream) acks {result:null,id} and starts the stream', async () => {
    const p = await probe('/public/stream');
    await sleep(60);
    expect(p.messages).toEqual([]);
    p.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@bookTicker'], id: 7 }));
    await p.waitFor((m) => (m as Rec).id === 7 && (m as Rec).result === null);
    await p.waitFor((m) => (m as Rec).stream === 'btcusdt@bookTicker');
  });

  it('wsSilent stops market data while the connection stays open, then resumes', async () => {
    const p = await probe('/ws/solusdt@bookTicker');
    await p.waitFor(isBookTicker('SOLUSDT'));
    sim.faults.wsSilent = true;
    try {
      await sleep(50); // let in-flight frames land
      p.messages.length = 0;
      await sleep(200); // ~10 price steps
      expect(p.messages).toEqual([]);
      expect(p.ws.readyState).toBe(p.ws.OPEN);
    } finally {
      sim.faults.wsSilent = false;
    }
    await p.waitFor(isBookTicker('SOLUSDT'));
  });

  it('answers ping frames and dropWsConnections closes every socket', async () => {
    const p = await probe('/ws/btcusdt@bookTicker');
    const pong = new Promise<void>((resolve) => p.ws.once('pong', () => resolve()));
    p.ws.ping();
    await pong;
    const closed = new Promise<number>((resolve) => p.ws.once('close', (code) => resolve(code)));
    sim.faults.dropWsConnections();
    expect(await closed).toBe(1006);
  });
});

describe('user data stream', () => {
  it('ORDER_TRADE_UPDATE and ACCOUNT_UPDATE arrive on /private/stream?listenKey= (SDK scheme) when a MARKET order fills', async () => {
    const api = apiClient(sim.restBaseUrl, 'ws-user-1');
    const lk = await api.apiKeyCall('POST', '/fapi/v1/listenKey');
    const listenKey = String(field(lk, 'listenKey'));
    expect(listenKey).toMatch(/^[0-9a-f]{64}$/);
    const again = await api.apiKeyCall('PUT', '/fapi/v1/listenKey');
    expect(field(again, 'listenKey')).toBe(listenKey);

    const p = await probe(`/private/stream?listenKey=${listenKey}`);
    await api.signed('POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.002',
      newClientOrderId: 'ws-mkt-1',
    });
    const trade = (await p.waitFor((m) => (m as Rec).stream === listenKey && (m as { data: { o?: Rec } }).data.o?.x === 'TRADE')) as {
      data: { e: string; o: Rec };
    };
    expect(trade.data.e).toBe('ORDER_TRADE_UPDATE');
    expect(trade.data.o).toMatchObject({ s: 'BTCUSDT', c: 'ws-mkt-1', S: 'BUY', o: 'MARKET', X: 'FILLED', l: '0.002', z: '0.002', R: false });
    expect(Number(trade.data.o.L)).toBeGreaterThan(0);
    const account = (await p.waitFor((m) => (m as { data: Rec }).data.e === 'ACCOUNT_UPDATE')) as {
      data: { a: { P: Rec[] } };
    };
    expect(account.data.a.P[0]).toMatchObject({ s: 'BTCUSDT', pa: '0.002', ps: 'BOTH' });
    // The NEW event precedes the fill.
    const events = p.messages.map((m) => (m as { data: { o?: Rec } }).data.o?.x).filter(Boolean);
    expect(events.slice(0, 2)).toEqual(['NEW', 'TRADE']);
  });

  it('/ws/<listenKey> gets raw events when a resting order fills on setMid', async () => {
    const api = apiClient(sim.restBaseUrl, 'ws-user-2');
    const listenKey = String(field(await api.apiKeyCall('POST', '/fapi/v1/listenKey'), 'listenKey'));
    const p = await probe(`/ws/${listenKey}`);
    sim.pausePriceProcess(true);
    try {
      const book = await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'ETHUSDT' });
      const ask = Number(field(book, 'askPrice'));
      const price = (ask + 3).toFixed(2);
      await api.signed('POST', '/fapi/v1/order', {
        symbol: 'ETHUSDT',
        side: 'SELL',
        type: 'LIMIT',
        timeInForce: 'GTX',
        price,
        quantity: '0.010',
        newClientOrderId: 'ws-gtx-1',
      });
      await p.waitFor((m) => (m as { o?: Rec }).o?.x === 'NEW');
      expect(p.messages.some((m) => (m as { o?: Rec }).o?.x === 'TRADE')).toBe(false);
      sim.setMid('ETHUSDT', ask + 10);
      const fill = (await p.waitFor((m) => (m as { o?: Rec }).o?.x === 'TRADE')) as { o: Rec };
      expect(fill.o).toMatchObject({ c: 'ws-gtx-1', X: 'FILLED', L: price, m: true });
    } finally {
      sim.pausePriceProcess(false);
    }
  });

  it('rejects a private stream connection with an unknown listenKey', async () => {
    await expect(openWs(`${sim.wsBaseUrl}/private/stream?listenKey=nope`)).rejects.toThrow(/400/);
  });
});
