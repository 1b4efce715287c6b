import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { loadSignalFile, signalReplayStrategy } from '../../src/strategies/signal-replay.js';

// A resting post-only entry fills only when a later quote trades through its price: hand-made quotes, a model that
// wants a long from the first minute on, and a touch that either stays put or dips a tick below the resting bid.

const t0 = Date.UTC(2026, 0, 1);
const header = 'update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time';

/** The touch dips a tick through the resting bid over [dipFromMs, dipFromMs + 10 s) after the start, if given. */
async function runOn(dipFromMs: number | null): Promise<Awaited<ReturnType<typeof runBacktest>>> {
  const dir = mkdtempSync(join(tmpdir(), 'qe-fills-'));
  const rows = [header];
  for (let ms = 0, id = 1; ms < 20 * 60_000; ms += 500, id += 1) {
    const dipped = dipFromMs !== null && ms >= dipFromMs && ms < dipFromMs + 10_000;
    // Dipped: the ask at 49 999.9 is below a resting bid at 50 000.0, so the market traded through it.
    const [bid, ask] = dipped ? ['49999.8', '49999.9'] : ['50000.0', '50000.1'];
    rows.push([id, bid, '1.000', ask, '1.000', t0 + ms, t0 + ms + 1].join(','));
  }
  writeFileSync(join(dir, 'BTCUSDT-bookTicker-2026-01-01.csv'), `${rows.join('\n')}\n`);
  const signals = join(dir, 'signals.csv');
  writeFileSync(signals, `timestamp,symbol,signal,confidence,horizon_hours\n${t0 + 60_000},BTCUSDT,BUY,1,\n`);
  return runBacktest({
    ...defaultBacktestOptions,
    dataDir: dir,
    symbols: ['BTCUSDT'],
    fromMs: null,
    toMs: null,
    strategy: signalReplayStrategy(await loadSignalFile(signals)),
    capitalUsd: 10_000,
  });
}

describe('backtest fills', () => {
  it('a resting entry never fills while the touch stays put', async () => {
    const result = await runOn(null);
    expect(result.summary.ordersSent).toBeGreaterThan(0);
    expect(result.summary.trades).toBe(0);
    expect(result.summary.feesUsd).toBe(0);
  }, 60_000);

  it('it fills as maker at its own price once the market trades through it', async () => {
    // The entry goes out at each minute's first quote and rests for the entry TTL (30 s): the dip comes 10 s in.
    const result = await runOn(9 * 60_000 + 10_000);
    const makers = result.venueTrades.filter((t) => t.maker);
    expect(makers.length).toBeGreaterThan(0);
    for (const t of makers) {
      expect(t.side).toBe('BUY');
      expect(Number(t.price)).toBe(50_000);
      expect(t.timeMs).toBe(t0 + 9 * 60_000 + 10_000);
    }
  }, 60_000);
});
