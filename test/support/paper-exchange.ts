import { afterAll, beforeAll } from 'vitest';
import { serializeWalEvent } from '../../src/contract/wal.js';
import type { WalEvent } from '../../src/core/events.js';
import type { Clock } from '../../src/engine/clock.js';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { ExchangeConnector } from '../../src/exchange/port.js';
import type { MemoryLog } from '../../src/log/memory-log.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';

// For tests that drive the kernel's boot() by hand: a paper exchange with the adapter pointed at it, and a log
// that already holds an engine's history.

/** A paper exchange and an adapter on it, started before the suite and closed after; call the accessor in tests. */
export function usePaperExchange(seed: number): () => { sim: SimulatorHandle; connector: ExchangeConnector } {
  let handle: { sim: SimulatorHandle; connector: ExchangeConnector } | null = null;
  beforeAll(async () => {
    const sim = await startSimulator({ port: 0, seed, priceStepMs: 50 });
    handle = { sim, connector: createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 5_000 }) };
  });
  afterAll(async () => {
    await handle?.sim.close();
  });
  return () => {
    if (!handle) throw new Error('paper exchange not started');
    return handle;
  };
}

/** An in-memory log on `clock` whose WAL holds `events`, written as the engine writes them. */
export async function logHolding(clock: Clock, events: readonly WalEvent[]): Promise<MemoryLog> {
  const log = openMemoryLog({ nowMs: () => clock.nowMs() });
  await log.init();
  await log.commit({ wal: events.map(serializeWalEvent), outbound: [], ack: [], deadLetters: [] });
  return log;
}
