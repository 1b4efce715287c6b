import { parentPort, workerData } from 'node:worker_threads';
import { createBinanceConnector } from '../binance/connector.js';
import type { ExchangeAccount, MarketData, Subscription, UserStreamNews } from '../port.js';
import type { Answer, CallId, FromWorker, HandleId, StreamEvent, ToWorker, WorkerSetup } from './protocol.js';
import { toWireError } from './wire-error.js';
import { forwardingLogger, proxyRateBudget } from './worker-proxies.js';

// The exchange adapter's thread (connector.ts starts it): hosts the real Binance connector, and does what the engine
// thread asks of it. Everything the SDK, axios, HTTP and WebSocket parsing cost is spent here, off the engine's loop.

const port = parentPort;
if (!port) throw new Error('threaded/worker.ts runs as a worker thread (createThreadedConnector starts it)');
const setup = workerData as WorkerSetup;
const post = (message: FromWorker): void => port.postMessage(message);
const budget = setup.budget ? proxyRateBudget(post) : null;
const connector = createBinanceConnector({
  ...setup.options,
  logger: forwardingLogger(setup.logLevel, post),
  ...(budget && { rateBudget: budget.budget }),
});

const markets = new Map<HandleId, MarketData>();
const accounts = new Map<HandleId, ExchangeAccount>();
const subscriptions = new Map<CallId, Subscription>();

const answer = (id: CallId, settled: Promise<unknown>): void => {
  settled.then(
    (value) => post({ type: 'answer', id, answer: { ok: true, value } satisfies Answer }),
    (error: unknown) => post({ type: 'answer', id, answer: { ok: false, error: toWireError(error) } }),
  );
};

const handleOf = <T>(map: Map<HandleId, T>, handle: HandleId): T => {
  const found = map.get(handle);
  // The engine thread makes a handle before it uses it and messages keep their order: a miss is a bug of ours.
  if (!found) throw new Error(`exchange thread: no object for handle ${handle}`);
  return found;
};

/** Subscription `id`'s events, sent as the stream delivers them. */
const emitter =
  (id: CallId) =>
  (event: StreamEvent): void =>
    post({ type: 'event', subscription: id, event });

const subscribed = async (id: CallId, opened: Promise<Subscription>): Promise<null> => {
  subscriptions.set(id, await opened);
  return null;
};

/** Runs a forwarded call on the real object; its typed arguments are the ones the engine thread's proxy was called with. */
const invoke = async (message: Extract<ToWorker, { type: 'call' }>): Promise<unknown> => {
  if (message.target === 'market') {
    const market = handleOf(markets, message.handle);
    return message.method === 'close' ? market.close() : market.getSymbolFilters(...message.args);
  }
  const account = handleOf(accounts, message.handle);
  const method = account[message.method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
  if (!method) throw new Error(`exchange thread: the account has no ${message.method}`);
  return method.apply(account, message.args as unknown[]);
};

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'market':
      markets.set(message.handle, connector.marketData());
      return;
    case 'account':
      accounts.set(message.handle, connector.account(message.credentials));
      return;
    case 'release':
      // Calls already made on it hold their object; a stream it opened lives on until closed (as in one thread).
      markets.delete(message.handle);
      accounts.delete(message.handle);
      return;
    case 'call':
      answer(
        message.id,
        Promise.resolve().then(() => invoke(message)),
      );
      return;
    case 'subscribe-book': {
      const emit = emitter(message.id);
      const market = Promise.resolve().then(() => handleOf(markets, message.handle));
      answer(
        message.id,
        subscribed(
          message.id,
          market.then((m) => m.subscribeBookTicker(message.symbols, (tick) => emit({ kind: 'tick', tick }))),
        ),
      );
      return;
    }
    case 'subscribe-orders': {
      const emit = emitter(message.id);
      const { wanted } = message;
      // Only the callbacks the engine thread has: the stream may behave differently without one (none is not a no-op).
      const news: UserStreamNews = {
        ...(wanted.gap && { onGap: (reason: string) => emit({ kind: 'gap', reason }) }),
        ...(wanted.positions && { onPositions: (positions) => emit({ kind: 'positions', positions }) }),
        ...(wanted.stopUpdate && { onStopUpdate: (update) => emit({ kind: 'stop-update', update }) }),
      };
      const account = Promise.resolve().then(() => handleOf(accounts, message.handle));
      const opened = account.then((a) =>
        a.subscribeOrderUpdates((order) => emit({ kind: 'order', order }), wanted.funding ? (payment) => emit({ kind: 'funding', payment }) : undefined, news),
      );
      answer(message.id, subscribed(message.id, opened));
      return;
    }
    case 'unsubscribe': {
      const subscription = subscriptions.get(message.subscription);
      subscriptions.delete(message.subscription);
      answer(message.id, subscription ? subscription.close() : Promise.resolve());
      return;
    }
    case 'budget-answer':
      budget?.answer(message.id, message.answer);
      return;
  }
});
