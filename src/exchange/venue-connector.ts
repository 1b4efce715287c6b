import type { BinanceConnectorOptions } from './binance/connector.js';
import { createBinanceConnector } from './binance/connector.js';
import type { ExchangeConnector } from './port.js';
import { createThreadedConnector } from './threaded/connector.js';

// How a service makes a venue's connector (npm start, the single-process execution service, the bench's engine).

/** Where the adapter runs: its own worker thread (default), or the engine's thread (the connector of before). */
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

/** A sign guard (a cluster worker's lease) needs the adapter in the engine's thread: threaded/connector.ts refuses it. */
export function createVenueConnector(opts: VenueConnectorOptions): VenueConnector {
  const { adapterThread, onFatal, ...options } = opts;
  if (adapterThread === 'worker') return createThreadedConnector({ ...options, onFatal });
  return { ...createBinanceConnector(options), close: async () => undefined };
}
