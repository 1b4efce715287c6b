import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/contract/commands.js';
import type { MarketData } from '../../src/exchange/port.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { startSignalsService } from '../../src/services/signals/service.js';
import { silentLogger } from '../../src/util/logger.js';
import { waitFor } from '../support/wait.js';

// The signals service stamps each route with when it was issued (issuedAtMs): the engine refuses a route that waited
// in the stream longer than maxSignalAgeMs (core/route-signals.ts), instead of trading a target hours old after a
// restart. Without the stamp that refusal could not apply to the reference producer's routes.

const market: MarketData = {
  getSymbolFilters: async () => ({}),
  subscribeBookTicker: async (symbols, onTick) => {
    for (const symbol of symbols) onTick({ symbol, bid: 60_000, ask: 60_000.1, time: Date.now() });
    return { close: async () => undefined };
  },
  close: async () => undefined,
};

describe('the signals service', () => {
  it('stamps each route it appends with the time it issued it', async () => {
    const log = openMemoryLog();
    await log.init();
    const before = Date.now();
    const service = await startSignalsService({
      log,
      marketData: market,
      symbols: ['BTCUSDT'],
      sourceId: 'signals',
      signalPeriodMs: 20,
      strategy: { name: 'fixed', onBar: () => undefined, targets: () => [{ symbol: 'BTCUSDT', weight: 0.5 }] },
      logger: silentLogger(),
    });
    try {
      const read: string[] = [];
      await waitFor('a route appended', async () => {
        read.push(...(await log.readCommands('test', 10, 0)).map((d) => d.raw));
        return read.length > 0;
      });
      const parsed = parseCommand(read[0] as string, 64 * 1024);
      if (!parsed.ok) throw new Error(parsed.reason);
      expect(parsed.command).toMatchObject({ type: 'signals.route', userId: 'signals', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
      const issuedAtMs = (parsed.command as { issuedAtMs?: number }).issuedAtMs;
      expect(issuedAtMs).toBeGreaterThanOrEqual(before);
      expect(issuedAtMs).toBeLessThanOrEqual(Date.now());
    } finally {
      await service.stop();
    }
  });
});
