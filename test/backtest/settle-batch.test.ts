import { afterEach, describe, expect, it } from 'vitest';
import type { BacktestResult } from '../../src/backtest/run-backtest.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { BacktestVenue } from '../../src/backtest/venue.js';
import type { Input } from '../../src/core/decide.js';
import type { Effect } from '../../src/core/outputs.js';
import type { Engine } from '../../src/engine/engine.js';
import { performEffect } from '../../src/engine/perform-effect.js';
import type { ExchangeAccount } from '../../src/exchange/port.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';

// The venue performs every effect due at an instant before the engine hears any answer, and has the answers decided
// in one batch (venue.ts, settle). It used to perform one effect, have its answer decided, then the next: the same
// exchange operations in the same order and the same decisions, in fewer engine steps (the protective-stop checks'
// list_stops and reconcile, due together every few seconds, were two steps each). The runs below compare the two:
// orders, the venue's trades, the engine's ledger, the summary, the equity curve. The ledger entries' `seq` is left
// out: it is the in-memory log's record id, shared by the WAL, ledger and outbound records of a commit, so steps
// committed together number them in another order (the WAL ids, `walId`, stay the same).

/** The venue's inside, for the reference settle below (TypeScript's private is not a runtime boundary). */
interface VenueInside {
  clock: { nowMs(): number };
  engine: Engine;
  inputs: Input[];
  effects: { dueMs: number; effect: Effect }[];
  account: ExchangeAccount;
  ordersSent: number;
  collectTrades(): void;
}

/** The settle of before: one effect performed per round, its answer decided before the next is performed. */
async function oneEffectPerRound(this: VenueInside): Promise<void> {
  for (let round = 0; round < 10_000; round += 1) {
    const now = this.clock.nowMs();
    if (this.inputs.length > 0) {
      await this.engine.submitBatch(this.inputs.splice(0));
      continue;
    }
    const next = this.effects[0];
    if (!next || next.dueMs > now) {
      this.collectTrades();
      return;
    }
    this.effects.shift();
    if (next.effect.kind === 'place') this.ordersSent += 1;
    const result = await performEffect(this.account, next.effect, now);
    if (result) this.inputs.push(result);
  }
  throw new Error('did not settle');
}

const settle = Object.getOwnPropertyDescriptor(BacktestVenue.prototype, 'settle') as PropertyDescriptor;

afterEach(() => {
  Object.defineProperty(BacktestVenue.prototype, 'settle', settle);
});

async function run(quotes: 'klines' | 'bookTicker', latencyMs: number, fills: 'through' | 'queue'): Promise<BacktestResult> {
  return runBacktest({
    ...defaultBacktestOptions,
    dataDir: 'samples/binance-data',
    symbols: ['BTCUSDT'],
    fromMs: null,
    // 90 minutes of klines (hundreds of orders), two hours of bookTicker (tens).
    toMs: quotes === 'bookTicker' ? Date.UTC(2026, 0, 1, 8, 0, 0) : Date.UTC(2026, 0, 1, 7, 30, 0),
    quotes,
    fills,
    latencyMs,
    stopLossPct: 5,
    strategy: crossoverStrategy(),
    capitalUsd: 10_000,
  });
}

/** What the run did, the log's record ids aside. */
function outcome(r: BacktestResult): unknown {
  return {
    orders: r.orders,
    venueTrades: r.venueTrades,
    trades: r.trades,
    ledger: r.ledger.map(({ seq: _seq, ...entry }) => entry),
    summary: r.summary,
    equityCurve: r.equityCurve,
    funding: r.funding,
  };
}

describe('the venue decides the answers of effects due together in one batch', () => {
  for (const [quotes, latencyMs, fills] of [
    ['klines', 50, 'through'],
    ['klines', 50, 'queue'],
    ['klines', 0, 'through'],
    ['bookTicker', 50, 'through'],
  ] as const) {
    it(`as one round per effect decided them: ${quotes} quotes, ${fills} fills, latency ${latencyMs} ms`, async () => {
      const batched = await run(quotes, latencyMs, fills);
      Object.defineProperty(BacktestVenue.prototype, 'settle', { ...settle, value: oneEffectPerRound });
      const reference = await run(quotes, latencyMs, fills);
      expect(reference.orders.length).toBeGreaterThan(10);
      expect(outcome(batched)).toEqual(outcome(reference));
    }, 60_000);
  }
});
