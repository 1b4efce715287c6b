import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSimSymbols, type SimulatorHandle, startSimulator } from '../../src/paper-exchange/server.js';
import { ListenKeys } from '../../src/paper-exchange/listen-keys.js';
import { memoryPaperState } from '../../src/paper-exchange/state-store.js';
import { maxIncomeKeptPerAccount } from '../../src/paper-exchange/income-history.js';
import { trimBlockOf } from '../../src/util/keep-newest.js';
import { sigkill } from '../support/sigkill.js';
import { apiClient, type ApiClient, field, openWs, storeKinds } from './helpers.js';

// Issue 17: the paper exchange keeps its state. A standalone `simulator --state PATH` killed with SIGKILL and
// started again on the same file has the same wallet, positions, resting orders and stops, and its prices and
// book clock continue; a reset (control API) gives a blank account and pushes the flat position.

const mainPath = fileURLToPath(new URL('../../src/paper-exchange/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qe-sim-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startProcess(args: string[]): Promise<{ child: ChildProcess; restUrl: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainPath, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const restUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /REST (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return { child, restUrl, output: () => out };
}

interface AccountView {
  wallet: string;
  position: { positionAmt: string; entryPrice: string } | undefined;
  openOrders: { orderId: number; clientOrderId: string; price: string; origQty: string }[];
  stops: { algoId: number; clientAlgoId: string; triggerPrice: string }[];
  incomeCount: number;
  /**
   * The account's trades (GET /fapi/v1/userTrades): an engine reads them after a restart to book what it missed (a
   * fill's commission). The exchange kept none across a restart before they were stored.
   */
  trades: unknown[];
  /** The BNB fee discount's flag (an account setting, kept with the margin settings). */
  feeBurn: boolean;
}

async function view(api: ApiClient): Promise<AccountView> {
  const balance = (await api.signed('GET', '/fapi/v2/balance')).body as { asset: string; balance: string }[];
  const positions = (await api.signed('GET', '/fapi/v2/positionRisk', { symbol: 'ETHUSDT' })).body as { positionAmt: string; entryPrice: string }[];
  const orders = (await api.signed('GET', '/fapi/v1/openOrders')).body as AccountView['openOrders'];
  const stops = (await api.signed('GET', '/fapi/v1/openAlgoOrders')).body as AccountView['stops'];
  const income = (await api.signed('GET', '/fapi/v1/income', { limit: '1000' })).body as unknown[];
  const { feeBurn } = (await api.signed('GET', '/fapi/v1/feeBurn')).body as { feeBurn: boolean };
  const trades = (await api.signed('GET', '/fapi/v1/userTrades', { symbol: 'ETHUSDT' })).body as unknown[];
  const first = positions[0];
  return {
    wallet: balance.find((b) => b.asset === 'USDT')?.balance ?? '',
    position: first ? { positionAmt: first.positionAmt, entryPrice: first.entryPrice } : undefined,
    openOrders: orders.map((o) => ({ orderId: o.orderId, clientOrderId: o.clientOrderId, price: o.price, origQty: o.origQty })),
    stops: stops.map((s) => ({ algoId: s.algoId, clientAlgoId: s.clientAlgoId, triggerPrice: s.triggerPrice })),
    incomeCount: income.length,
    trades,
    feeBurn,
  };
}

async function ticker(api: ApiClient): Promise<{ bid: number; updateId: number }> {
  const t = (await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'ETHUSDT' })).body as { bidPrice: string; lastUpdateId: number };
  return { bid: Number(t.bidPrice), updateId: t.lastUpdateId };
}

/** A position, a resting limit order below the market and a protective stop below that. */
async function trade(api: ApiClient): Promise<void> {
  const bid = (await ticker(api)).bid;
  const buy = await api.signed('POST', '/fapi/v1/order', { symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.166', newClientOrderId: 'open-1' });
  expect(buy.status).toBe(200);
  const limit = await api.signed('POST', '/fapi/v1/order', {
    symbol: 'ETHUSDT',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity: '0.010',
    price: (bid * 0.8).toFixed(2),
    newClientOrderId: 'rest-1',
  });
  expect(limit.status).toBe(200);
  const stop = await api.signed('POST', '/fapi/v1/algoOrder', {
    algoType: 'CONDITIONAL',
    type: 'STOP_MARKET',
    symbol: 'ETHUSDT',
    side: 'SELL',
    triggerPrice: (bid * 0.7).toFixed(2),
    closePosition: 'true',
    clientAlgoId: 'stop-1',
  });
  expect(stop.status).toBe(200);
}

/** Longer than any test here: the price timer never fires, so only the steps a test takes by hand move prices. */
const priceTimerBeyondTestMs = 3_600_000;

/** Every symbol's depth levels (prices from the price walk, sizes from the book's own PRNG). */
type BookView = Record<string, { bids: string[][]; asks: string[][] }>;

async function books(sim: SimulatorHandle): Promise<BookView> {
  const api = apiClient(sim.restBaseUrl, 'x');
  const view: BookView = {};
  for (const { symbol } of defaultSimSymbols) {
    const depth = (await api.publicGet('/fapi/v1/depth', { symbol, limit: '10' })).body as { bids: string[][]; asks: string[][] };
    view[symbol] = { bids: depth.bids, asks: depth.asks };
  }
  return view;
}

/** Pauses the walk, takes `steps` steps by hand recording the books after each, and closes the exchange. */
async function runFor(sim: SimulatorHandle, steps: number): Promise<BookView[]> {
  const seen: BookView[] = [];
  try {
    sim.pausePriceProcess(true);
    for (let i = 0; i < steps; i++) {
      sim.stepPriceProcess();
      seen.push(await books(sim));
    }
  } finally {
    await sim.close();
  }
  return seen;
}

describe('paper exchange state across restarts (issue 17)', () => {
  it(
    'a standalone simulator with --state, SIGKILLed and restarted, keeps wallet, positions, orders and stops; prices continue',
    { timeout: 60_000 },
    async () => {
      const statePath = join(dir, 'sim.db');
      const first = await startProcess(['--state', statePath, '--no-auth']);
      try {
        const api = apiClient(first.restUrl, 'user-a');
        await trade(api);
        expect((await api.signed('POST', '/fapi/v1/feeBurn', { feeBurn: 'true' })).status).toBe(200);
        const listenKey = ((await api.apiKeyCall('POST', '/fapi/v1/listenKey')).body as { listenKey: string }).listenKey;
        const before = await view(api);
        expect(before.position?.positionAmt).toBe('0.166');
        expect(before.openOrders).toHaveLength(1);
        expect(before.stops).toHaveLength(1);
        expect(before.feeBurn).toBe(true);
        expect(before.trades).toHaveLength(1);
        await new Promise((r) => setTimeout(r, 2_500)); // past a few price checkpoints (priceCheckpointIntervalMs)
        const lastTick = await ticker(api);
        await sigkill(first.child); // no clean shutdown: what was confirmed must already be on disk

        const second = await startProcess(['--state', statePath, '--no-auth']);
        try {
          expect(second.output()).toContain('(continued)');
          const api2 = apiClient(second.restUrl, 'user-a');
          expect(await view(api2)).toEqual(before);
          // The listen key too: a keep-alive extends it rather than answering -1125.
          expect((await api2.apiKeyCall('PUT', '/fapi/v1/listenKey')).body).toEqual({ listenKey });
          const tick = await ticker(api2);
          // The book clock continues from its last checkpoint (at most one interval, 4 price steps, before the kill)
          // rather than from 1, and so does the price.
          expect(tick.updateId).toBeGreaterThanOrEqual(lastTick.updateId - 6);
          expect(Math.abs(tick.bid - lastTick.bid) / lastTick.bid).toBeLessThan(0.005);
          // New ids never repeat an old one.
          const next = await api2.signed('POST', '/fapi/v1/order', { symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.001', reduceOnly: 'true' });
          expect(next.body).toMatchObject({ status: expect.any(String) });
          expect((next.body as { orderId: number }).orderId).toBeGreaterThan(Math.max(...before.openOrders.map((o) => o.orderId)));
        } finally {
          await sigkill(second.child);
        }
      } finally {
        await sigkill(first.child);
      }
    },
  );

  it('prices continue from the last checkpoint, not from the seed (in process, memory store)', async () => {
    const state = memoryPaperState();
    const first = await startSimulator({ state });
    first.setMid('ETHUSDT', 4_321);
    await first.close();
    const second = await startSimulator({ state });
    try {
      expect(second.restored).toBe(true);
      const bid = (await ticker(apiClient(second.restBaseUrl, 'x'))).bid;
      expect(Math.abs(bid - 4_321) / 4_321).toBeLessThan(0.005);
    } finally {
      await second.close();
    }
  });

  it('a restarted exchange continues the draws of its price walk and its book where an uninterrupted one would', async () => {
    // The timer never steps within the test (the walk is paused too): every step is taken by hand, so both runs
    // take exactly the same steps.
    const handStepped = { seed: 23, priceStepMs: priceTimerBeyondTestMs };
    const steps = 8;
    const restartAfter = 3;
    const expected = await runFor(await startSimulator(handStepped), steps);

    const state = memoryPaperState();
    const seen = await runFor(await startSimulator({ ...handStepped, state }), restartAfter);
    const second = await startSimulator({ ...handStepped, state });
    const atRestart = await books(second);
    seen.push(...(await runFor(second, steps - restartAfter)));
    expect(atRestart).toEqual(expected[restartAfter - 1]); // the same book as where it stopped
    expect(seen).toEqual(expected);
  });

  const stores = storeKinds(dir, 'bounded-income.db');

  it.each(stores)('keeps a bounded income history, and its store (%s) drops the rows of the records the exchange dropped', async (_kind, storeOf) => {
    // Before the bound, an account's income grew by a record a funding time or two a fill for as long as the exchange
    // ran, in memory and in the store, and each read scanned all of it.
    const open = storeOf();
    let state = open();
    const first = await startSimulator({ state, priceStepMs: priceTimerBeyondTestMs });
    const api = apiClient(first.restBaseUrl, 'income-key');
    const incomeRows = (): number => (state.load()?.kept.income ?? []).filter((row) => row.accountKey === 'income-key').length;
    // The oldest thousand records kept (from a startTime) and the newest thousand (without one).
    const page = async (sim: SimulatorHandle, from: Record<string, string>): Promise<unknown[]> =>
      (await apiClient(sim.restBaseUrl, 'income-key').signed('GET', '/fapi/v1/income', { limit: '1000', ...from })).body as unknown[];
    const ends = async (sim: SimulatorHandle): Promise<unknown[][]> => [await page(sim, { startTime: '0' }), await page(sim, {})];
    let kept: unknown[][];
    try {
      expect((await api.signed('POST', '/fapi/v1/order', { symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.166' })).status).toBe(200);
      // Funding times, committed as they come (a turn now and then), until well past the bound.
      const payments = maxIncomeKeptPerAccount + 3 * trimBlockOf(maxIncomeKeptPerAccount);
      for (let i = 1; i <= payments; i += 1) {
        first.fundNow('ETHUSDT', 1);
        if (i % 2_000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => setImmediate(resolve));
      const rows = incomeRows();
      expect(rows).toBeGreaterThanOrEqual(maxIncomeKeptPerAccount);
      expect(rows).toBeLessThan(maxIncomeKeptPerAccount + trimBlockOf(maxIncomeKeptPerAccount));
      kept = await ends(first);
      expect(kept[0]).toHaveLength(1_000);
      expect(kept[0]).not.toEqual(kept[1]);
    } finally {
      await first.close();
    }
    state = open();
    const second = await startSimulator({ state, priceStepMs: priceTimerBeyondTestMs });
    try {
      // The restarted exchange holds what the first one kept, from its oldest record to its newest.
      expect(await ends(second)).toEqual(kept);
      second.fundNow('ETHUSDT', 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(incomeRows()).toBeLessThan(maxIncomeKeptPerAccount + trimBlockOf(maxIncomeKeptPerAccount));
    } finally {
      await second.close();
    }
  });

  it('a client that reconnects with its listen key after a restart keeps receiving its user data', async () => {
    const state = memoryPaperState();
    const first = await startSimulator({ state });
    let listenKey: string;
    try {
      listenKey = ((await apiClient(first.restBaseUrl, 'user-c').apiKeyCall('POST', '/fapi/v1/listenKey')).body as { listenKey: string }).listenKey;
    } finally {
      await first.close();
    }
    const second = await startSimulator({ state });
    try {
      const api = apiClient(second.restBaseUrl, 'user-c');
      const ws = await openWs(`${second.wsBaseUrl}/private/ws/${listenKey}`);
      try {
        const buy = await api.signed('POST', '/fapi/v1/order', {
          symbol: 'ETHUSDT',
          side: 'BUY',
          type: 'MARKET',
          quantity: '0.010',
          newClientOrderId: 'after-restart',
        });
        expect(buy.status).toBe(200);
        const update = (await ws.waitFor((m) => (m as { e?: string }).e === 'ORDER_TRADE_UPDATE')) as { o: { c: string } };
        expect(update.o.c).toBe('after-restart');
      } finally {
        ws.close();
      }
      // Binance returns the account's active key on a new POST: the same one.
      expect((await api.apiKeyCall('POST', '/fapi/v1/listenKey')).body).toEqual({ listenKey });
    } finally {
      await second.close();
    }
  });

  it('a stored listen key is valid until its stored expiry, not a fresh 60 min from the restart', () => {
    const validityMs = 60 * 60_000;
    const before = new ListenKeys(validityMs);
    const listenKey = before.obtain('user-d', 0);
    const restoredAt = (nowMs: number): ListenKeys => {
      const keys = new ListenKeys(validityMs);
      keys.restore(before.stored(), nowMs);
      return keys;
    };
    expect(restoredAt(validityMs - 1).accountOf(listenKey, validityMs - 1)).toBe('user-d');
    expect(restoredAt(validityMs - 1).keepAlive('user-d', validityMs - 1)).toBe(listenKey);
    expect(restoredAt(validityMs).accountOf(listenKey, validityMs)).toBeUndefined();
    expect(restoredAt(validityMs).keepAlive('user-d', validityMs)).toBeUndefined();
  });

  it('a reset needs its confirmation, blanks the account, and pushes the flat position', async () => {
    const state = memoryPaperState();
    const sim = await startSimulator({ state });
    try {
      const api = apiClient(sim.restBaseUrl, 'user-b');
      await trade(api);
      const listenKey = (await api.apiKeyCall('POST', '/fapi/v1/listenKey')).body as { listenKey: string };
      const ws = await openWs(`${sim.wsBaseUrl}/private/ws/${listenKey.listenKey}`);
      const refused = await fetch(`${sim.restBaseUrl}/sim/v1/reset?account=user-b`, { method: 'POST' });
      expect(refused.status).toBe(400);
      expect((await view(api)).position?.positionAmt).toBe('0.166');
      const reset = await fetch(`${sim.restBaseUrl}/sim/v1/reset?account=user-b&confirm=RESET`, { method: 'POST' });
      expect(await reset.json()).toEqual({ reset: ['user-b'] });
      const flat = (await ws.waitFor((m) => (m as { e?: string }).e === 'ACCOUNT_UPDATE')) as { a: { P: { s: string; pa: string }[] } };
      expect(Number(flat.a.P.find((p) => p.s === 'ETHUSDT')?.pa)).toBe(0);
      ws.close();
      const after = await view(api);
      expect(after).toMatchObject({ wallet: '100000.00000000', openOrders: [], stops: [], incomeCount: 0 });
      expect(Number(after.position?.positionAmt ?? 0)).toBe(0);
      // The resting order was cancelled, not made unknown: a client that missed the push finds it CANCELED.
      const restingStatus = async (a: ApiClient): Promise<unknown> =>
        field(await a.signed('GET', '/fapi/v1/order', { symbol: 'ETHUSDT', origClientOrderId: 'rest-1' }), 'status');
      expect(await restingStatus(api)).toBe('CANCELED');
      await sim.close();
      // The reset is in the store too.
      const again = await startSimulator({ state });
      try {
        const api2 = apiClient(again.restBaseUrl, 'user-b');
        expect(Number((await view(api2)).position?.positionAmt ?? 0)).toBe(0);
        expect(await restingStatus(api2)).toBe('CANCELED');
      } finally {
        await again.close();
      }
    } finally {
      await sim.close();
    }
  });
});
