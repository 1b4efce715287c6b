import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { catalog, filesOf } from '../../src/backtest/data/catalog.js';
import type { BacktestResult } from '../../src/backtest/run-backtest.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { toSymbolFilters } from '../../src/exchange/binance/mapping.js';
import { mustParseDecimal } from '../../src/model/decimal.js';
import { specOfFilters } from '../../src/paper-exchange/symbols.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';

// A backtest of a symbol the paper exchange does not list, with its trading rules from Binance's exchangeInfo
// (`--rules FILE`): the archive's files name their symbol, and its tick, step and notional bounds come from the file
// the user saved from GET /fapi/v1/exchangeInfo, read as the live adapter reads the exchange's (toSymbolFilters).

const sample = 'samples/binance-data';
const dir = mkdtempSync(join(tmpdir(), 'qe-rules-'));

/** exchangeInfo listing one symbol with these filters, in Binance's shape (the filters the engine reads). */
function exchangeInfo(symbol: string, lot: { stepSize: string; minQty: string }): unknown {
  return {
    timezone: 'UTC',
    symbols: [
      {
        symbol,
        status: 'TRADING',
        filters: [
          { filterType: 'PRICE_FILTER', minPrice: '556.80', maxPrice: '4529764', tickSize: '0.10' },
          { filterType: 'LOT_SIZE', maxQty: '1000', ...lot },
          { filterType: 'MARKET_LOT_SIZE', maxQty: '120', ...lot },
          { filterType: 'MIN_NOTIONAL', notional: '100' },
          { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
        ],
      },
    ],
  };
}

/** The sample's BTCUSDT bookTicker and funding rates under another symbol's name (the archive's CSVs name none). */
async function sampleAs(symbol: string): Promise<string> {
  const data = join(dir, symbol);
  mkdirSync(data, { recursive: true });
  const files = await catalog(sample);
  const book = filesOf(files, 'BTCUSDT', 'bookTicker', 0, Infinity);
  const funding = filesOf(files, 'BTCUSDT', 'fundingRate', 0, Infinity);
  expect(book.length).toBe(1);
  expect(funding.length).toBe(1);
  copyFileSync(book[0]?.path as string, join(data, `${symbol}-bookTicker-2026-01-01.zip`));
  copyFileSync(funding[0]?.path as string, join(data, `${symbol}-fundingRate-2026-01.zip`));
  return data;
}

function backtest(dataDir: string, symbol: string, rules?: unknown): Promise<BacktestResult> {
  const specs = rules === undefined ? undefined : Object.values(toSymbolFilters(rules, [symbol])).map(specOfFilters);
  return runBacktest({
    ...defaultBacktestOptions,
    dataDir,
    symbols: [symbol],
    fromMs: null,
    toMs: null,
    fills: 'through',
    strategy: crossoverStrategy(),
    capitalUsd: 10_000,
    ...(specs !== undefined ? { symbolSpecs: specs, symbolSpecsSource: 'the test' } : {}),
  });
}

/** `quant-engine backtest` run as a user runs it, expected to fail: its exit code and stderr. */
async function refusedRun(dataDir: string, symbol: string, rules: string): Promise<{ code: number; stderr: string } | null> {
  const args = ['tsx', 'src/main.ts', 'backtest', '--data', dataDir, '--symbols', symbol, '--rules', rules];
  return promisify(execFile)('npx', args, { timeout: 60_000 }).then(
    () => null,
    (error: { code: number; stderr: string }) => error,
  );
}

/** A run's orders and summary with its symbol's name taken out: what two runs of the same market must share. */
function unnamed(result: BacktestResult, symbol: string): string {
  const { summary, orders } = result;
  return JSON.stringify({ summary: { ...summary, symbols: [] }, orders }).replaceAll(symbol, 'SYMBOL');
}

describe('backtest --rules (a symbol from exchangeInfo)', () => {
  it("trades a symbol under exchangeInfo's rules as the built-in rules trade it when they are the same", async () => {
    const data = await sampleAs('TESTUSDT');
    const named = await backtest(data, 'TESTUSDT', exchangeInfo('TESTUSDT', { stepSize: '0.001', minQty: '0.001' }));
    const builtIn = await backtest(sample, 'BTCUSDT');
    expect(named.summary.trades).toBeGreaterThan(50);
    expect(named.summary.fundingTimes).toBeGreaterThan(0);
    // The same market under the same rules: the same orders, fills, fees and funding, to the last digit.
    expect(unnamed(named, 'TESTUSDT')).toBe(unnamed(builtIn, 'BTCUSDT'));
    expect(named.assumptions).toContain(
      "trading rules from Binance's exchangeInfo in the test: TESTUSDT tick 0.10, step 0.001 (market orders 0.001), min notional 100 USDT",
    );
  });

  it("sizes every order on the file's step: a coarser step than BTCUSDT's built-in one", async () => {
    const data = await sampleAs('COARSEUSDT');
    const coarse = await backtest(data, 'COARSEUSDT', exchangeInfo('COARSEUSDT', { stepSize: '0.01', minQty: '0.01' }));
    const builtIn = await backtest(sample, 'BTCUSDT');
    const offStep = (r: BacktestResult): number => r.orders.filter((o) => mustParseDecimal(o.origQty, 3) % 10n !== 0n).length;
    // The built-in step (0.001) sizes some orders between two 0.01 steps; the file's never does, engine and exchange alike.
    expect(offStep(builtIn)).toBeGreaterThan(0);
    expect(coarse.summary.ordersSent).toBeGreaterThan(50);
    expect(offStep(coarse)).toBe(0);
    expect(coarse.venueTrades.every((t) => mustParseDecimal(t.qty, 3) % 10n === 0n)).toBe(true);
  });

  it('says what is wrong: a symbol without rules names --rules, a file that does not list it names the symbol', async () => {
    const data = await sampleAs('OTHERUSDT');
    await expect(backtest(data, 'OTHERUSDT')).rejects.toThrow(
      /no trading rules for OTHERUSDT: .* give --rules FILE, Binance's exchangeInfo saved from https:\/\/fapi\.binance\.com\/fapi\/v1\/exchangeInfo/,
    );
    const rules = join(dir, 'other-info.json');
    writeFileSync(rules, JSON.stringify(exchangeInfo('TESTUSDT', { stepSize: '0.001', minQty: '0.001' })));
    const failed = await refusedRun(data, 'OTHERUSDT', rules);
    expect(failed?.code).toBe(2);
    expect(failed?.stderr.split('\n')[0]).toBe(`--rules ${rules} has no rules to trade OTHERUSDT by: exchange does not list OTHERUSDT`);
    // A file far larger than any exchangeInfo is refused before it is read (it is read whole).
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, '');
    truncateSync(huge, 40 * 1024 * 1024);
    const tooBig = await refusedRun(data, 'OTHERUSDT', huge);
    expect(tooBig?.code).toBe(2);
    expect(tooBig?.stderr.split('\n')[0]).toBe(`--rules ${huge}: 41943040 bytes, more than exchangeInfo's (at most 33554432 read)`);
  });
});
