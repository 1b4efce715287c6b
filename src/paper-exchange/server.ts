// Binance USDⓈ-M futures exchange simulator: REST + WebSocket on one port, with injectable faults.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatUnits } from '../model/decimal.js';
import { apiErrors, SimApiError } from './errors.js';
import { applyFaultControl, defaultBanMs, defaultGatewayLimits, faultControlPath, Gateway } from './gateway.js';
import { applySymbolControl, symbolControlPath } from './symbol-control.js';
import { defaultListenKeyValidityMs, ListenKeys } from './listen-keys.js';
import { AlgoBook } from './algo-orders.js';
import { MarginBook, marginErrors } from './margin.js';
import { type ExchangeListener, MatchingEngine, type SimOrder } from './matching.js';
import { Mulberry32, SymbolMarket } from './price-process.js';
import { buildRoutes, type RouteResult } from './rest-routes.js';
import { authenticate, mergeParams, type RawRequestParts } from './signing.js';
import { defaultSimSymbols, deriveRules } from './symbols.js';
import type { SimFaults, SimRequestRecord, SimTradeRecord, SimulatorHandle, SimulatorOptions } from './types.js';
import type { SimTrade } from './trade-history.js';
import { accountUpdate, algoUpdate, bookTickerEvent, configChangePush, fundingAccountUpdate, orderTradeUpdate, partialDepthEvent } from './wire-format.js';
import { defaultFundingIntervalMs, FundingClock, FundingHistory, payFunding } from './funding.js';
import { MarketStreams } from './market-streams.js';
import { MarketTape } from './market-tape.js';
import { defaultKeepAlive, defaultMarketStreamMaxLifetimeMs, defaultUserStreamMaxLifetimeMs, WsHub } from './ws-streams.js';
import { PaperPersistence, priceCheckpointIntervalMs } from './paper-persistence.js';
import { resetControlPath, applyResetControl } from './reset-control.js';
import type { TouchUnits } from './touch-control.js';
import { applyTouchControl, touchControlPath, touchUnitsOf } from './touch-control.js';
import { orderRecord } from './order-record.js';

export type { SimFaults, SimOrderRecord, SimSymbolSpec, SimTradeRecord, SimulatorHandle, SimulatorOptions } from './types.js';
export { defaultSimSymbols };

const defaultPriceStepMs = 250;
const defaultStartingBalanceUsd = 100_000;
const defaultSeed = 42;
const bookSeedSalt = 0x9e3779b9;
/** Partial book depth streams served: `<symbol>@depth5`, `@depth10`, `@depth20`, as on Binance. */
const partialDepthLevels = [5, 10, 20] as const;

export async function startSimulator(opts: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const host = opts.host ?? '127.0.0.1';
  const priceStepMs = opts.priceStepMs ?? defaultPriceStepMs;
  const rulesList = (opts.symbols ?? defaultSimSymbols).map(deriveRules);
  const prngs = { price: new Mulberry32(opts.seed ?? defaultSeed), book: new Mulberry32(((opts.seed ?? defaultSeed) ^ bookSeedSalt) >>> 0) };
  // The depth draws from its own PRNG, so the price path of a seed does not depend on the book settings.
  const depth = { prng: prngs.book, settings: opts.book ?? {} };
  const markets = new Map(rulesList.map((r) => [r.symbol, new SymbolMarket(r, prngs.price.next, Date.now(), depth)]));
  const listenKeyValidityMs = opts.listenKeyValidityMs ?? defaultListenKeyValidityMs;
  const listenKeys = new ListenKeys(listenKeyValidityMs, () => persistence.markListenKeys());
  const requestLog: SimRequestRecord[] = [];
  let pricePaused = false;
  let closed = false;

  const server = createServer((req, res) => {
    handleHttp(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) res.destroy();
    });
  });
  const userStream = {
    maxLifetimeMs: opts.userStreamMaxLifetimeMs ?? defaultUserStreamMaxLifetimeMs,
    pushListenKeyExpired: opts.listenKeyExpiry?.pushEvent ?? true,
    closeOnListenKeyExpiry: opts.listenKeyExpiry?.closeSocket ?? false,
  };
  const hub = new WsHub(
    server,
    {
      accountOfListenKey: (key) => listenKeys.accountOf(key, Date.now()),
      listenKeyOfAccount: (accountKey) => listenKeys.keyOf(accountKey, Date.now()),
      isMarketSilent: () => faults.wsSilent,
      isUserSilent: () => faults.userStreamSilent,
      takeDroppedMessage: () => {
        if (faults.wsDropNextMessages <= 0) return false;
        faults.wsDropNextMessages -= 1;
        return true;
      },
      messageDelayMs: () => faults.wsDelayMs,
      sweepExpiredListenKeys: (nowMs) => listenKeys.sweepExpired(nowMs),
      legacyRoutes: opts.legacyStreamRoutes ?? false,
      userStream,
      marketStreamMaxLifetimeMs: opts.marketStreamMaxLifetimeMs ?? defaultMarketStreamMaxLifetimeMs,
      keepAlive: {
        pingEveryMs: opts.wsPingEveryMs ?? defaultKeepAlive.pingEveryMs,
        pongTimeoutMs: opts.wsPongTimeoutMs ?? defaultKeepAlive.pongTimeoutMs,
      },
    },
    listenKeyValidityMs,
  );

  const faults: SimFaults = {
    latencyMs: 0,
    timeoutAfterAcceptCount: 0,
    http5xxCount: 0,
    rateLimit429Count: 0,
    ban418Count: 0,
    banMs: defaultBanMs,
    latencyByPathMs: {},
    forcePostOnlyReject: false,
    rejectMarketOrders: false,
    marketDataLagMs: 0,
    wsSilent: false,
    userStreamSilent: false,
    clockSkewMs: 0,
    marginInsufficientCount: 0,
    systemThrottle: false,
    wsDropNextMessages: 0,
    wsDelayMs: 0,
    dropWsConnections: () => hub.dropAll(),
  };

  const gateway = new Gateway(faults, { ...defaultGatewayLimits, ...opts.gatewayLimits });

  // A user-stream push confirms state: it leaves only once that state is in the store (paper-persistence.ts).
  const publishUser = (accountKey: string, payload: Record<string, unknown>): void => persistence.afterCommit(() => hub.publishUser(accountKey, payload));
  const listener: ExchangeListener = {
    orderUpdate(order, execType, trade, nowMs) {
      persistence.markOrder(order);
      if (execType === 'NEW') algo.onOrderAccepted(order.clientOrderId, order.orderId, nowMs);
      publishUser(order.accountKey, orderTradeUpdate(order, engine.rules(order.symbol), execType, trade, nowMs));
      algo.onOrderUpdate(order, nowMs);
    },
    positionUpdate(account, symbol, nowMs) {
      persistence.markAccount(account.key);
      const market = markets.get(symbol);
      if (!market) return;
      const isolated = margin.marginTypeOf(account.key, symbol) === 'ISOLATED';
      publishUser(account.key, accountUpdate(account, symbol, engine.position(account.key, symbol), market, nowMs, isolated));
    },
    fundingUpdate(account, _symbol, amountUsd, nowMs) {
      persistence.markAccount(account.key);
      publishUser(account.key, fundingAccountUpdate(account, amountUsd, nowMs));
    },
    ordersForgotten(orders) {
      persistence.forgetOrders(orders);
    },
  };
  // A server runs for months: it forgets the orders (plain and conditional) Binance would no longer find (a backtest and
  // the simulation keep every order, for their reports and checks, and answer queries by the same rule:
  // order-retention.ts).
  const engine = new MatchingEngine(markets, opts.startingBalanceUsd ?? defaultStartingBalanceUsd, listener, { forgetsOrders: true });
  const algo = new AlgoBook(
    engine,
    (order, nowMs) => {
      persistence.markAlgo(order);
      publishUser(order.accountKey, algoUpdate(order, engine.rules(order.symbol), nowMs));
    },
    {
      forgetsOrders: true,
      onForgotten: (orders) => persistence.forgetAlgoOrders(orders),
    },
  );
  const margin = new MarginBook(engine, markets);
  const fundingHistory = new FundingHistory();
  const fundingClock = new FundingClock({ rateBps: opts.fundingRateBps ?? 0, intervalMs: opts.fundingIntervalMs ?? defaultFundingIntervalMs }, (rateBps) => {
    payFunding(engine, markets, rateBps, Date.now());
    fundingHistory.record(markets, rateBps, Date.now());
  });
  const fundingView = {
    history: fundingHistory,
    settings: () => fundingClock.settings,
    nextFundingTimeMs: (nowMs: number) => fundingClock.nextFundingTimeMs(nowMs),
  };
  const tape = new MarketTape();
  const marketStreams = new MarketStreams(hub, tape, fundingView);
  const persistence = new PaperPersistence(opts.state, {
    engine,
    algo,
    margin,
    markets,
    prngs,
    listenKeys,
    funding: () => fundingClock.settings,
    setFunding: (settings) => fundingClock.set(settings),
  });
  const restored = persistence.restore(Date.now());
  // After the restore: settings it puts back are not changes.
  margin.onConfigChange = (accountKey, change) => publishUser(accountKey, configChangePush(change, Date.now()));
  /**
   * A blank paper account: its open orders and stops are cancelled first, each with its update pushed, as Binance
   * pushes an order cancelled behind the client's back; then the account is erased, keeping those cancelled orders
   * queryable (Binance keeps a cancelled order without trades 3 days,
   * https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Order, so a client
   * that missed the push finds it CANCELED, not unknown); then an ACCOUNT_UPDATE of each position it held (now
   * flat) is pushed. The engine reconciles on it.
   */
  const resetAccounts = (accountKey?: string): string[] => {
    const nowMs = Date.now();
    const held = (key: string): string[] => (engine.hasAccount(key) ? [...engine.account(key).positions.keys()] : []);
    const before = new Map((accountKey === undefined ? engine.accountKeys() : [accountKey]).map((key) => [key, held(key)]));
    const cancelled: SimOrder[] = [];
    for (const key of before.keys()) {
      for (const stop of algo.open(key)) algo.cancel(key, { algoId: stop.algoId }, nowMs);
      for (const order of engine.openOrders(key)) cancelled.push(engine.cancel(key, order.symbol, { orderId: order.orderId }, nowMs));
    }
    const keys = persistence.resetAccounts(accountKey);
    for (const order of cancelled) {
      engine.restoreOrder(order);
      persistence.markOrder(order);
    }
    for (const [key, symbols] of before) for (const symbol of symbols) listener.positionUpdate(engine.account(key), symbol, nowMs);
    return keys;
  };
  const checkpointTimer = opts.state ? setInterval(() => persistence.checkpointPrices(), priceCheckpointIntervalMs) : undefined;

  const routes = buildRoutes({
    engine,
    algo,
    margin,
    markets,
    rulesList,
    listenKeys,
    marketData: { tape, funding: fundingView },
    isPostOnlyForcedReject: () => faults.forcePostOnlyReject,
    areMarketOrdersRejected: () => faults.rejectMarketOrders,
    onListenKeyRevoked: (key) => hub.closeListenKey(key),
    setFunding: (settings) => {
      fundingClock.set(settings);
      persistence.checkpointPrices();
      return fundingClock.settings;
    },
  });

  const publishBook = (market: SymbolMarket, nowMs: number): void => {
    // The resting orders the new touch trades through fill first: the book published next implies them.
    engine.onBookChange(market.rules.symbol, nowMs);
    publishMarketData(market, nowMs);
    // Then the accounts' side, off the market-data path as on Binance (stop triggers, liquidation checks): checked
    // before publishing, the book waited for every holder's margin (5–16 ms at 1 000 accounts, bench:sweep), a delay
    // of the market data no exchange adds for its clients' accounts.
    algo.onBookChange(market, nowMs);
    margin.liquidateBreached(market.rules.symbol, nowMs);
    persistence.commit(); // fills, triggers and liquidations are durable before anyone hears of them
  };
  const publishMarketData = (market: SymbolMarket, nowMs: number): void => {
    const name = market.rules.symbol.toLowerCase();
    hub.publishMarket(`${name}@bookTicker`, bookTickerEvent(market, nowMs, faults.marketDataLagMs));
    const previous = lastDepthUpdateId.get(name) ?? 0;
    for (const levels of partialDepthLevels) {
      const stream = `${name}@depth${levels}`;
      if (hub.wants(stream)) hub.publishMarket(stream, partialDepthEvent(market, levels, previous, nowMs));
    }
    lastDepthUpdateId.set(name, market.top.updateId);
    marketStreams.onBookChange(market, nowMs);
  };
  const lastDepthUpdateId = new Map<string, number>();

  /**
   * A touch from outside (a replayed quote) instead of the walk: the walk pauses so the touch holds until the next
   * one; the book carries the quote's time (`T`), the exchange's own events (fills, `E`) the server's clock.
   */
  const setTouch = (touch: TouchUnits, nowMs: number): void => {
    pricePaused = true;
    touch.market.setTouch(touch.bidUnits, touch.askUnits, touch.timeMs);
    publishBook(touch.market, nowMs);
  };

  const stepPrices = (): void => {
    const nowMs = Date.now();
    for (const market of markets.values()) {
      market.step(nowMs);
      publishBook(market, nowMs);
    }
  };
  const priceTimer = setInterval(() => {
    if (!pricePaused) stepPrices();
  }, priceStepMs);

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const rawBody = await readBody(req);

    const route = routes.get(`${method} ${url.pathname}`);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    let status = 200;
    let body: unknown;
    let result: RouteResult | undefined;
    let weight = 1;
    let dropResponse = false;
    let errorCode: number | undefined;

    try {
      const parts: RawRequestParts = {
        rawQuery: url.search.startsWith('?') ? url.search.slice(1) : url.search,
        rawBody,
        apiKeyHeader: headerValue(req.headers['x-mbx-apikey']),
      };
      const params = mergeParams(parts);
      weight = route?.weight(params) ?? 1;
      if (method === 'POST' && url.pathname === faultControlPath) {
        body = applyFaultControl(faults, params); // the operator's lever, not a venue request
      } else if (method === 'POST' && url.pathname === symbolControlPath) {
        body = applySymbolControl(markets, params); // a listing change: status, MIN_NOTIONAL, PERCENT_PRICE
      } else if (method === 'POST' && url.pathname === touchControlPath) {
        body = applyTouchControl(markets, params, receivedAt, (touch) => setTouch(touch, receivedAt)); // a replayed quote
      } else if (method === 'POST' && url.pathname === resetControlPath) {
        body = applyResetControl(params, resetAccounts);
      } else {
        // The gateway comes first: bans, rate limits and injected faults, before the matching engine sees anything.
        gateway.admit(receivedAt, weight, headers);
        if (!route) throw apiErrors.unknownPath(method, url.pathname);
        const serverNowMs = Date.now() + faults.clockSkewMs;
        const accountKey = authenticate(route.security, parts, params, opts.credentials, serverNowMs);
        if (route.countsAsOrder && accountKey !== undefined) gateway.countOrder(receivedAt, accountKey, headers);
        if (route.countsAsOrder && faults.marginInsufficientCount > 0) {
          faults.marginInsufficientCount -= 1;
          throw marginErrors.insufficient();
        }
        if (route.countsAsOrder && faults.systemThrottle && !exemptFromThrottle(params)) throw apiErrors.requestThrottled();
        try {
          result = route.handle({ params, accountKey: accountKey ?? '', nowMs: serverNowMs, receivedAt });
        } finally {
          // Settings (leverage, margin type) change without an update event: a changing call marks its account.
          if (accountKey !== undefined && method !== 'GET' && engine.hasAccount(accountKey)) persistence.markAccount(accountKey);
          persistence.commit(); // written before the answer (and before its pushes) leave
        }
        body = result.body;
        if (result.placedOrder && faults.timeoutAfterAcceptCount > 0) {
          faults.timeoutAfterAcceptCount -= 1;
          dropResponse = true;
        }
      }
    } catch (err) {
      const apiErr = err instanceof SimApiError ? err : new SimApiError(500, -1000, String(err));
      errorCode = apiErr.code;
      status = apiErr.httpStatus;
      body = apiErr.bodyless ? undefined : apiErr.toBody();
    }
    const client = headerValue(req.headers['x-qe-client']); // the sender's name, for tests (SimRequestRecord.client)
    requestLog.push({
      method,
      path: url.pathname,
      receivedAt,
      weight,
      status,
      ...(errorCode !== undefined && { code: errorCode }),
      ...(client !== undefined && { client }),
    });

    await sleepUntil(receivedAt + gateway.latencyMs(url.pathname));
    if (closed || res.destroyed) return;
    if (dropResponse) {
      // The order is live on the "exchange" but the client never learns it: exactly the ambiguous case.
      req.socket.destroy();
      return;
    }
    const payload = body === undefined ? '' : JSON.stringify(body);
    if (result?.placedOrder) result.placedOrder.respondedAt = Date.now();
    res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(payload)) });
    res.end(payload);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    restBaseUrl: `http://${host}:${port}`,
    wsBaseUrl: `ws://${host}:${port}`,
    faults,
    orders: () => engine.allOrders().map((order) => orderRecord(order, engine.rules(order.symbol))),
    ordersOf: (accountKey) =>
      engine.hasAccount(accountKey) ? [...engine.account(accountKey).orders.values()].map((order) => orderRecord(order, engine.rules(order.symbol))) : [],
    trades: (accountKey) => (engine.hasAccount(accountKey) ? engine.account(accountKey).trades.map(tradeRecord) : []),
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
    setTouch(symbol, bid, ask, timeMs) {
      const nowMs = Date.now();
      setTouch(touchUnitsOf(markets, symbol, bid, ask, timeMs ?? nowMs), nowMs);
    },
    position(accountKey, symbol) {
      const rules = engine.rules(symbol);
      if (!engine.hasAccount(accountKey)) return 0;
      return Number(formatUnits(engine.position(accountKey, symbol).qtyUnits, rules.qtyScale));
    },
    pausePriceProcess(paused) {
      pricePaused = paused;
    },
    stepPriceProcess: stepPrices,
    setFunding(settings) {
      fundingClock.set(settings);
      persistence.checkpointPrices();
    },
    fundNow(symbol, rateBps) {
      const market = markets.get(symbol);
      if (!market) throw new Error(`unknown symbol ${symbol}`);
      const one = new Map([[symbol, market]]);
      const nowMs = Date.now();
      payFunding(engine, one, rateBps, nowMs);
      fundingHistory.record(one, rateBps, nowMs);
    },
    restored,
    resetAccounts,
    funding: () => fundingClock.settings,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(priceTimer);
      clearInterval(checkpointTimer);
      fundingClock.stop();
      persistence.close();
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function tradeRecord(t: SimTrade): SimTradeRecord {
  return { symbol: t.symbol, side: t.side, price: t.price, qty: t.qty, commission: t.commission, maker: t.maker, timeMs: t.time };
}

/** -1008 spares the orders that can only reduce risk (Binance's error-code page, errors.ts): a holder can still get out. */
function exemptFromThrottle(params: ReadonlyMap<string, string>): boolean {
  const isTrue = (name: string): boolean => params.get(name) === 'true' || params.get(name) === 'TRUE';
  return isTrue('reduceOnly') || isTrue('closePosition');
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
