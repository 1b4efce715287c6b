import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BacktestOptions } from '../../src/backtest/run-backtest.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { sampleDataDir } from '../../src/backtest/cli.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';

// The backtest's speed work (Engine.submitNow deciding quiet ticks and beats without a step's promise round trip)
// must not move a single order, fill, ledger entry or equity sample. Each run below is fingerprinted — the summary,
// every order the exchange accepted, every trade, the ledger, the equity curve, hourly equity, funding — and the
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
    fingerprint: '96040674065fc9d470b8761132467196893aced12556dd64465f3a4a20773a9d',
  },
  {
    name: 'bookTicker, queue fills from aggTrades, 0 ms',
    run: { symbols: ['BTCUSDT'], quotes: 'bookTicker', fills: 'queue', latencyMs: 0 },
    ordersSent: 175,
    trades: 156,
    fingerprint: '1730f8fe6f1dbcaf9762db28fe84841b3f9f43b346bdbe4052dc9c52abcaeaa8',
  },
  {
    name: 'klines of two symbols, bridge path, 50 ms',
    run: { symbols: ['BTCUSDT', 'ETHUSDT'], quotes: 'klines', fills: 'through', latencyMs: 50 },
    ordersSent: 5400,
    trades: 3502,
    fingerprint: '8926ec44d26cb7ab89ff70544aa4b225d2948f56536b4b14093f98a7236140a3',
  },
  {
    name: 'bookTicker, 0 ms, cut by the stop-loss',
    run: { symbols: ['BTCUSDT'], quotes: 'bookTicker', fills: 'through', latencyMs: 0, stopLossPct: 0.1 },
    ordersSent: 108,
    trades: 98,
    fingerprint: 'c886a4ecd2329282a39e3f98fb62d58085a1707d2d5bcd22dfbd890e3ffe363a',
  },
  {
    name: 'klines, 30 s bars, 0 ms, cut by the horizon',
    run: { symbols: ['BTCUSDT'], quotes: 'klines', fills: 'auto', latencyMs: 0, stopLossPct: 0.5, horizonHours: 5, barMs: 30_000 },
    ordersSent: 454,
    trades: 315,
    fingerprint: '831214ff369b91186455ab47983cdb71f34433b9f4b4815520ea0fa352ce08eb',
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
      const text = JSON.stringify({ summary, orders, venueTrades, ledger, equityCurve, hourlyEquity, funding });
      expect(createHash('sha256').update(text).digest('hex')).toBe(fingerprint);
    });
  }
});
