import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gaussian, Mulberry32 } from '../../paper-exchange/price-process.js';
import { singleEntryZip } from '../data/zip-writer.js';

// Generates the shipped sample (samples/binance-data): synthetic prices written in exactly the formats and folder
// layout of Binance's public data archive (data.binance.vision, see data/binance-csv.ts), zipped as published, so the
// backtest and its tests run offline. Same seed, same bytes.
//   npx tsx src/backtest/sample/generate-sample.ts [OUT_DIR]
// - 1m klines for two days (2026-01-01 and 02) of BTCUSDT and ETHUSDT, one daily file each, with a header row;
// - bookTicker of 2026-01-01 06:00 to 10:00 UTC (a funding time inside), about one update a second;
// - aggTrades of BTCUSDT for 07:00 to 09:00 of that bookTicker (the daily file of 2026-01-01), consistent with it: a
//   seller-aggressor print (is_buyer_maker true) at the bid, a buyer-aggressor one at the ask; small prints that leave
//   the touch standing, and where the next update's bid is lower (ask higher) a print of what the level still held;
// - fundingRate for January 2026 (every 8 h), monthly files as the archive has them;
// - model-signals.csv (at the top of the sample): an external model's signals for the replay strategy (strategies/signal-replay.ts).
// The path is a random walk with slow drifting trends (so a crossover has something to follow), from one PRNG.

const seed = 20260101;
const dayMs = 86_400_000;
const startMs = Date.UTC(2026, 0, 1);
const days = 2;
const bookFromMs = startMs + 6 * 3_600_000;
const bookToMs = startMs + 10 * 3_600_000;
/** The aggTrades sample's span (inside the bookTicker's) and symbol: two hours keep the zip under 250 KB. */
const printsFromMs = startMs + 7 * 3_600_000;
const printsToMs = startMs + 9 * 3_600_000;
const printsSymbol = 'BTCUSDT';
/** The prints draw from their own PRNG: the files generated before them stay byte-identical. */
const printsSeed = seed + 14;

interface SampleSymbol {
  symbol: string;
  startPrice: number;
  tick: number;
  decimals: number;
  /** Per-second volatility as a fraction. */
  volPerSecond: number;
}

const symbols: SampleSymbol[] = [
  { symbol: 'BTCUSDT', startPrice: 87_000, tick: 0.1, decimals: 1, volPerSecond: 0.00004 },
  { symbol: 'ETHUSDT', startPrice: 2_950, tick: 0.01, decimals: 2, volPerSecond: 0.00006 },
];

/** One mid a second over the whole sample (`dayCount` days), on the tick grid (integer ticks). */
function secondTicks(spec: SampleSymbol, random: () => number, dayCount = days): Float64Array {
  const seconds = (dayCount * dayMs) / 1000;
  const out = new Float64Array(seconds);
  let mid = spec.startPrice;
  let drift = 0;
  for (let s = 0; s < seconds; s += 1) {
    // A trend that changes every 20 minutes or so: the crossover's food.
    if (s % 1200 === 0) drift = gaussian(random) * spec.volPerSecond * 0.03;
    mid *= Math.exp(drift + gaussian(random) * spec.volPerSecond);
    out[s] = Math.round(mid / spec.tick);
  }
  return out;
}

const fmt = (ticks: number, spec: SampleSymbol): string => (ticks * spec.tick).toFixed(spec.decimals);

function write(root: string, relative: string, csvName: string, csv: string): void {
  const path = join(root, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, singleEntryZip(csvName, Buffer.from(csv, 'utf8')));
}

function klines(spec: SampleSymbol, ticks: ArrayLike<number>, dayStartMs: number, random: () => number): string {
  const lines = ['open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore'];
  const firstSecond = (dayStartMs - startMs) / 1000;
  for (let m = 0; m < 1440; m += 1) {
    const from = firstSecond + m * 60;
    let high = -Infinity;
    let low = Infinity;
    for (let s = from; s < from + 60; s += 1) {
      high = Math.max(high, ticks[s] as number);
      low = Math.min(low, ticks[s] as number);
    }
    const open = ticks[from] as number;
    const close = ticks[from + 59] as number;
    const volume = Math.round((50 + random() * 400) * (spec.symbol === 'BTCUSDT' ? 1 : 20) * 1000) / 1000;
    const mid = ((open + close) / 2) * spec.tick;
    const count = 500 + Math.floor(random() * 3000);
    const takerBuy = Math.round(volume * (0.3 + random() * 0.4) * 1000) / 1000;
    const openTime = dayStartMs + m * 60_000;
    lines.push(
      [
        openTime,
        fmt(open, spec),
        fmt(high, spec),
        fmt(low, spec),
        fmt(close, spec),
        volume.toFixed(3),
        openTime + 59_999,
        (volume * mid).toFixed(5),
        count,
        takerBuy.toFixed(3),
        (takerBuy * mid).toFixed(5),
        0,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** One bookTicker update, prices in ticks and sizes as printed. */
interface BookRow {
  timeMs: number;
  bid: number;
  bidQty: string;
  ask: number;
  askQty: string;
}

function bookTicker(
  spec: SampleSymbol,
  ticks: ArrayLike<number>,
  random: () => number,
  fromMs = bookFromMs,
  toMs = bookToMs,
): { csv: string; rows: BookRow[] } {
  const lines = ['update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time'];
  const rows: BookRow[] = [];
  let updateId = 5_000_000_000 + Math.floor(random() * 1_000_000);
  for (let t = fromMs; t < toMs; t += 200 + Math.floor(random() * 1600)) {
    const mid = ticks[Math.floor((t - startMs) / 1000)] as number;
    const spreadTicks = random() < 0.85 ? 1 : 2 + Math.floor(random() * 3);
    const bid = mid - Math.floor(spreadTicks / 2);
    const qty = (): string => (random() * (spec.symbol === 'BTCUSDT' ? 8 : 120) + 0.001).toFixed(3);
    updateId += 1 + Math.floor(random() * 40);
    const row: BookRow = { timeMs: t, bid, bidQty: qty(), ask: bid + spreadTicks, askQty: qty() };
    rows.push(row);
    lines.push([updateId, fmt(bid, spec), row.bidQty, fmt(row.ask, spec), row.askQty, t, t + 1 + Math.floor(random() * 5)].join(','));
  }
  return { csv: `${lines.join('\n')}\n`, rows };
}

/** Smallest print (BTC): the step. */
const minPrintQty = 0.001;
/** Small prints between two updates: at most this many, each at most this share of the level they hit. */
const maxSmallPrints = 1;
const maxSmallPrintShare = 0.2;
/** What a sweep took at the deepest level it reached (BTC): uniform up to this. */
const maxSweepLevelQty = 2;

function sweepLevelQty(random: () => number): number {
  return Math.max(minPrintQty, Math.floor(random() * maxSweepLevelQty * 1000) / 1000);
}

/**
 * aggTrades (USDⓈ-M: agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker; the
 * header and lower-case booleans as the archive's files print them, binance/binance-public-data issue 339) for the
 * updates in [fromMs, toMs). Between one update and the next: a few small prints at that update's bid or ask, each a
 * fraction of the size shown there; then, 1 ms before the next update, where its bid is lower the sellers took what
 * the old bid level still held (one print at it), and where its ask is higher the buyers took the old ask level.
 */
function aggTrades(spec: SampleSymbol, rows: readonly BookRow[], fromMs: number, toMs: number, random: () => number): string {
  const lines = ['agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker'];
  let aggId = 2_900_000_000 + Math.floor(random() * 1_000_000);
  let tradeId = 6_700_000_000 + Math.floor(random() * 1_000_000);
  const print = (priceTicks: number, qty: number, timeMs: number, buyerIsMaker: boolean): void => {
    const trades = 1 + Math.floor(random() * 4);
    lines.push([aggId, fmt(priceTicks, spec), qty.toFixed(3), tradeId, tradeId + trades - 1, timeMs, buyerIsMaker].join(','));
    aggId += 1;
    tradeId += trades;
  };
  for (let i = 0; i + 1 < rows.length; i += 1) {
    const row = rows[i] as BookRow;
    const next = rows[i + 1] as BookRow;
    if (row.timeMs < fromMs || next.timeMs >= toMs) continue;
    let bidLeft = Number(row.bidQty);
    let askLeft = Number(row.askQty);
    const gapMs = next.timeMs - row.timeMs;
    const small = Math.floor(random() * (maxSmallPrints + 1));
    const times = Array.from({ length: small }, () => row.timeMs + 1 + Math.floor(random() * (gapMs - 2))).sort((a, b) => a - b);
    for (const timeMs of times) {
      const atBid = random() < 0.5;
      const left = atBid ? bidLeft : askLeft;
      const qty = Math.floor(left * maxSmallPrintShare * random() * 1000) / 1000;
      if (qty < minPrintQty) continue;
      print(atBid ? row.bid : row.ask, qty, timeMs, atBid);
      if (atBid) bidLeft -= qty;
      else askLeft -= qty;
    }
    const sweepMs = next.timeMs - 1;
    // A sweep through several levels prints at each; the sample prints the first (the old touch's rest) and the
    // deepest (one tick short of the new touch), with a size the book did not show.
    if (next.bid < row.bid) {
      if (bidLeft >= minPrintQty) print(row.bid, bidLeft, sweepMs, true);
      if (next.bid + 1 < row.bid) print(next.bid + 1, sweepLevelQty(random), sweepMs, true);
    }
    if (next.ask > row.ask) {
      if (askLeft >= minPrintQty) print(row.ask, askLeft, sweepMs, false);
      if (next.ask - 1 > row.ask) print(next.ask - 1, sweepLevelQty(random), sweepMs, false);
    }
  }
  return `${lines.join('\n')}\n`;
}

function fundingRate(random: () => number): string {
  const lines = ['calc_time,funding_interval_hours,last_funding_rate'];
  const monthEnd = Date.UTC(2026, 1, 1);
  for (let t = startMs; t < monthEnd; t += 8 * 3_600_000) {
    // Mostly the 0.01 % floor-ish rate, sometimes higher or negative.
    const rate = random() < 0.7 ? 0.0001 : (random() - 0.3) * 0.0006;
    lines.push([t, 8, rate.toFixed(8)].join(','));
  }
  return `${lines.join('\n')}\n`;
}

function modelSignals(random: () => number): string {
  const lines = ['timestamp,symbol,signal,confidence,horizon_hours'];
  for (let t = startMs + 15 * 60_000; t < startMs + days * dayMs; t += 45 * 60_000) {
    for (const { symbol } of symbols) {
      const roll = random();
      const action = roll < 0.4 ? 'BUY' : roll < 0.8 ? 'SELL' : 'HOLD';
      lines.push([new Date(t).toISOString().replace('.000Z', 'Z'), symbol, action, (0.4 + random() * 0.6).toFixed(2), 1 + Math.floor(random() * 4)].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

export function generateSample(root: string): void {
  const random = new Mulberry32(seed).next;
  for (const spec of symbols) {
    const ticks = secondTicks(spec, random);
    for (let d = 0; d < days; d += 1) {
      const dayStartMs = startMs + d * dayMs;
      const date = new Date(dayStartMs).toISOString().slice(0, 10);
      const name = `${spec.symbol}-1m-${date}`;
      write(root, `data/futures/um/daily/klines/${spec.symbol}/1m/${name}.zip`, `${name}.csv`, klines(spec, ticks, dayStartMs, random));
    }
    const bookName = `${spec.symbol}-bookTicker-2026-01-01`;
    const book = bookTicker(spec, ticks, random);
    write(root, `data/futures/um/daily/bookTicker/${spec.symbol}/${bookName}.zip`, `${bookName}.csv`, book.csv);
    if (spec.symbol === printsSymbol) {
      const printsName = `${spec.symbol}-aggTrades-2026-01-01`;
      const csv = aggTrades(spec, book.rows, printsFromMs, printsToMs, new Mulberry32(printsSeed).next);
      write(root, `data/futures/um/daily/aggTrades/${spec.symbol}/${printsName}.zip`, `${printsName}.csv`, csv);
    }
    const fundingName = `${spec.symbol}-fundingRate-2026-01`;
    write(root, `data/futures/um/monthly/fundingRate/${spec.symbol}/${fundingName}.zip`, `${fundingName}.csv`, fundingRate(random));
  }
  writeFileSync(join(root, 'model-signals.csv'), modelSignals(random));
}

/** The long series' own PRNG: the shipped sample's files stay byte-identical. */
const longSeed = seed + 29;

/**
 * A longer series than the shipped sample, for the bench (never shipped): BTCUSDT's bookTicker for `longDays` whole
 * days from the sample's start (one daily file each, about one update a second: ~170 000 quotes in the two days of
 * the default, ~2.7 million in 31) and its fundingRate, in the archive's layout under `root`. A backtest over it runs
 * long enough to be measured past the JIT's warm-up, as one over months is; the 4-hour sample is mostly warm-up.
 */
export function generateLongBookTicker(root: string, longDays = days): { symbol: string; fromMs: number; toMs: number } {
  // The funding file is January's (the archive's monthly file): a longer series would hold times it does not cover.
  if (!(Number.isInteger(longDays) && longDays >= 1 && longDays <= 31)) throw new Error(`the long series is 1 to 31 days of January 2026, got ${longDays}`);
  const spec = symbols[0] as SampleSymbol;
  const random = new Mulberry32(longSeed).next;
  const ticks = secondTicks(spec, random, longDays);
  for (let d = 0; d < longDays; d += 1) {
    const dayStartMs = startMs + d * dayMs;
    const name = `${spec.symbol}-bookTicker-${new Date(dayStartMs).toISOString().slice(0, 10)}`;
    const book = bookTicker(spec, ticks, random, dayStartMs, dayStartMs + dayMs);
    write(root, `data/futures/um/daily/bookTicker/${spec.symbol}/${name}.zip`, `${name}.csv`, book.csv);
  }
  const fundingName = `${spec.symbol}-fundingRate-2026-01`;
  write(root, `data/futures/um/monthly/fundingRate/${spec.symbol}/${fundingName}.zip`, `${fundingName}.csv`, fundingRate(random));
  return { symbol: spec.symbol, fromMs: startMs, toMs: startMs + longDays * dayMs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = process.argv[2] ?? 'samples/binance-data';
  generateSample(root);
  process.stdout.write(`sample written to ${root}\n`);
}
