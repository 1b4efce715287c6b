import { describe, expect, it } from 'vitest';
import { catalog, filesOf } from '../../src/backtest/data/catalog.js';
import type { FundingTime, Quote, TickGrid } from '../../src/backtest/data/quotes.js';
import { bookTickerQuoteBatches, fundingTimes } from '../../src/backtest/data/quotes.js';
import type { BacktestResult } from '../../src/backtest/run-backtest.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import type { LedgerView } from '../../src/contract/ledger.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { SimOrderRecord, SimTradeRecord } from '../../src/paper-exchange/server.js';
import { defaultSimSymbols, deriveRules } from '../../src/paper-exchange/symbols.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';
import type { LiveReplayOptions } from '../support/live-replay.js';
import { replayLive } from '../support/live-replay.js';

// Issue 14 item 6: the same quotes through the backtest (engine kernel + matching engine in process) and through the
// live path (the simulator server replaying them, the execution service on Redis, the Binance adapter over HTTP and
// WebSocket) give the same orders and the same fills. The live side runs in lockstep (test/support/live-replay.ts):
// each quote is set as the simulator's touch, the engine's clock moved to its time, and the next step waits until
// the engine is quiet; the strategy's targets at each bar close go to the engine as signals.route commands.
//
// Twice: at latency 0 (every order reaches the exchange at the touch it was decided on: maker entries and exits, the
// closing taker), and at 1 s, where the live side's requests are held on the manual clock for as long as the
// backtest's venue holds its effects (test/support/request-latency.ts): post-only entries then meet a moved touch, are
// refused, and the 15 bps IOC fallback takes. The two exchanges draw their depth from different seeds, so the run is
// sized (10 000 USD, weights ≤ 0.3) for every taker to fill inside the first level (200 000 USD at least): the touch.
//
// And with two symbols: BTCUSDT and ETHUSDT quotes interleaved in time (a tie in the symbols' order, as the backtest merges
// them), each traded and funded. (Shown able to fail: ETHUSDT quotes moved 50 ticks on the live side alone → 51 orders
// against 52.)

const sample = 'samples/binance-data';
const symbol = 'BTCUSDT';
/** The sample's two symbols with bookTicker quotes: listed in the backtest's order (it breaks time ties by it). */
const twoSymbols = ['BTCUSDT', 'ETHUSDT'];
/** Each case replays 8 minutes of the sample's BTCUSDT bookTicker (about 480 quotes). */
const windowMs = 8 * 60_000;
/** 06:00: a quiet start, 20-odd orders, entries and exits. */
const earlyFromMs = Date.UTC(2026, 0, 1, 6, 0, 0);
/** 07:54: the funding time of 08:00 falls inside, with a position held. */
const fundingFromMs = Date.UTC(2026, 0, 1, 7, 54, 0);
/** Short bars and windows so the crossover trades within minutes. */
const barMs = 10_000;
const crossover = { shortWindow: 2, longWindow: 4, maxWeight: 0.3 };
const capitalUsd = 10_000;
/**
 * A latency longer than the quotes' spacing (about a second): an order reaches the exchange after the touch moved, a
 * post-only entry that would now take is refused (-5022) and the engine's IOC fallback trades as a taker.
 */
const latencyWithFallbacksMs = 1_000;
/** A stop-loss (percent of capital) the run's losses reach within the 8 minutes. */
const tightStopLossPct = 0.01;
/** The backtest's own user (run-backtest.ts), so both paths trade the same paper account key. */
const userId = 'backtest';

/** The symbols' quotes merged in time order, a tie in the symbols' order (as the backtest's mergeBatchesByTime). */
async function sampleQuotes(grids: ReadonlyMap<string, TickGrid>, fromMs: number): Promise<Quote[]> {
  const toMs = fromMs + windowMs;
  const files = await catalog(sample);
  const out: Quote[] = [];
  for (const [s, grid] of grids) {
    for await (const batch of bookTickerQuoteBatches(filesOf(files, s, 'bookTicker', fromMs, toMs), s, grid, fromMs, toMs)) out.push(...batch);
  }
  // Array.prototype.sort is stable: equal times keep the symbols' order.
  return out.sort((a, b) => a.timeMs - b.timeMs);
}

async function sampleFunding(symbols: readonly string[], fromMs: number): Promise<FundingTime[]> {
  const toMs = fromMs + windowMs;
  const files = await catalog(sample);
  const out: FundingTime[] = [];
  for (const s of symbols) for await (const f of fundingTimes(filesOf(files, s, 'fundingRate', fromMs, toMs), s, fromMs, toMs)) out.push(f);
  return out.sort((a, b) => a.timeMs - b.timeMs);
}

/**
 * What an order is, when it reached the exchange (the engine's clock: the quote's time) and how it ended; no ids (the
 * engine's client ids carry its epoch, the exchanges number orders apart).
 */
function orderView(o: SimOrderRecord): string {
  return [
    new Date(o.receivedAt).toISOString(),
    o.symbol,
    o.side,
    o.type,
    o.timeInForce ?? '-',
    o.price ?? '-',
    o.origQty,
    o.reduceOnly ? 'reduceOnly' : '-',
    o.status,
    o.executedQty,
    o.avgPrice,
  ].join(' ');
}

/** A trade as the exchange booked it, at the engine's clock. */
function tradeView(t: Pick<SimTradeRecord, 'timeMs' | 'symbol' | 'side' | 'price' | 'qty' | 'maker' | 'commission'>): string {
  return [new Date(t.timeMs).toISOString(), t.symbol, t.side, t.price, t.qty, t.maker ? 'maker' : 'taker', t.commission].join(' ');
}

/** The engine's ledger (fills, exchange-originated fills such as a triggered stop's, fees, funding), as the trader reads it. */
function ledgerView(e: LedgerView): string {
  return [e.kind, e.symbol, e.side, e.price, e.qty, e.feeUsd, e.realizedPnlUsd, e.fundingUsd, e.netUsd].join(' ');
}

/** One run on both paths. */
interface Case {
  fromMs: number;
  latencyMs: number;
  stopLossPct?: number;
  /** BTCUSDT alone unless given. */
  symbols?: readonly string[];
}

describe('backtest and live path parity', () => {
  const gridOf = (s: string): TickGrid => {
    const rules = deriveRules(defaultSimSymbols.find((spec) => spec.symbol === s) as (typeof defaultSimSymbols)[number]);
    return { priceScale: rules.priceScale, tickUnits: rules.tickUnits };
  };
  const backtest = async ({ fromMs, symbols = [symbol], ...c }: Case) =>
    runBacktest({
      ...defaultBacktestOptions,
      dataDir: sample,
      symbols,
      quotes: 'bookTicker',
      // The live path has no aggTrades prints to replay: resting orders fill when a quote trades through, on both sides.
      fills: 'through',
      fromMs,
      toMs: fromMs + windowMs,
      strategy: crossoverStrategy(crossover),
      capitalUsd,
      barMs,
      ...c,
    });
  const live = async ({ fromMs, symbols = [symbol], ...c }: Case, perturb?: LiveReplayOptions['perturb']) => {
    const grids = new Map(symbols.map((s) => [s, gridOf(s)]));
    return replayLive({
      label: 'parity',
      quotes: await sampleQuotes(grids, fromMs),
      funding: await sampleFunding(symbols, fromMs),
      grids,
      strategy: crossoverStrategy(crossover),
      barMs,
      capitalUsd,
      // run-backtest.ts's configuration for bookTicker quotes (staleFeedMs stays the default: the quotes are not sparse).
      config: { ...defaultCoreConfig, symbols: [...symbols] },
      userId,
      ...c,
      ...(perturb ? { perturb } : {}),
    });
  };
  /** Runs the case on both paths, checks they agree, and answers the backtest's run (for what it should contain). */
  const same = async (c: Case): Promise<BacktestResult> => {
    const expected = await backtest(c);
    const replayed = await live(c);
    expect(replayed.routes).toBeGreaterThan(0);
    expect(replayed.orders.map(orderView)).toEqual(expected.orders.map(orderView));
    expect(replayed.trades.map(tradeView)).toEqual(expected.venueTrades.map(tradeView));
    expect(replayed.ledger.map(ledgerView)).toEqual(expected.ledger.map(ledgerView));
    return expected;
  };

  it('at latency 0: maker entries and exits, the closing taker', { timeout: 60_000 }, async () => {
    const run = await same({ fromMs: earlyFromMs, latencyMs: 0 });
    // The run is worth comparing: several entries and exits, resting (maker) and taking fills.
    expect(run.orders.length).toBeGreaterThanOrEqual(10);
    expect(run.venueTrades.some((t) => t.maker)).toBe(true);
    expect(run.venueTrades.some((t) => !t.maker)).toBe(true);
    expect(new Set(run.venueTrades.map((t) => t.side)).size).toBe(2);
  });

  it('at 1 s latency: post-only entries refused on a moved touch and their 15 bps IOC fallbacks; a funding time', { timeout: 60_000 }, async () => {
    const run = await same({ fromMs: fundingFromMs, latencyMs: latencyWithFallbacksMs });
    expect(run.orders.some((o) => o.timeInForce === 'IOC')).toBe(true);
    expect(run.funding.filter((f) => Number(f.positionQty) !== 0)).toHaveLength(1);
    expect(run.ledger.some((e) => e.kind === 'funding')).toBe(true);
  });

  it('with a stop-loss: the protective stop resting on the exchange, the stop-loss flatten', { timeout: 60_000 }, async () => {
    const run = await same({ fromMs: earlyFromMs, latencyMs: 0, stopLossPct: tightStopLossPct });
    expect(run.ledger.some((e) => e.kind === 'exchange_fill')).toBe(true);
  });

  it('two symbols: BTCUSDT and ETHUSDT quotes interleaved, both traded, at 1 s latency with a funding time', { timeout: 90_000 }, async () => {
    const run = await same({ fromMs: fundingFromMs, latencyMs: latencyWithFallbacksMs, symbols: twoSymbols });
    // Both symbols traded, and the funding of each held one booked.
    expect(new Set(run.venueTrades.map((t) => t.symbol))).toEqual(new Set(twoSymbols));
    expect(run.ledger.some((e) => e.kind === 'funding')).toBe(true);
  });
});
