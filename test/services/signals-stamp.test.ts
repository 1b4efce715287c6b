import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/contract/commands.js';
import type { Command } from '../../src/contract/commands.js';
import type { MarketData } from '../../src/exchange/port.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import type { MemoryLog } from '../../src/log/memory-log.js';
import type { BookTicker } from '../../src/model/market.js';
import { startSignalsService } from '../../src/services/signals/service.js';
import type { Bar, Strategy } from '../../src/strategies/strategy.js';
import { silentLogger } from '../../src/util/logger.js';
import { waitFor } from '../support/wait.js';

// The signals service runs a strategy as the backtest does: every quote's mid into its symbol's bar of the signal
// period (src/strategies/bars.ts), the closed bars to the strategy and its targets appended as a route at the first
// quote of a new period. Each route is stamped with when it was issued (issuedAtMs): the engine refuses one that
// waited in the stream longer than maxSignalAgeMs (core/route-signals.ts), instead of trading a target hours old after
// a restart.

/** Market data whose quotes the test hands on itself. */
function pushedMarket(): { market: MarketData; push: (tick: BookTicker) => void } {
  let onTick: ((tick: BookTicker) => void) | null = null;
  const market: MarketData = {
    getSymbolFilters: async () => ({}),
    subscribeBookTicker: async (_symbols, handler) => {
      onTick = handler;
      return { close: async () => undefined };
    },
    close: async () => undefined,
  };
  return { market, push: (tick) => onTick?.(tick) };
}

async function routes(log: MemoryLog, count: number): Promise<Command[]> {
  const read: string[] = [];
  await waitFor(`${count} routes appended`, async () => {
    read.push(...(await log.readCommands('test', 10, 0)).map((d) => d.raw));
    return read.length >= count;
  });
  return read.map((raw) => {
    const parsed = parseCommand(raw, 64 * 1024);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.command;
  });
}

describe('the signals service', () => {
  it("hands the strategy the backtest's bars (OHLC of mids per period) and routes its targets at each bar close, stamped", async () => {
    const log = openMemoryLog();
    await log.init();
    const { market, push } = pushedMarket();
    const bars: Bar[] = [];
    const askedAt: number[] = [];
    const strategy: Strategy = {
      name: 'recording',
      onBar: (bar) => bars.push(bar),
      targets: (nowMs) => {
        askedAt.push(nowMs);
        return [{ symbol: 'BTCUSDT', weight: 0.5 }];
      },
    };
    const before = Date.now();
    const periodMs = 60_000;
    const service = await startSignalsService({
      log,
      marketData: market,
      symbols: ['BTCUSDT'],
      sourceId: 'signals',
      signalPeriodMs: periodMs,
      strategy,
      logger: silentLogger(),
    });
    try {
      const t0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, a period's start
      // Mids 100, 102, 99, 101 within the first minute; the next minute's first quote closes that bar.
      for (const [offsetMs, mid] of [
        [1_000, 100],
        [20_000, 102],
        [40_000, 99],
        [59_000, 101],
      ] as const)
        push({ symbol: 'BTCUSDT', bid: mid - 0.05, ask: mid + 0.05, time: t0 + offsetMs });
      expect(bars).toEqual([]);
      push({ symbol: 'BTCUSDT', bid: 103 - 0.05, ask: 103 + 0.05, time: t0 + periodMs + 500 });
      expect(bars).toEqual([{ symbol: 'BTCUSDT', openTimeMs: t0, closeTimeMs: t0 + periodMs, open: 100, high: 102, low: 99, close: 101 }]);
      // Asked once, at the quote that closed the bar: one route, stamped.
      expect(askedAt).toEqual([t0 + periodMs + 500]);
      // A quote stamped in the closed period that arrives late (another symbol's, out of order) joins the open bar.
      push({ symbol: 'ETHUSDT', bid: 3_000 - 0.05, ask: 3_000 + 0.05, time: t0 + periodMs - 10 });
      push({ symbol: 'BTCUSDT', bid: 104 - 0.05, ask: 104 + 0.05, time: t0 + 2 * periodMs + 1 });
      expect(bars.slice(1).map((b) => [b.symbol, b.openTimeMs, b.close])).toEqual([
        ['BTCUSDT', t0 + periodMs, 103],
        ['ETHUSDT', t0 + periodMs, 3_000],
      ]);
      const [route] = await routes(log, 1);
      expect(route).toMatchObject({ type: 'signals.route', userId: 'signals', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
      const issuedAtMs = (route as { issuedAtMs?: number }).issuedAtMs;
      expect(issuedAtMs).toBeGreaterThanOrEqual(before);
      expect(issuedAtMs).toBeLessThanOrEqual(Date.now());
    } finally {
      await service.stop();
    }
  });
});
