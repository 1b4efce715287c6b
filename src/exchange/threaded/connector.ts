import { Worker } from 'node:worker_threads';
import type { BinanceConnectorOptions } from '../binance/connector.js';
import type { AccountCredentials, ExchangeAccount, ExchangeConnector, MarketData } from '../port.js';
import { rateAccountKeyOf } from '../rate-account-key.js';
import { writeForwarded } from './worker-proxies.js';
import { WorkerCalls } from './calls.js';
import type { CallId, FromWorker, HandleId, StreamEvent, ThreadedLimits, ToWorker, WorkerSetup } from './protocol.js';
import { defaultThreadedLimits } from './protocol.js';
import type { WorkerLink } from './proxies.js';
import { ThreadedAccount, ThreadedMarketData } from './proxies.js';
import { toWireError } from './wire-error.js';

// The exchange adapter in its own thread (issue 12). At 10 000 sessions the adapter (the `binance` SDK, axios, HTTP,
// WebSocket parsing) was ~28 % of the engine thread's busy time, and its response callbacks ran while a step awaited
// its commit, so steps and ticks waited behind them. Here the real connector (binance/connector.ts, same options)
// runs in one worker thread, and the engine thread only posts and receives small messages (protocol.ts). The request
// budget stays on the engine thread (the executor admits effects on the same count); the worker asks it by message.

export interface ThreadedConnectorOptions extends BinanceConnectorOptions {
  /**
   * The adapter's thread died (crashed, exited): every call waiting on it has been answered ("unknown", not sent, or
   * rejected, as each method's port says), but streams are gone and nothing will be sent again. The service should
   * exit and reboot from its log.
   */
  onFatal(error: Error): void;
  limits?: ThreadedLimits;
  /** Told of the started worker (tests stop it to play a crash). */
  onWorker?: (worker: Worker) => void;
}

export interface ThreadedConnector extends ExchangeConnector {
  /** Stops the adapter's thread (not a death: onFatal is not called); calls waiting on it are answered as lost. */
  close(): Promise<void>;
}

/** Starts the worker through tsx's loader, as src/backtest/sweep.ts does: it runs the .ts entry under `npm start` and vitest alike. */
function startWorker(setup: WorkerSetup): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData: setup });
}

export function createThreadedConnector(options: ThreadedConnectorOptions): ThreadedConnector {
  // A cluster worker's lease guard is asked synchronously right before each signature: it cannot be asked across
  // threads without a round trip per request, so that path keeps the in-thread connector (out of this slice).
  if (options.signGuard) throw new Error('createThreadedConnector: a signGuard (cluster lease guard) needs the in-thread connector (createBinanceConnector)');
  const { rateBudget, logger, onFatal, onWorker, limits = defaultThreadedLimits, signGuard: _none, ...cloneable } = options;
  const worker = startWorker({ options: cloneable, budget: rateBudget !== undefined, logLevel: logger?.level ?? 'silent' });
  onWorker?.(worker);
  let gone = false;
  let closing = false;
  const listeners = new Map<CallId, (event: StreamEvent) => void>();
  const post = (message: ToWorker): void => {
    if (!gone) worker.postMessage(message);
  };

  // The worker keeps the process alive only while something waits on it (a call, an open stream), as the sockets of
  // the in-thread connector do; otherwise a forgotten close() would keep a finished process running.
  let referenced = false;
  let callsWaiting = false;
  const reference = (): void => {
    const wanted = !gone && (callsWaiting || listeners.size > 0);
    if (wanted === referenced) return;
    referenced = wanted;
    if (wanted) worker.ref();
    else worker.unref();
  };
  worker.unref();
  const calls = new WorkerCalls(limits, post, (waiting) => {
    callsWaiting = waiting;
    reference();
  });

  const die = (error: Error): void => {
    if (gone) return;
    gone = true;
    listeners.clear();
    reference();
    calls.loseAll(closing ? 'the exchange thread was closed' : `the exchange thread died (${error.message}); the request may have been sent`);
    if (!closing) onFatal(error);
  };
  worker.on('error', (error) => die(error));
  worker.on('messageerror', (error) => die(error));
  worker.on('exit', (code) => die(new Error(`the exchange adapter thread exited with code ${code}`)));

  const serveBudget = (message: Extract<FromWorker, { type: 'budget' }>): void => {
    const answered = Promise.resolve().then(() => {
      if (!rateBudget) throw new Error('the exchange thread asked for a request budget it was not given');
      const method = rateBudget[message.method] as (...args: readonly unknown[]) => Promise<unknown>;
      return method.apply(rateBudget, [...message.args]);
    });
    answered.then(
      (value) => post({ type: 'budget-answer', id: message.id, answer: { ok: true, value } }),
      (error: unknown) => post({ type: 'budget-answer', id: message.id, answer: { ok: false, error: toWireError(error) } }),
    );
  };

  worker.on('message', (message: FromWorker) => {
    switch (message.type) {
      case 'answer':
        calls.answer(message.id, message.answer);
        return;
      case 'event': {
        const onEvent = listeners.get(message.subscription);
        try {
          onEvent?.(message.event);
        } catch (error) {
          // As the in-thread stream does (ws-stream.ts): a throwing handler is logged and the stream goes on.
          logger?.warn({ err: error }, 'dropped a bad stream message');
        }
        return;
      }
      case 'budget':
        serveBudget(message);
        return;
      case 'log':
        if (logger) writeForwarded(logger, message.line);
        return;
    }
  });

  const link: WorkerLink = {
    calls,
    listen(id, onEvent) {
      listeners.set(id, onEvent);
      reference();
    },
    unlisten(id) {
      listeners.delete(id);
      reference();
    },
  };
  let nextHandle = 0;
  // An account the engine thread no longer holds (re-opened with new keys, retired) is dropped in the worker too:
  // closing one does not end it (an in-thread account works on after close()), so only its collection can.
  const released = new FinalizationRegistry<HandleId>((handle) => post({ type: 'release', handle }));
  const made = <T extends object>(proxy: T, handle: HandleId): T => {
    released.register(proxy, handle);
    return proxy;
  };
  return {
    marketData(): MarketData {
      nextHandle += 1;
      post({ type: 'market', handle: nextHandle });
      return made(new ThreadedMarketData(link, nextHandle), nextHandle);
    },
    account(credentials: AccountCredentials): ExchangeAccount {
      nextHandle += 1;
      post({ type: 'account', handle: nextHandle, credentials });
      return made(new ThreadedAccount(link, nextHandle, rateAccountKeyOf(credentials.apiKey)), nextHandle);
    },
    async close() {
      if (gone) return;
      closing = true;
      await worker.terminate();
      die(new Error('closed'));
    },
  };
}
