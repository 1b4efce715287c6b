import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/paper-exchange/server.js';
import { toUserDataEvent } from '../../src/exchange/binance/mapping.js';
import { apiClient, errorCode, field, openWs, placeTestStop, sleep, type WsProbe } from './helpers.js';

// The user stream's life on the paper exchange, scaled down in time: a listen key lives `listenKeyValidityMs` after
// its creation or last keep-alive, then `listenKeyExpired` is pushed and nothing more is delivered on it (the socket
// stays open: the silent case); a PUT on it answers -1125; a user-data connection is closed at its lifetime cap, and a
// market-stream connection at its own.
// Conditional orders report their life as ALGO_UPDATE, and a trigger's `ai` is the id of the order it placed.

type Rec = Record<string, unknown>;

let sim: SimulatorHandle | null = null;
const probes: WsProbe[] = [];

afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  await sim?.close();
  sim = null;
});

async function start(opts: SimulatorOptions): Promise<SimulatorHandle> {
  sim = await startSimulator({ priceStepMs: 20, seed: 7, ...opts });
  return sim;
}

async function userStream(s: SimulatorHandle, apiKey: string): Promise<{ api: ReturnType<typeof apiClient>; listenKey: string; stream: WsProbe }> {
  const api = apiClient(s.restBaseUrl, apiKey);
  const listenKey = String(field(await api.apiKeyCall('POST', '/fapi/v1/listenKey'), 'listenKey'));
  const stream = await openWs(`${s.wsBaseUrl}/private/ws?listenKey=${listenKey}`);
  probes.push(stream);
  return { api, listenKey, stream };
}

const isOrderUpdate = (m: unknown): boolean => (m as Rec).e === 'ORDER_TRADE_UPDATE';

describe('paper exchange user stream life', () => {
  it('a key not kept alive expires: listenKeyExpired, then silence on the open socket, and PUT answers -1125', async () => {
    const s = await start({ listenKeyValidityMs: 1_000 });
    const { api, listenKey, stream } = await userStream(s, 'expiring');
    const expired = (await stream.waitFor((m) => (m as Rec).e === 'listenKeyExpired', 5_000)) as Rec;
    expect(expired.listenKey).toBe(listenKey);
    expect(stream.ws.readyState).toBe(stream.ws.OPEN); // open, and silent from now on

    const put = await api.apiKeyCall('PUT', '/fapi/v1/listenKey');
    expect(put.status).toBe(400);
    expect(errorCode(put)).toBe(-1125);

    await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01' });
    await sleep(200);
    expect(stream.messages.some(isOrderUpdate)).toBe(false);

    // A new key (POST) is a new stream; the dead one cannot be connected to.
    const fresh = String(field(await api.apiKeyCall('POST', '/fapi/v1/listenKey'), 'listenKey'));
    expect(fresh).not.toBe(listenKey);
    await expect(openWs(`${s.wsBaseUrl}/private/ws?listenKey=${listenKey}`)).rejects.toThrow();
  });

  it('keep-alives extend the key past its validity', async () => {
    const s = await start({ listenKeyValidityMs: 1_500 });
    const { api, stream } = await userStream(s, 'kept');
    for (let i = 0; i < 5; i += 1) {
      await sleep(400); // 2 s in all: past the validity, well inside it between keep-alives
      expect((await api.apiKeyCall('PUT', '/fapi/v1/listenKey')).status).toBe(200);
    }
    expect(stream.messages.some((m) => (m as Rec).e === 'listenKeyExpired')).toBe(false);
    await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01' });
    await stream.waitFor(isOrderUpdate);
  });

  it('closes a user-data connection at its lifetime cap; the key stays valid', async () => {
    const s = await start({ userStreamMaxLifetimeMs: 1_000 });
    const { api, stream } = await userStream(s, 'lifetime');
    const closed = await new Promise<number>((resolve) => stream.ws.once('close', (code) => resolve(code)));
    expect(closed).toBe(1001);
    expect((await api.apiKeyCall('PUT', '/fapi/v1/listenKey')).status).toBe(200);
  });

  it('closes a market-stream connection at its own lifetime cap, on every market route, and not a user-data one', async () => {
    const s = await start({ marketStreamMaxLifetimeMs: 1_000 });
    const { stream: user } = await userStream(s, 'long-lived');
    const book = await openWs(`${s.wsBaseUrl}/public/ws/btcusdt@bookTicker`);
    const marks = await openWs(`${s.wsBaseUrl}/market/ws/btcusdt@markPrice`);
    probes.push(book, marks);
    await book.waitFor((m) => (m as Rec).e === 'bookTicker');
    const closes = await Promise.all([book, marks].map((p) => new Promise<number>((resolve) => p.ws.once('close', (code) => resolve(code)))));
    expect(closes).toEqual([1001, 1001]);
    expect(user.ws.readyState).toBe(user.ws.OPEN);
  });

  it("pushes ACCOUNT_CONFIG_UPDATE when a symbol's leverage or the multi-assets mode changes, and not for the same value", async () => {
    const s = await start({});
    const { api, stream } = await userStream(s, 'configured');
    const isConfig = (m: unknown): boolean => (m as Rec).e === 'ACCOUNT_CONFIG_UPDATE';
    expect((await api.signed('POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: '25' })).status).toBe(200);
    expect(await stream.waitFor(isConfig)).toMatchObject({ ac: { s: 'BTCUSDT', l: 25 } });
    expect((await api.signed('POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: '25' })).status).toBe(200);
    expect((await api.signed('POST', '/fapi/v1/multiAssetsMargin', { multiAssetsMargin: 'true' })).status).toBe(200);
    await stream.waitFor((m) => isConfig(m) && (m as Rec).ai !== undefined);
    expect(stream.messages.filter(isConfig)).toEqual([expect.objectContaining({ ac: { s: 'BTCUSDT', l: 25 } }), expect.objectContaining({ ai: { j: true } })]);
  });

  it("pushes ACCOUNT_UPDATE MARGIN_TYPE_CHANGE with the symbol's new mt when its margin type changes, and nothing for a refused change", async () => {
    const s = await start({});
    const { api, stream } = await userStream(s, 'margined');
    const isMarginType = (m: unknown): boolean => (m as Rec).e === 'ACCOUNT_UPDATE' && ((m as Rec).a as Rec | undefined)?.m === 'MARGIN_TYPE_CHANGE';
    expect((await api.signed('POST', '/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'ISOLATED' })).status).toBe(200);
    const pushed = await stream.waitFor(isMarginType);
    expect(pushed).toMatchObject({ a: { m: 'MARGIN_TYPE_CHANGE', P: [{ s: 'BTCUSDT', pa: '0', mt: 'isolated' }] } });
    expect(toUserDataEvent(pushed)).toEqual({ kind: 'config', changes: [{ kind: 'margin_type', symbol: 'BTCUSDT', isolated: true }] });
    // The same type again is refused (-4046), and a position's later ORDER update says isolated.
    expect((await api.signed('POST', '/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'ISOLATED' })).status).toBe(400);
    await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01' });
    const order = await stream.waitFor((m) => (m as Rec).e === 'ACCOUNT_UPDATE' && ((m as Rec).a as Rec).m === 'ORDER');
    expect(order).toMatchObject({ a: { P: [{ s: 'BTCUSDT', mt: 'isolated' }] } });
    expect(stream.messages.filter(isMarginType)).toHaveLength(1);
  });

  it('the userStreamSilent fault stops deliveries on a valid key', async () => {
    const s = await start({});
    const { api, stream } = await userStream(s, 'deaf');
    s.faults.userStreamSilent = true;
    await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01' });
    await sleep(200);
    expect(stream.messages.some(isOrderUpdate)).toBe(false);
    expect((await api.apiKeyCall('PUT', '/fapi/v1/listenKey')).status).toBe(200);
    s.faults.userStreamSilent = false;
    await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.01' });
    await stream.waitFor(isOrderUpdate);
  });

  it('ALGO_UPDATE: NEW, then TRIGGERED with ai = the order it placed (before that order’s updates), then FINISHED; CANCELED', async () => {
    const s = await start({});
    s.pausePriceProcess(true);
    const { api, stream } = await userStream(s, 'algo');
    await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01' });
    const { res: placed, trigger } = await placeTestStop(api, 'qs-test-1');
    expect(placed.status).toBe(200);
    const algoOf = (m: unknown): Rec | null => ((m as Rec).e === 'ALGO_UPDATE' ? ((m as Rec).o as Rec) : null);
    const isAlgo = (status: string) => (m: unknown) => algoOf(m)?.caid === 'qs-test-1' && algoOf(m)?.X === status;
    expect(algoOf(await stream.waitFor(isAlgo('NEW')))).toMatchObject({ aid: field(placed, 'algoId'), s: 'BTCUSDT', S: 'SELL', ai: '' });

    s.setMid('BTCUSDT', Number(trigger) * 0.99);
    const triggered = algoOf(await stream.waitFor(isAlgo('TRIGGERED'))) as Rec;
    const finished = await stream.waitFor(isAlgo('FINISHED'));
    const actual = String(triggered.ai);
    expect(actual).not.toBe('');
    const orderUpdates = stream.messages.filter((m) => isOrderUpdate(m) && String(((m as Rec).o as Rec).i) === actual);
    expect(orderUpdates.map((m) => ((m as Rec).o as Rec).x)).toEqual(['NEW', 'TRADE']);
    // Pushed in the order a client needs to link them: TRIGGERED, the order's updates, FINISHED.
    const at = (m: unknown): number => stream.messages.indexOf(m);
    const triggeredMsg = stream.messages.find(isAlgo('TRIGGERED'));
    expect(at(triggeredMsg)).toBeLessThan(at(orderUpdates[0]));
    expect(at(orderUpdates[1])).toBeLessThan(at(finished));
    expect(algoOf(finished)?.ai).toBe(actual);

    // A cancel is reported too.
    await api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01' });
    const low = (Math.floor((Number(trigger) * 0.9) / 0.1) * 0.1).toFixed(1);
    await api.signed('POST', '/fapi/v1/algoOrder', {
      algoType: 'CONDITIONAL',
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'STOP_MARKET',
      triggerPrice: low,
      closePosition: 'true',
      clientAlgoId: 'qs-test-2',
    });
    await api.signed('DELETE', '/fapi/v1/algoOrder', { clientAlgoId: 'qs-test-2' });
    await stream.waitFor((m) => algoOf(m)?.caid === 'qs-test-2' && algoOf(m)?.X === 'CANCELED');
  });
});
