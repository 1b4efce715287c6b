import type { BinanceConnectorOptions } from './binance/connector.js';
import { createBinanceConnector } from './binance/connector.js';
import type { ExchangeConnector } from './port.js';
import { createThreadedConnector } from './threaded/connector.js';

// How a service makes a venue's connector (npm start, the single-process execution service, the bench's engine).

/** Where the adapter's accounts run: their own worker thread (default), or the engine's thread (the connector of before). */
export type AdapterThread = 'worker' | 'main';

export interface VenueConnectorOptions extends BinanceConnectorOptions {
  adapterThread: AdapterThread;
  /** The adapter's thread died: the service should exit and boot again from its log (threaded/connector.ts). */
  onFatal(error: Error): void;
}

export interface VenueConnector extends ExchangeConnector {
  /** Stops the adapter's thread, if it has one. */
  close(): Promise<void>;
}

/**
 * With a worker, the accounts (REST and user-data streams: the adapter's load, ~28 % of the engine thread at 10 000
 * sessions) go to it, and the book-ticker feed stays on the engine thread. Ticks are the latency path and few (one
 * stream, a few symbols): in the worker they waited behind its storm of order answers and user-stream pushes, and
 * tick → flatten p99 at 10 000 sessions was 170–790 ms against 13–52 ms with the feed here (bench:sweep, 2 cores).
 * A sign guard (a cluster worker's lease) needs the accounts in the engine's thread: threaded/connector.ts refuses it.
 */
export function createVenueConnector(opts: VenueConnectorOptions): VenueConnector {
  const { adapterThread, onFatal, ...options } = opts;
  const inThread = createBinanceConnector(options);
  if (adapterThread === 'main') return { ...inThread, close: async () => undefined };
  const threaded = createThreadedConnector({ ...options, onFatal });
  return { marketData: () => inThread.marketData(), account: (credentials) => threaded.account(credentials), close: () => threaded.close() };
}
