// Binance USDⓈ-M futures exchange simulator: REST + WebSocket on one port, with injectable faults.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatUnits } from '../model/decimal.js';
import { apiErrors, SimApiError } from './errors.js';
import { ListenKeys } from './listen-keys.js';
import { AlgoBook } from './algo-orders.js';
import { MarginBook } from './margin.js';
import { type ExchangeListener, MatchingEngine, type SimOrder } from './matching.js';
import { createPrng, SymbolMarket } from './price-process.js';
import { buildRoutes, type RouteResult } from './rest-routes.js';
import { authenticate, mergeParams, type RawRequestParts } from './signing.js';
import { defaultSimSymbols, deriveRules } from './symbols.js';
import type { SimFaults, SimOrderRecord, SimulatorHandle, SimulatorOptions } from './types.js';
import { accountUpdate, avgPriceOf, bookTickerEvent, fundingAccountUpdate, orderTradeUpdate, priceOf } from './wire-format.js';
import { defaultFundingIntervalMs, FundingClock, payFunding } from './funding.js';
import { WsHub } from './ws-streams.js';

export type { SimFaults, SimOrderRecord, SimSymbolSpec, SimulatorHandle, SimulatorOptions } from './types.js';
export { defaultSimSymbols };

const defaultPriceStepMs = 250;
const defaultStartingBalanceUsd = 100_000;
const defaultSeed = 42;
const retryAfterSeconds = 1;
const minuteMs = 60_000;

/** Per-minute counters behind X-MBX-USED-WEIGHT-1M / X-MBX-ORDER-COUNT-1M (fixed windows, like Binance). */
class MinuteCounter {
  private minute = -1;
  private count = 0;
  add(nowMs: number, n: number): number {
    const minute = Math.floor(nowMs / minuteMs);
    if (minute !== this.minute) {
      this.minute = minute;
      this.count = 0;
    }
    this.count += n;
    return this.count;
  }
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const host = opts.host ?? '127.0.0.1';
  const priceStepMs = opts.priceStepMs ?? defaultPriceStepMs;
  const rulesList = (opts.symbols ?? defaultSimSymbols).map(deriveRules);
  const random = createPrng(opts.seed ?? defaultSeed);
  const markets = new Map(rulesList.map((r) => [r.symbol, new SymbolMarket(r, random, Date.now())]));
  const listenKeys = new ListenKeys();
  const requestLog: { method: string; path: string; receivedAt: number }[] = [];
  const usedWeight = new MinuteCounter();
  const orderCounts = new Map<string, MinuteCounter>();
  let pricePaused = false;
  let closed = false;

  const server = createServer((req, res) => {
    handleHttp(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) res.destroy();
    });
  });
  const hub = new WsHub(server, {
    accountOfListenKey: (key) => listenKeys.accountOf(key),
    isMarketSilent: () => faults.wsSilent,
    legacyRoutes: opts.legacyStreamRoutes ?? false,
  });

  const faults: SimFaults = {
    latencyMs: 0,
    timeoutAfterAcceptCount: 0,
    http5xxCount: 0,
    rateLimit429Count: 0,
    forcePostOnlyReject: false,
    rejectMarketOrders: false,
    wsSilent: false,
    dropWsConnections: () => hub.dropAll(),
  };

  const listener: ExchangeListener = {
    orderUpdate(order, execType, trade, nowMs) {
      hub.publishUser(order.accountKey, orderTradeUpdate(order, engine.rules(order.symbol), execType, trade, nowMs));
    },
    positionUpdate(account, symbol, nowMs) {
      const market = markets.get(symbol);
      if (!market) return;
      hub.publishUser(account.key, accountUpdate(account, symbol, engine.position(account.key, symbol), market, nowMs));
    },
    fundingUpdate(account, _symbol, amountUsd, nowMs) {
      hub.publishUser(account.key, fundingAccountUpdate(account, amountUsd, nowMs));
    },
  };
  const engine = new MatchingEngine(markets, opts.startingBalanceUsd ?? defaultStartingBalanceUsd, listener);
  const algo = new AlgoBook(engine);
  const margin = new MarginBook(engine, markets);
  const fundingClock = new FundingClock({ rateBps: opts.fundingRateBps ?? 0, intervalMs: opts.fundingIntervalMs ?? defaultFundingIntervalMs }, (rateBps) =>
    payFunding(engine, markets, rateBps, Date.now()),
  );

  const routes = buildRoutes({
    engine,
    algo,
    margin,
    markets,
    rulesList,
    listenKeys,
    isPostOnlyForcedReject: () => faults.forcePostOnlyReject,
    areMarketOrdersRejected: () => faults.rejectMarketOrders,
    onListenKeyRevoked: (key) => hub.closeListenKey(key),
    setFunding: (settings) => {
      fundingClock.set(settings);
      return fundingClock.settings;
    },
  });

  const publishBook = (market: SymbolMarket, nowMs: number): void => {
    engine.onBookChange(market.rules.symbol, nowMs);
    algo.onBookChange(market, nowMs);
    margin.liquidateBreached(market.rules.symbol, nowMs);
    hub.publishMarket(`${market.rules.symbol.toLowerCase()}@bookTicker`, bookTickerEvent(market, nowMs));
  };

  const priceTimer = setInterval(() => {
    if (pricePaused) return;
    const nowMs = Date.now();
    for (const market of markets.values()) {
      market.step(nowMs);
      publishBook(market, nowMs);
    }
  }, priceStepMs);

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const rawBody = await readBody(req);
    requestLog.push({ method, path: url.pathname, receivedAt });

    const route = routes.get(`${method} ${url.pathname}`);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    let status = 200;
    let body: unknown;
    let result: RouteResult | undefined;
    let weight = 1;
    let accountKey: string | undefined;
    let dropResponse = false;

    try {
      // Injected faults come first: they model the gateway failing before the matching engine sees anything.
      if (faults.rateLimit429Count > 0) {
        faults.rateLimit429Count -= 1;
        headers['Retry-After'] = String(retryAfterSeconds);
        throw apiErrors.tooManyRequests();
      }
      if (faults.http5xxCount > 0) {
        faults.http5xxCount -= 1;
        throw apiErrors.serviceUnavailable();
      }
      if (!route) throw apiErrors.unknown();
      const parts: RawRequestParts = {
        rawQuery: url.search.startsWith('?') ? url.search.slice(1) : url.search,
        rawBody,
        apiKeyHeader: headerValue(req.headers['x-mbx-apikey']),
      };
      const params = mergeParams(parts);
      weight = route.weight(params);
      accountKey = authenticate(route.security, parts, params, opts.credentials, Date.now());
      if (route.countsAsOrder && accountKey !== undefined) countOrder(accountKey, receivedAt);
      result = route.handle({ params, accountKey: accountKey ?? '', nowMs: Date.now(), receivedAt });
      body = result.body;
      if (result.placedOrder && faults.timeoutAfterAcceptCount > 0) {
        faults.timeoutAfterAcceptCount -= 1;
        dropResponse = true;
      }
    } catch (err) {
      const apiErr = err instanceof SimApiError ? err : new SimApiError(500, -1000, String(err));
      status = apiErr.httpStatus;
      body = apiErr.toBody();
    }

    headers['X-MBX-USED-WEIGHT-1M'] = String(usedWeight.add(receivedAt, weight));
    if (route?.countsAsOrder && accountKey !== undefined) {
      headers['X-MBX-ORDER-COUNT-1M'] = String(countOrder(accountKey, receivedAt, 0));
    }

    await sleepUntil(receivedAt + faults.latencyMs);
    if (closed || res.destroyed) return;
    if (dropResponse) {
      // The order is live on the "exchange" but the client never learns it: exactly the ambiguous case.
      req.socket.destroy();
      return;
    }
    const payload = JSON.stringify(body);
    if (result?.placedOrder) result.placedOrder.respondedAt = Date.now();
    res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(payload)) });
    res.end(payload);
  }

  function countOrder(accountKey: string, nowMs: number, n = 1): number {
    let counter = orderCounts.get(accountKey);
    if (!counter) {
      counter = new MinuteCounter();
      orderCounts.set(accountKey, counter);
    }
    return counter.add(nowMs, n);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const toRecord = (order: SimOrder): SimOrderRecord => {
    const rules = engine.rules(order.symbol);
    const record: SimOrderRecord = {
      accountKey: order.accountKey,
      clientOrderId: order.clientOrderId,
      orderId: order.orderId,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      origQty: formatUnits(order.origQtyUnits, rules.qtyScale),
      reduceOnly: order.reduceOnly,
      status: order.status,
      executedQty: formatUnits(order.executedQtyUnits, rules.qtyScale),
      avgPrice: avgPriceOf(order, rules),
      receivedAt: order.receivedAt,
    };
    if (order.type === 'LIMIT') {
      record.timeInForce = order.timeInForce;
      record.price = priceOf(order, rules);
    }
    if (order.respondedAt !== undefined) record.respondedAt = order.respondedAt;
    return record;
  };

  return {
    restBaseUrl: `http://${host}:${port}`,
    wsBaseUrl: `ws://${host}:${port}`,
    faults,
    orders: () => engine.allOrders().map(toRecord),
    requests: () => requestLog.map((r) => ({ ...r })),
    openAlgoOrders: (accountKey) =>
      algo.open(accountKey).map((o) => ({
        clientAlgoId: o.clientAlgoId,
        symbol: o.symbol,
        side: o.side,
        triggerPrice: Number(o.triggerUnits) / 10 ** engine.rules(o.symbol).priceScale,
      })),
    cancelAlgoOrdersBehindOurBack: (accountKey) => {
      for (const o of algo.open(accountKey)) algo.cancel(accountKey, { algoId: o.algoId }, Date.now());
    },
    setMid(symbol, price) {
      const market = markets.get(symbol);
      if (!market) throw new Error(`unknown symbol ${symbol}`);
      const nowMs = Date.now();
      market.setMid(price, nowMs);
      publishBook(market, nowMs);
    },
    position(accountKey, symbol) {
      const rules = engine.rules(symbol);
      if (!engine.hasAccount(accountKey)) return 0;
      return Number(formatUnits(engine.position(accountKey, symbol).qtyUnits, rules.qtyScale));
    },
    pausePriceProcess(paused) {
      pricePaused = paused;
    },
    setFunding(settings) {
      fundingClock.set(settings);
    },
    funding: () => fundingClock.settings,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(priceTimer);
      fundingClock.stop();
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Waits until the wall clock reaches `targetMs` (timers may fire a hair early relative to Date.now()). */
async function sleepUntil(targetMs: number): Promise<void> {
  for (let remaining = targetMs - Date.now(); remaining > 0; remaining = targetMs - Date.now()) {
    await new Promise<void>((resolve) => setTimeout(resolve, remaining));
  }
}
