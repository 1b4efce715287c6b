import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DataFileError } from '../../src/backtest/data/data-file-error.js';
import type { FillRule } from '../../src/backtest/run-backtest.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { noFaults } from '../../src/deterministic-sim/faults.js';
import { SimExchange } from '../../src/deterministic-sim/sim-exchange.js';
import type { SimOrder } from '../../src/paper-exchange/matching.js';
import type { TouchSizes } from '../../src/paper-exchange/order-book.js';
import { createPrng } from '../../src/paper-exchange/price-process.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';
import { loadSignalFile, signalReplayStrategy } from '../../src/strategies/signal-replay.js';

// Queue-position fills from aggTrades prints: first the matching engine's rule on hand-set touches and prints, then
// the backtest reading prints beside bookTicker quotes (hand-made files and the shipped sample).

const symbol = 'BTCUSDT';
// BTCUSDT on the paper exchange: tick 0.10 (price units of 0.01), step 0.001 (quantity units of 0.001).
const bid = 5_000_000n; // 50 000.00
const ask = 5_000_010n; // 50 000.10
const tick = 10n;

function exchangeAt(bidQtyUnits: bigint): {
  ex: SimExchange;
  key: string;
  rest: (id: string, side: 'BUY' | 'SELL', priceUnits: bigint, qtyUnits: bigint) => SimOrder;
} {
  const ex = new SimExchange(createPrng(1), () => 0, { ...noFaults }, { maxTouchTradeFraction: 0 });
  ex.quote(symbol, bid, ask);
  ex.touchSizes(symbol, shown(bidQtyUnits));
  const key = 'queue-test';
  const rest = (id: string, side: 'BUY' | 'SELL', priceUnits: bigint, qtyUnits: bigint): SimOrder =>
    ex.matching.place(
      key,
      { symbol, side, type: 'LIMIT', timeInForce: 'GTX', priceUnits, qtyUnits, reduceOnly: false, clientOrderId: id },
      { forcePostOnlyReject: false, receivedAt: 0, nowMs: 0 },
    ).order;
  return { ex, key, rest };
}

/** The touch as a bookTicker update shows it: `bidQtyUnits` at the bid, 1.000 at the ask. */
const shown = (bidQtyUnits: bigint, askUnits = ask, bidUnits = bid): TouchSizes => ({ bidUnits, bidQtyUnits, askUnits, askQtyUnits: 1_000n });
const sell = (priceUnits: bigint, qtyUnits: bigint) => ({ priceUnits, qtyUnits, buyerIsMaker: true });
const buy = (priceUnits: bigint, qtyUnits: bigint) => ({ priceUnits, qtyUnits, buyerIsMaker: false });

describe('matching: fills from trade prints', () => {
  it('a buy joining the bid waits for the size queued ahead, then fills from what is left of the prints', () => {
    const { ex, rest } = exchangeAt(2_000n); // 2.000 BTC shown at the bid
    const order = rest('a', 'BUY', bid, 500n);
    expect(order.queueAheadUnits).toBe(2_000n);
    expect(ex.marketTrade(symbol, sell(bid, 1_500n))).toBe(0);
    expect([order.queueAheadUnits, order.executedQtyUnits]).toEqual([500n, 0n]);
    // A buying aggressor at the ask, and one at our price, trade against sellers: not our queue.
    expect(ex.marketTrade(symbol, buy(ask, 5_000n))).toBe(0);
    expect(ex.marketTrade(symbol, buy(bid, 5_000n))).toBe(0);
    expect(order.queueAheadUnits).toBe(500n);
    // 0.800 sold at our price: 0.500 ahead of us, 0.300 to us.
    expect(ex.marketTrade(symbol, sell(bid, 800n))).toBe(1);
    expect([order.queueAheadUnits, order.executedQtyUnits, order.status]).toEqual([0n, 300n, 'PARTIALLY_FILLED']);
    expect(ex.marketTrade(symbol, sell(bid, 1_000n))).toBe(1);
    expect([order.executedQtyUnits, order.status]).toEqual([500n, 'FILLED']);
    const trades = ex.matching.account('queue-test').trades;
    expect(trades.map((t) => [t.qty, t.price, t.maker])).toEqual([
      ['0.300', '50000.00', true],
      ['0.200', '50000.00', true],
    ]);
  });

  it('a print below a resting buy (above a resting sell) traded through it: it fills in full at its limit, queue or not', () => {
    const { ex, rest } = exchangeAt(9_000n);
    const buyOrder = rest('b', 'BUY', bid, 700n);
    const sellOrder = rest('s', 'SELL', ask, 400n);
    expect(ex.marketTrade(symbol, sell(bid - tick, 1n))).toBe(1);
    expect([buyOrder.status, buyOrder.executedQtyUnits]).toEqual(['FILLED', 700n]);
    expect(ex.marketTrade(symbol, buy(ask + tick, 1n))).toBe(1);
    expect([sellOrder.status, sellOrder.executedQtyUnits]).toEqual(['FILLED', 400n]);
    expect(ex.matching.account('queue-test').trades.map((t) => t.price)).toEqual(['50000.00', '50000.10']);
  });

  it('older orders at a price take their share of a print first; the younger one queues behind the book size it met', () => {
    const { ex, rest } = exchangeAt(1_000n);
    const older = rest('o1', 'BUY', bid, 300n);
    const younger = rest('o2', 'BUY', bid, 300n);
    expect([older.queueAheadUnits, younger.queueAheadUnits]).toEqual([1_000n, 1_000n]);
    // 1.400 sold: 1.000 of the book, 0.300 to the older order, 0.100 left for the younger (its 1.000 ahead is gone).
    expect(ex.marketTrade(symbol, sell(bid, 1_400n))).toBe(2);
    expect([older.executedQtyUnits, younger.executedQtyUnits, younger.queueAheadUnits]).toEqual([300n, 100n, 0n]);
  });

  it('queue ahead: none inside the spread; kept when the touch moves away and back; only ever shrunk by the size shown', () => {
    const { ex, rest } = exchangeAt(3_000n);
    // A spread of 10 ticks: a buy 5 ticks above the bid is the new best bid.
    ex.quote(symbol, bid, bid + tick * 10n);
    ex.touchSizes(symbol, shown(3_000n, bid + tick * 10n));
    const inside = rest('in', 'BUY', bid + tick * 5n, 100n);
    expect(inside.queueAheadUnits).toBe(0n);
    const order = rest('q', 'BUY', bid, 100n);
    expect(order.queueAheadUnits).toBe(3_000n);
    ex.marketTrade(symbol, sell(bid, 1_000n));
    expect(order.queueAheadUnits).toBe(2_000n);
    // The bid moves up and away (the order is behind it), then back with a bigger size: what was ahead stays ahead.
    ex.quote(symbol, bid + tick * 2n, ask + tick * 2n);
    ex.touchSizes(symbol, shown(7_000n, ask + tick * 2n, bid + tick * 2n));
    ex.quote(symbol, bid, ask);
    ex.touchSizes(symbol, shown(9_000n));
    expect(order.queueAheadUnits).toBe(2_000n);
    // The level shows less than was ahead (cancels): at most that much is still ahead.
    ex.touchSizes(symbol, shown(1_200n));
    expect(order.queueAheadUnits).toBe(1_200n);
    // The bid falls below the order: nothing at its price is left ahead of it.
    ex.quote(symbol, bid - tick, ask);
    expect(order.queueAheadUnits).toBe(0n);
    expect(order.executedQtyUnits).toBe(0n);
  });
});

const t0 = Date.UTC(2026, 0, 1);
const bookHeader = 'update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time';
const printHeader = 'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker';

/**
 * A touch that stays at 50 000.0 / 50 000.1 with 1.000 BTC at the bid for 20 minutes, a model that wants a long from
 * the first minute on (its entry rests at the bid from about 60.05 s), and sellers hitting the bid with 0.300 BTC
 * every 500 ms from 61 s to 75 s: the entry's 1.000 ahead is gone with the fourth print (62.5 s).
 */
function handMade(prints: string[] = sellerPrints()): string {
  const dir = mkdtempSync(join(tmpdir(), 'qe-queue-'));
  const rows = [bookHeader];
  for (let ms = 0, id = 1; ms < 20 * 60_000; ms += 500, id += 1) rows.push([id, '50000.0', '1.000', '50000.1', '1.000', t0 + ms, t0 + ms + 1].join(','));
  writeFileSync(join(dir, 'BTCUSDT-bookTicker-2026-01-01.csv'), `${rows.join('\n')}\n`);
  writeFileSync(join(dir, 'BTCUSDT-aggTrades-2026-01-01.csv'), `${[printHeader, ...prints].join('\n')}\n`);
  writeFileSync(join(dir, 'signals.csv'), `timestamp,symbol,signal,confidence,horizon_hours\n${t0 + 60_000},BTCUSDT,BUY,1,\n`);
  return dir;
}

function sellerPrints(): string[] {
  const out: string[] = [];
  for (let ms = 61_000, id = 1; ms <= 75_000; ms += 500, id += 1) out.push([id, '50000.0', '0.300', id, id, t0 + ms, 'true'].join(','));
  return out;
}

async function runOn(dir: string, fills: FillRule): Promise<Awaited<ReturnType<typeof runBacktest>>> {
  return runBacktest({
    ...defaultBacktestOptions,
    dataDir: dir,
    symbols: [symbol],
    fromMs: null,
    toMs: null,
    fills,
    strategy: signalReplayStrategy(await loadSignalFile(join(dir, 'signals.csv'))),
    capitalUsd: 10_000,
  });
}

describe('backtest: queue fills from aggTrades', () => {
  it('a resting entry at an unmoving touch fills from the prints once its queue has traded, not with through fills', async () => {
    const dir = handMade();
    const through = await runOn(dir, 'through');
    expect(through.summary.ordersSent).toBeGreaterThan(0);
    expect(through.summary.trades).toBe(0);
    const queue = await runOn(dir, 'queue');
    const makers = queue.venueTrades.filter((t) => t.maker);
    expect(makers.length).toBeGreaterThan(0);
    expect(makers[0]).toMatchObject({ side: 'BUY', price: '50000.00', timeMs: t0 + 62_500 });
    expect(queue.summary.makerTradesFromPrints).toBe(queue.summary.makerTrades);
    expect(queue.assumptions.join('\n')).toMatch(/BTCUSDT: bookTicker \(1 files\), queue fills from aggTrades \(1 files\)/);
    expect(queue.assumptions.join('\n')).toMatch(/queue fills from aggTrades: a resting order still fills in full/);
    // auto: the data has aggTrades, so the same as queue.
    expect((await runOn(dir, 'auto')).venueTrades).toEqual(queue.venueTrades);
  }, 120_000);

  it('stops at a malformed, out-of-order or off-grid aggTrades row with the file and the line', async () => {
    const good = sellerPrints();
    const cases: { rows: string[]; line: number; says: RegExp }[] = [
      { rows: [good[0] as string, `2,50000.0,abc,2,2,${t0 + 61_500},true`], line: 3, says: /quantity is not a decimal number/ },
      { rows: [good[1] as string, good[0] as string], line: 3, says: /out of order/ },
      { rows: [`1,50000.05,0.100,1,1,${t0 + 61_000},true`], line: 2, says: /price 50000.05 is not on the symbol's tick grid/ },
      { rows: [`1,50000.0,0.100,1,1,${t0 + 61_000},yes`], line: 2, says: /is_buyer_maker is not true or false/ },
    ];
    for (const c of cases) {
      const dir = handMade(c.rows);
      const file = join(dir, 'BTCUSDT-aggTrades-2026-01-01.csv');
      const error = await runOn(dir, 'queue').then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, c.says.source).toBeInstanceOf(DataFileError);
      expect([(error as DataFileError).file, (error as DataFileError).line]).toEqual([file, c.line]);
      expect((error as DataFileError).message).toMatch(c.says);
    }
  }, 120_000);

  it('over the shipped sample: maker fills from prints, reported, and queue fills refused for a symbol without aggTrades', async () => {
    const options = {
      ...defaultBacktestOptions,
      dataDir: 'samples/binance-data',
      fromMs: Date.parse('2026-01-01T07:00:00Z'),
      toMs: Date.parse('2026-01-01T08:00:00Z'),
      strategy: crossoverStrategy(),
      capitalUsd: 10_000,
    };
    const result = await runBacktest({ ...options, symbols: [symbol], fills: 'queue' });
    expect(result.summary.makerTradesFromPrints).toBeGreaterThan(0);
    expect(result.summary.makerTradesFromPrints).toBeLessThanOrEqual(result.summary.makerTrades);
    expect(result.assumptions.join('\n')).toMatch(/queue fills from aggTrades/);
    await expect(runBacktest({ ...options, symbols: ['ETHUSDT'], fills: 'queue' })).rejects.toThrow(/no aggTrades files for ETHUSDT/);
    const through = await runBacktest({ ...options, symbols: [symbol], fills: 'through' });
    expect(through.summary.makerTradesFromPrints).toBe(0);
    expect(through.assumptions.join('\n')).toMatch(/fills only when a later quote trades through its price/);
  }, 120_000);

  it('the CLI with --fills queue on the shipped sample says so in its summary, its assumptions and the HTML report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qe-queue-cli-'));
    const args = ['tsx', 'src/main.ts', 'backtest', '--symbols', 'BTCUSDT', '--from', '2026-01-01T07:00:00Z', '--to', '2026-01-01T07:40:00Z'];
    const { stdout } = await promisify(execFile)('npx', [...args, '--fills', 'queue', '--out', out], { timeout: 120_000 });
    const summary = JSON.parse(stdout.trim()) as { makerTradesFromPrints: number; makerTrades: number; jsonReportPath: string; reportPath: string };
    expect(summary.makerTradesFromPrints).toBeGreaterThan(0);
    const report = JSON.parse(readFileSync(summary.jsonReportPath, 'utf8')) as { assumptions: string[] };
    expect(report.assumptions.join('\n')).toMatch(/queue fills from aggTrades/);
    expect(readFileSync(summary.reportPath, 'utf8')).toContain(`<th>Maker trades from aggTrades prints</th><td>${summary.makerTradesFromPrints}</td>`);
  }, 150_000);
});
