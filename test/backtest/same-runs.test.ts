import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BacktestOptions } from '../../src/backtest/run-backtest.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { sampleDataDir } from '../../src/backtest/cli.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';

// The backtest's speed work (Engine.submitNow deciding quiet ticks and beats without a step's promise round trip)
// must not move a single order, fill, ledger entry or equity sample. Each run below is fingerprinted — the summary,
// every order the exchange accepted, every trade, the ledger (less its log ids), the equity curve, hourly equity, funding — and the
// fingerprints were taken on the code before that change (main at 2e33ad4). The runs cover quotes from bookTicker and
// klines, fills through and queue, latency 0 and 50 ms, and sessions cut by the stop-loss and by the horizon, so a
// decision moved by one quote shows here. A deliberate behaviour change updates these figures with its reason.

type Run = Partial<BacktestOptions> & Pick<BacktestOptions, 'symbols'>;

const runs: { name: string; run: Run; ordersSent: number; trades: number; fingerprint: string }[] = [
  {
    name: 'bookTicker, fills through, 50 ms (the bench run)',
    run: { symbols: ['BTCUSDT'], quotes: 'bookTicker', fills: 'through', latencyMs: 50 },
    ordersSent: 175,
    trades: 156,
    fingerprint: '2a5910e38c59c30be104c85e6baa84c20f049189d955bf0e38fc452ec6bfe7f2',
  },
  {
    name: 'bookTicker, queue fills from aggTrades, 0 ms',
    run: { symbols: ['BTCUSDT'], quotes: 'bookTicker', fills: 'queue', latencyMs: 0 },
    ordersSent: 175,
    trades: 156,
    fingerprint: '9f4c541d394b111d8f661a69d26b5a3cf1eaeb5abbe38bdd65b3636acddcbb0b',
  },
  {
    name: 'klines of two symbols, bridge path, 50 ms',
    run: { symbols: ['BTCUSDT', 'ETHUSDT'], quotes: 'klines', fills: 'through', latencyMs: 50 },
    ordersSent: 5400,
    trades: 3502,
    fingerprint: '4951267b2b96e4edd0a0b9422fe4badd983de10a9b7b889736554abd6ac61a3d',
  },
  {
    name: 'bookTicker, 0 ms, cut by the stop-loss',
    run: { symbols: ['BTCUSDT'], quotes: 'bookTicker', fills: 'through', latencyMs: 0, stopLossPct: 0.1 },
    ordersSent: 108,
    trades: 98,
    fingerprint: 'a19abba32f213007543d90d2b1f79c8b3ea70d5aa59ef333266a513dbe7c7f17',
  },
  {
    name: 'klines, 30 s bars, 0 ms, cut by the horizon',
    run: { symbols: ['BTCUSDT'], quotes: 'klines', fills: 'auto', latencyMs: 0, stopLossPct: 0.5, horizonHours: 5, barMs: 30_000 },
    ordersSent: 454,
    trades: 315,
    fingerprint: 'ce81b5ef15cf27e8206093fe84df87b15ccc720df8dd3db6bd4f6daca932da58',
  },
];

describe('backtest runs decide as they did before the speed work', () => {
  for (const { name, run, ordersSent, trades, fingerprint } of runs) {
    it(name, { timeout: 120_000 }, async () => {
      const result = await runBacktest({
        ...defaultBacktestOptions,
        dataDir: sampleDataDir,
        fromMs: null,
        toMs: null,
        strategy: crossoverStrategy(),
        capitalUsd: 10_000,
        ...run,
      });
      const { summary, orders, venueTrades, ledger, equityCurve, hourlyEquity, funding } = result;
      expect({ ordersSent: summary.ordersSent, trades: summary.trades }).toEqual({ ordersSent, trades });
      // The ledger's seq and walId are the log's entry ids: they count every entry written (answers and alerts too),
      // so they move with what the outbound stream says, not with what was decided. The rest of each entry is kept.
      const entries = ledger.map(({ seq: _seq, walId: _walId, ...entry }) => entry);
      const text = JSON.stringify({ summary, orders, venueTrades, ledger: entries, equityCurve, hourlyEquity, funding });
      expect(createHash('sha256').update(text).digest('hex')).toBe(fingerprint);
    });
  }
});
