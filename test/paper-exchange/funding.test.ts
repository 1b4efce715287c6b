import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/paper-exchange/server.js';
import { parseArgs } from '../../src/paper-exchange/main.js';
import { add, div, mul, neg, round, toDecimal } from '../../src/model/decimal.js';
import { apiClient, field, openWs, sleep, type WsProbe } from './helpers.js';

type Rec = Record<string, unknown>;

let sim: SimulatorHandle;
const probes: WsProbe[] = [];

beforeAll(async () => {
  sim = await startSimulator({ priceStepMs: 20, seed: 5 });
  sim.pausePriceProcess(true); // a still mark, so the expected amounts are exact
});
afterAll(async () => {
  for (const p of probes) p.close();
  await sim.close();
});

async function userStream(apiKey: string): Promise<{ api: ReturnType<typeof apiClient>; stream: WsProbe }> {
  const api = apiClient(sim.restBaseUrl, apiKey);
  const listenKey = String(field(await api.apiKeyCall('POST', '/fapi/v1/listenKey'), 'listenKey'));
  const stream = await openWs(`${sim.wsBaseUrl}/private/ws?listenKey=${listenKey}`);
  probes.push(stream);
  return { api, stream };
}

async function markOf(api: ReturnType<typeof apiClient>, symbol: string): Promise<string> {
  const book = await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol });
  return div(add(toDecimal(String(field(book, 'bidPrice'))), toDecimal(String(field(book, 'askPrice')))), toDecimal(2), 12, 'half-even');
}

const isFunding = (m: unknown): boolean =>
  (m as { e?: string; a?: { m?: string } }).e === 'ACCOUNT_UPDATE' && (m as { a: { m: string } }).a.m === 'FUNDING_FEE';

describe('simulator funding', () => {
  it('defaults to no funding; the CLI takes --funding-rate-bps and --funding-interval-ms', () => {
    expect(sim.funding()).toEqual({ rateBps: 0, intervalMs: 8 * 60 * 60 * 1000 });
    expect(parseArgs(['--funding-rate-bps', '-2.5', '--funding-interval-ms=1000'])).toMatchObject({ fundingRateBps: -2.5, fundingIntervalMs: 1000 });
    expect(() => parseArgs(['--funding-rate-bps', 'x'])).toThrow(/funding-rate-bps/);
    expect(() => parseArgs(['--funding-interval-ms', '0'])).toThrow(/funding-interval-ms/);
  });

  it('a long pays and a short receives notional at mark × rate each interval: ACCOUNT_UPDATE FUNDING_FEE and the income history', async () => {
    const long = await userStream('fund-long');
    const short = await userStream('fund-short');
    await long.api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', newClientOrderId: 'f-l-1' });
    await short.api.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.003', newClientOrderId: 'f-s-1' });
    const mark = await markOf(long.api, 'BTCUSDT');

    // Control API over HTTP: 10 bps every 150 ms.
    const control = await fetch(`${sim.restBaseUrl}/sim/v1/funding?rateBps=10&intervalMs=150`, { method: 'POST' });
    expect(await control.json()).toEqual({ rateBps: 10, intervalMs: 150 });

    const rate = toDecimal('0.001');
    const expectedLong = round(neg(mul(mul(toDecimal('0.002'), toDecimal(mark)), rate)), 8, 'half-even');
    const expectedShort = round(mul(mul(toDecimal('0.003'), toDecimal(mark)), rate), 8, 'half-even');
    const paid = (await long.stream.waitFor(isFunding)) as { a: { B: Rec[]; P: Rec[] } };
    expect(paid.a.B[0]).toMatchObject({ a: 'USDT', bc: expectedLong });
    expect(paid.a.P).toEqual([]); // cross position: balance only (Binance's brief funding message)
    const received = (await short.stream.waitFor(isFunding)) as { a: { B: Rec[] } };
    expect(received.a.B[0]).toMatchObject({ a: 'USDT', bc: expectedShort });

    sim.setFunding({ rateBps: 0 });
    const income = (await long.api.signed('GET', '/fapi/v1/income', { symbol: 'BTCUSDT' })).body as Rec[];
    const funding = income.filter((r) => r.incomeType === 'FUNDING_FEE');
    expect(funding.length).toBeGreaterThanOrEqual(1);
    expect(funding.every((r) => r.income === expectedLong && r.asset === 'USDT')).toBe(true);
    const commission = income.filter((r) => r.incomeType === 'COMMISSION');
    expect(commission).toHaveLength(1);
    expect(Number(commission[0]?.income)).toBeLessThan(0);
    const onlyFunding = (await long.api.signed('GET', '/fapi/v1/income', { incomeType: 'FUNDING_FEE' })).body as Rec[];
    expect(onlyFunding).toHaveLength(funding.length);

    // Rate 0 stops funding.
    const count = long.stream.messages.filter(isFunding).length;
    await sleep(400);
    expect(long.stream.messages.filter(isFunding).length).toBe(count);
  });

  it('a closing trade carries its realized profit (rp) and books REALIZED_PNL', async () => {
    const { api, stream } = await userStream('fund-rp');
    await api.signed('POST', '/fapi/v1/order', { symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', newClientOrderId: 'rp-1' });
    sim.setMid('ETHUSDT', 3_100);
    await api.signed('POST', '/fapi/v1/order', { symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.010', newClientOrderId: 'rp-2' });
    const close = (await stream.waitFor((m) => (m as { o?: Rec }).o?.c === 'rp-2' && (m as { o: Rec }).o.x === 'TRADE')) as { o: Rec };
    expect(Number(close.o.rp)).toBeGreaterThan(0);
    expect(close.o.N).toBe('USDT');
    const realized = ((await api.signed('GET', '/fapi/v1/income', { incomeType: 'REALIZED_PNL' })).body as Rec[])[0];
    expect(realized?.income).toBe(close.o.rp);
  });
});
