import { existsSync } from 'node:fs';
import type { OutboundEvent } from '../contract/outbound.js';
import { stat } from 'node:fs/promises';
import { setImmediate } from 'node:timers/promises';
import { buildCommand } from '../contract/commands.js';
import { parseLedgerRecord } from '../contract/ledger.js';
import type { LedgerView } from '../contract/ledger.js';
import type { CoreConfig } from '../core/config.js';
import type { Input } from '../core/decide.js';
import type { EngineLog } from '../log/port.js';
import { stillCommitting } from '../engine/engine.js';
import { defaultCoreConfig } from '../core/config.js';
import { add, sum, toUsd } from '../model/decimal.js';
import type { Usd } from '../model/decimal.js';
import { markPrice, payFunding } from '../paper-exchange/funding.js';
import type { TouchSizes } from '../paper-exchange/order-book.js';
import { makerFeeRate, takerFeeRate } from '../paper-exchange/matching.js';
import { defaultBookSettings } from '../paper-exchange/order-book.js';
import { defaultSimSymbols, deriveRules } from '../paper-exchange/symbols.js';
import type { SymbolRules } from '../paper-exchange/symbols.js';
import type { Strategy, TargetWeight } from '../strategies/strategy.js';
import { StrategyBars } from '../strategies/bars.js';
import type { DataFile } from './data/catalog.js';
import { catalog, filesOf, heldText, klineIntervalMs } from './data/catalog.js';
import type { KillSwitchEngaged, SkippedTargets } from './run-account.js';
import { SkippedTargetTally, killSwitchIn } from './run-account.js';
import { DataFileError } from './data/data-file-error.js';
import type { ReadMeter } from './data/lines.js';
import type { FundingTime, Quote, TickGrid, TradePrint } from './data/quotes.js';
import { bookTickerQuoteBatches, fundingTimes, klineQuoteBatches, mergeBatchesByTime, mergeByTime, tradePrintBatches } from './data/quotes.js';
import type { BacktestMetrics, TradeRow } from './figures.js';
import { metricsOf, tradeRows } from './figures.js';
import type { CurvePoint } from './metrics.js';
import { CurveRecorder, DrawdownTracker } from './metrics.js';
import type { VenueTrade } from './venue.js';
import { BacktestVenue } from './venue.js';
import type { LegState } from './kline-path.js';
import { walkLeg } from './kline-path.js';
import { createPrng } from '../paper-exchange/price-process.js';
import type { SimOrderRecord, SimSymbolSpec } from '../paper-exchange/types.js';

// One backtest: historical quotes drive the engine kernel and the paper exchange's matching engine on a simulated
// clock (venue.ts); a strategy (src/strategies) sees bars of mids and its target weights go to the engine as
// signals.route commands, as the live signals service sends them; funding is paid at the archive's funding times.

export type QuoteSource = 'auto' | 'bookTicker' | 'klines';
export type KlinePath = 'bridge' | 'still';
/**
 * How resting (maker) orders fill: `through`, only when a later quote trades through their price; `queue`, also from
 * the aggTrades prints at their price once the size queued ahead of them has traded (matching.ts, onMarketTrade);
 * `auto`, queue for a symbol whose data has aggTrades for the period, through for the others.
 */
export type FillRule = 'auto' | 'through' | 'queue';

export interface BacktestOptions {
  dataDir: string;
  symbols: readonly string[];
  /** [fromMs, toMs): null = from the first quote / to the last. */
  fromMs: number | null;
  toMs: number | null;
  strategy: Strategy;
  capitalUsd: number;
  stopLossPct?: number;
  horizonHours?: number;
  /** bookTicker where the data has it, else klines (auto); or one of them only. */
  quotes: QuoteSource;
  /** Spread of quotes synthesised from klines, in ticks. */
  klineSpreadTicks: number;
  /** How far a kline must trade beyond a resting order's price to fill it, in bps (data/quotes.ts, KlineQuoteModel). */
  klineThroughBps: number;
  /**
   * Where the exchange's touch is between a kline's four quotes when an order arrives: `bridge`, on a Brownian bridge
   * to the next point with the bar's volatility (kline-path.ts); `still`, at the last quote.
   */
  klinePath: KlinePath;
  fills: FillRule;
  /** The strategy's bar length (ms): it sees one bar per symbol per period and is asked for targets after each. */
  barMs: number;
  /** Between a decision and the exchange receiving its order (ms). */
  latencyMs: number;
  /** Seeds the synthetic depth behind the touch (slippage of takers). */
  seed: number;
  /**
   * The symbols' trading rules (tick, step, lot and notional bounds, PERCENT_PRICE), as Binance's exchangeInfo gives
   * them (specOfFilters; the CLI's --rules); absent: the paper exchange's own, for BTCUSDT, ETHUSDT and SOLUSDT.
   */
  symbolSpecs?: readonly SimSymbolSpec[];
  /** Where symbolSpecs came from, for the report's assumptions (the --rules file). */
  symbolSpecsSource?: string;
  /**
   * The synthetic depth behind the historical touch that takers walk: each level's notional (USD) is drawn in [min, max]
   * (order-book.ts BookSettings); absent: the paper exchange's 200 000..1 000 000, deep for the majors, far too deep for
   * a thin symbol (--rules), whose takers would then slip too little.
   */
  depthUsd?: { min: number; max: number };
  /** Called now and then with how far the run is (simulated ms). */
  /**
   * Called now and then with how far the run is: `done` from 0 to 1 (of the period when --to bounds it, else of the
   * data files' bytes read) and the simulated time reached.
   */
  onProgress?: (done: number, atMs: number) => void;
}

export const defaultBacktestOptions = {
  quotes: 'auto',
  klineSpreadTicks: 1,
  klineThroughBps: 0,
  klinePath: 'bridge',
  fills: 'auto',
  barMs: 60_000,
  latencyMs: 50,
  seed: 1,
} as const;

export interface FundingApplied {
  symbol: string;
  timeMs: number;
  rate: string;
  /** Our position's signed quantity at that time on the exchange (decimal string). */
  positionQty: string;
  /** The price it was funded at: the mid of the touch (decimal string). */
  markPrice: string;
}

export interface BacktestResult {
  summary: {
    strategy: string;
    symbols: string[];
    from: string;
    to: string;
    quotes: number;
    /** Quotes with the touch unchanged that the engine was not handed (unchangedTouchRefreshMs). */
    quotesUnchanged: number;
    ordersSent: number;
    trades: number;
    makerTrades: number;
    /** Maker trades made by aggTrades prints (queue fills); the rest came from quotes trading through. */
    makerTradesFromPrints: number;
    takerTrades: number;
    capitalUsd: number;
    finalEquityUsd: number;
    totalReturnPct: number;
    maxDrawdownPct: number;
    sharpe: number;
    realizedPnlUsd: number;
    feesUsd: number;
    fundingUsd: number;
    fundingTimes: number;
    sortino: number;
    winRatePct: number;
    turnover: number;
    makerSharePct: number;
    /**
     * When the session's kill switch engaged before the data ended (stop-loss, horizon, stale feed, an exchange-side
     * close): when, the engine's reason and its alert's words. The session was flattened then and entered nothing
     * after, so the figures are of the run up to there. Null when the data ran out first.
     */
    killSwitch: KillSwitchEngaged | null;
    /** Targets of the strategy the engine did not act on (a route's skipped outcomes; `targetsSkipped` says why). */
    targetsNotActedOn: number;
  };
  assumptions: string[];
  /** Why targets were not acted on: per symbol and kind of reason, how often, when first and last, the first words. */
  targetsSkipped: SkippedTargets[];
  /** Every figure of the report (the summary's and more). */
  metrics: BacktestMetrics;
  /** Equity, drawdown and gross exposure over time, thinned to at most maxCurvePoints. */
  equityCurve: CurvePoint[];
  /** The exchange's trades with the realized PnL the engine booked for each. */
  trades: TradeRow[];
  /** The engine's fill ledger of the session, as a live session's ledger reads. */
  ledger: LedgerView[];
  /** The exchange's side of every trade (maker or taker, commission). */
  venueTrades: VenueTrade[];
  /** Every order the exchange accepted, in arrival order, as the simulator server lists its own. */
  orders: SimOrderRecord[];
  funding: FundingApplied[];
  /** Equity at the end of each hour (engine valuation at bid/ask). */
  hourlyEquity: { atMs: number; equityUsd: number }[];
}

const backtestUser = 'backtest';
/** The watchdog's beat: one input, the same every time (decide() reads inputs, never changes them). */
const timerInput: Input = { kind: 'timer' };
const hourMs = 3_600_000;
/** Watchdog beats (TTL cancels, stop checks, horizon exits, equity samples) at most this often (simulated ms). */
export const timerEveryMs = 1_000;
/**
 * A quote with the same bid and ask as the last one sent for its symbol goes to the engine only once this long has
 * passed (ms), to keep the quote's age fresh for entries (entryQuoteMaxAgeMs, 3 s) and the stale-feed clock.
 */
export const unchangedTouchRefreshMs = 1_000;
/**
 * Quotes of a batch decided between two turns of the event loop (runBacktest): each turn lets the next batch's read
 * and inflate (zlib, off the main thread) move a step on, ~10 µs a turn, a hundredth of a µs a quote.
 */
const quotesPerIoTurn = 256;
/** Progress is reported at most once per this many quotes. */
export const progressEveryQuotes = 10_000;
/** The kline path's draws come from their own seeded stream, apart from the exchange's depth draws. */
const klinePathSeedOffset = 7_919;
/** Points of the equity curve the report keeps (the run's samples thinned to this many). */
const maxCurvePoints = 2_000;
/** After the data ends: simulated seconds the closing session gets to flatten before the run gives up. */
export const maxCloseSeconds = 600;

/** Where a user saves the rules of every USDⓈ-M symbol from (GET /fapi/v1/exchangeInfo, no key needed). */
export const exchangeInfoUrl = 'https://fapi.binance.com/fapi/v1/exchangeInfo';

/** The depth's settings of a run: the paper exchange's unless --depth-usd set the levels' notional. */
function depthOf(opts: Pick<BacktestOptions, 'depthUsd'>): { levels: number; minLevelNotionalUsd: number; maxLevelNotionalUsd: number } {
  return {
    levels: defaultBookSettings.levels,
    minLevelNotionalUsd: opts.depthUsd?.min ?? defaultBookSettings.minLevelNotionalUsd,
    maxLevelNotionalUsd: opts.depthUsd?.max ?? defaultBookSettings.maxLevelNotionalUsd,
  };
}

/** A level's notional range as the assumptions print it (200 000..1 000 000 USD). */
function depthText(opts: Pick<BacktestOptions, 'depthUsd'>): string {
  const { minLevelNotionalUsd: min, maxLevelNotionalUsd: max } = depthOf(opts);
  const usd = (n: number): string => n.toLocaleString('en-US').replaceAll(',', ' ');
  return `${usd(min)}..${usd(max)} USD`;
}

/** A bound of the period as text: an open end (-Infinity, Infinity: no --from or --to) in words. */
function timeText(ms: number, open: string): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : open;
}

/** Where data was looked for: the directory, and the period when one was asked for (else files outside it read as none). */
function placeText(dataDir: string, fromMs: number, toMs: number): string {
  if (!Number.isFinite(fromMs) && !Number.isFinite(toMs)) return `in ${dataDir}`;
  return `in ${dataDir} between ${timeText(fromMs, 'the start of the data')} and ${timeText(toMs, 'its end')}`;
}

function gridOf(rules: SymbolRules | undefined, symbol: string): TickGrid {
  if (!rules)
    throw new Error(
      `no trading rules for ${symbol}: the built-in rules are BTCUSDT's, ETHUSDT's and SOLUSDT's (paper-exchange/symbols.ts); for any other symbol give --rules FILE, Binance's exchangeInfo saved from ${exchangeInfoUrl}`,
    );
  return { priceScale: rules.priceScale, tickUnits: rules.tickUnits };
}

/** A quote or a trade print, merged in time order. */
type MarketEvent = Quote | TradePrint;

function isPrint(event: MarketEvent): event is TradePrint {
  return (event as TradePrint).priceUnits !== undefined;
}

/**
 * Which quotes (and, with queue fills, aggTrades prints) each symbol is read from, the longest gap they leave between
 * two quotes (ms), and the symbols whose resting orders fill from prints.
 */
function marketStreams(
  files: readonly DataFile[],
  opts: BacktestOptions,
  rules: ReadonlyMap<string, SymbolRules>,
  fromMs: number,
  toMs: number,
  meter: ReadMeter,
): { streams: AsyncGenerator<MarketEvent[]>[]; maxGapMs: number; used: string[]; queueSymbols: Set<string>; read: DataFile[] } {
  const quoteStreams: AsyncGenerator<MarketEvent[]>[] = [];
  const printStreams: AsyncGenerator<MarketEvent[]>[] = [];
  const used: string[] = [];
  const queueSymbols = new Set<string>();
  const read: DataFile[] = [];
  let maxGapMs = 0;
  for (const symbol of opts.symbols) {
    const symbolRules = rules.get(symbol) as SymbolRules;
    const grid = gridOf(symbolRules, symbol);
    const prints = filesOf(files, symbol, 'aggTrades', fromMs, toMs);
    if (opts.fills === 'queue' && prints.length === 0)
      throw new Error(`--fills queue: no aggTrades files for ${symbol} ${placeText(opts.dataDir, fromMs, toMs)}${heldText(files, symbol)}`);
    const queue = opts.fills === 'queue' || (opts.fills === 'auto' && prints.length > 0);
    if (queue) {
      queueSymbols.add(symbol);
      printStreams.push(tradePrintBatches(prints, symbol, grid, symbolRules.qtyScale, fromMs, toMs, meter));
      read.push(...prints);
    }
    const books = filesOf(files, symbol, 'bookTicker', fromMs, toMs);
    const bars = filesOf(files, symbol, 'klines', fromMs, toMs);
    const useBooks = opts.quotes === 'bookTicker' || (opts.quotes === 'auto' && books.length > 0);
    const printsUsed = queue ? `, queue fills from aggTrades (${prints.length} files)` : '';
    if (useBooks) {
      if (books.length === 0) throw new Error(`no bookTicker files for ${symbol} ${placeText(opts.dataDir, fromMs, toMs)}${heldText(files, symbol)}`);
      // Touch sizes are read only for queue fills: the plain path stays as lean as it was.
      quoteStreams.push(bookTickerQuoteBatches(books, symbol, grid, fromMs, toMs, queue ? symbolRules.qtyScale : undefined, meter));
      read.push(...books);
      used.push(`${symbol}: bookTicker (${books.length} files)${printsUsed}`);
      continue;
    }
    if (bars.length === 0)
      throw new Error(
        `no ${opts.quotes === 'klines' ? 'klines' : 'bookTicker or klines'} files for ${symbol} ${placeText(opts.dataDir, fromMs, toMs)}${heldText(files, symbol)}`,
      );
    const intervals = new Set(bars.map((f) => f.interval));
    if (intervals.size > 1) throw new Error(`klines of ${symbol} in several intervals (${[...intervals].join(', ')}): keep one`);
    const intervalMs = klineIntervalMs[bars[0]?.interval ?? ''] ?? 60_000;
    maxGapMs = Math.max(maxGapMs, intervalMs / 4);
    quoteStreams.push(klineQuoteBatches(bars, symbol, grid, { spreadTicks: opts.klineSpreadTicks, throughBps: opts.klineThroughBps }, fromMs, toMs, meter));
    read.push(...bars);
    used.push(`${symbol}: ${bars[0]?.interval} klines (${bars.length} files)${printsUsed}`);
  }
  // Prints first at a tie: a trade at a time comes before the book update of that time that shows its result.
  return { streams: [...printStreams, ...quoteStreams], maxGapMs, used, queueSymbols, read };
}

export async function runBacktest(opts: BacktestOptions): Promise<BacktestResult> {
  if (opts.symbols.length === 0) throw new Error('no symbols');
  if (!existsSync(opts.dataDir)) throw new Error(`no data directory at ${opts.dataDir}`);
  const files = await catalog(opts.dataDir);
  const specs = opts.symbolSpecs ?? defaultSimSymbols;
  const rules = new Map(specs.map((spec) => [spec.symbol, deriveRules(spec)]));
  const grids = new Map(opts.symbols.map((s) => [s, gridOf(rules.get(s), s)]));
  const fromMs = opts.fromMs ?? -Infinity;
  const toMs = opts.toMs ?? Infinity;
  const meter: ReadMeter = { bytesRead: 0 };
  const { streams, maxGapMs, used, queueSymbols, read } = marketStreams(files, opts, rules, fromMs, toMs, meter);
  // How far the run is: of the period when it has an end; else of the bytes to read (the files' names give their
  // days, not where their data ends: a day's file of four hours read as a sixth of the way at its end).
  const bytesToRead =
    opts.onProgress === undefined || Number.isFinite(toMs) ? 0 : (await Promise.all(read.map((f) => stat(f.path)))).reduce((sum, st) => sum + st.size, 0);
  const events = mergeBatchesByTime(streams);
  const funding = mergeByTime(opts.symbols.map((s) => fundingTimes(filesOf(files, s, 'fundingRate', fromMs, toMs), s, fromMs, toMs)));
  // The first funding time is asked for now, so its file is read while the first quotes are (a run's setup was a
  // tenth of a short run); it is awaited (and would throw) where it was before. Marked handled until then.
  const firstFunding = funding.next();
  firstFunding.catch(() => undefined);

  const firstBatch = await events.next();
  const first = firstBatch.done ? undefined : firstBatch.value[0];
  if (!first) throw new Error(`no quotes for ${opts.symbols.join(', ')} ${placeText(opts.dataDir, fromMs, toMs)}`);
  const startMs = first.timeMs;
  // A feed of synthesised kline quotes is as fresh as its spacing: the stale-feed flatten waits three gaps.
  const config: CoreConfig = { ...defaultCoreConfig, symbols: [...opts.symbols], staleFeedMs: Math.max(defaultCoreConfig.staleFeedMs, 3 * maxGapMs) };
  const venue = new BacktestVenue(
    backtestUser,
    config,
    startMs,
    opts.latencyMs,
    opts.seed,
    specs.filter((spec) => opts.symbols.includes(spec.symbol)),
    depthOf(opts),
  );

  const drawdown = new DrawdownTracker();
  const hourly: { atMs: number; equityUsd: number }[] = [];
  const curve = new CurveRecorder(maxCurvePoints);
  const sampleEquity = (atMs: number, equityUsd: number, exposureUsd: number): void => {
    curve.add({ atMs, equityUsd, drawdownPct: drawdown.add(equityUsd), exposureUsd });
    const hourEnd = Math.floor(atMs / hourMs) * hourMs + hourMs;
    const last = hourly[hourly.length - 1];
    if (last && last.atMs === hourEnd) last.equityUsd = equityUsd;
    else {
      // Hours without a sample carry the last equity over.
      for (let h = (last?.atMs ?? hourEnd) + hourMs; last && h < hourEnd; h += hourMs) hourly.push({ atMs: h, equityUsd: last.equityUsd });
      hourly.push({ atMs: hourEnd, equityUsd });
    }
  };
  let sessionClosed = false;
  let killSwitch: KillSwitchEngaged | null = null;
  let dataEnded = false;
  const skipped = new SkippedTargetTally();
  await venue.start((_input, decision) => {
    // Before the data ended: the closing stop's own flatten is not the run's kill switch.
    if (killSwitch === null && !dataEnded && decision.wal.length > 0) killSwitch = killSwitchIn(decision, backtestUser);
    for (let i = 0; i < decision.outbound.length; i += 1) {
      const event = decision.outbound[i] as OutboundEvent;
      skipped.addReply(event);
      if (event.type === 'equity' && event.userId === backtestUser) {
        sampleEquity(event.atMs, event.summary.equityUsd, event.summary.grossExposureUsd);
        if (event.summary.status === 'closed') sessionClosed = true;
      }
    }
  });
  sampleEquity(startMs, opts.capitalUsd, 0);

  let commandSeq = 0;
  const command = async (type: 'session.start' | 'session.stop' | 'signals.route', fields: Record<string, unknown>): Promise<void> => {
    commandSeq += 1;
    const built = buildCommand(type, { id: `bt-${commandSeq}`, ...fields } as never);
    if (!built.ok) throw new Error(built.reason);
    await venue.command(built.json);
  };

  const bars = new StrategyBars(opts.strategy, opts.barMs, startMs);
  /**
   * When the last beat and the last quote were (simulated ms), as fields of one object: a time is no small integer, and
   * a double in a variable the run's closures share is boxed anew at every store (every quote).
   */
  const marks = { lastTimerMs: startMs, lastQuoteAtMs: startMs };
  let quoteCount = 0;
  /** Quotes that changed neither price of the touch, within unchangedTouchRefreshMs of the last one sent. */
  let skippedQuotes = 0;
  /** Per symbol, the touch last sent to the exchange and the engine, when, and its mid (the bars' price of a quote). */
  const lastTouch = new Map<string, { bidUnits: bigint; askUnits: bigint; sentAtMs: number; mid: number }>();
  const fundingApplied: FundingApplied[] = [];
  let nextFunding = await firstFunding;
  let makerTradesFromPrints = 0;

  const route = async (): Promise<void> => {
    const wanted = new Set(opts.symbols);
    const targets: TargetWeight[] = opts.strategy.targets(venue.clock.nowMs()).filter((t) => wanted.has(t.symbol));
    if (targets.length > 0) await command('signals.route', { userId: config.signalSourceIds[0] ?? 'signals', source: 'signals', signals: targets });
  };

  const payFundingDue = async (uptoMs: number): Promise<void> => {
    while (!nextFunding.done && nextFunding.value.timeMs <= uptoMs) {
      const f: FundingTime = nextFunding.value;
      const market = venue.exchange.markets.get(f.symbol);
      // A funding time before the first quote finds nothing held (the session starts at the first quote).
      if (market && f.timeMs >= startMs) {
        await venue.advanceTo(f.timeMs);
        fundingApplied.push({
          symbol: f.symbol,
          timeMs: f.timeMs,
          rate: f.rate,
          positionQty: venue.exchange.positionAmt(venue.accountKey, f.symbol),
          markPrice: markPrice(market),
        });
        // Binance's rate is a fraction per interval; payFunding takes basis points.
        payFunding(venue.exchange.matching, new Map([[f.symbol, market]]), Number(f.rate) * 10_000, f.timeMs);
        await venue.settle();
      }
      nextFunding = await funding.next();
    }
  };

  // Kline symbols' legs of their bar's path: when effects reach the exchange between two kline quotes, the touch is
  // first moved to where the path is then (kline-path.ts). The engine's feed is not told: it has only the quotes.
  const legs = new Map<string, LegState>();
  const pathRandom = createPrng(opts.seed + klinePathSeedOffset);
  venue.onEffectsDue = (atMs) => {
    for (const [symbol, leg] of legs) {
      if (atMs <= leg.atMs || atMs >= leg.toMs) continue;
      const { tickUnits } = grids.get(symbol) as TickGrid;
      const bidUnits = BigInt(Math.floor(walkLeg(leg, atMs, pathRandom) / Number(tickUnits))) * tickUnits;
      venue.exchange.quote(symbol, bidUnits, bidUnits + BigInt(opts.klineSpreadTicks) * tickUnits);
      // The exchange's touch is no longer the last quote's: the next quote reaches it (and the engine) whatever it is.
      lastTouch.delete(symbol);
    }
  };

  /** A bar period closed: the strategy is asked once every quote of that instant is in (kline quotes share times). */
  let routeDue = false;
  const routeNow = async (): Promise<void> => {
    routeDue = false;
    await route();
  };
  /**
   * A quote: the clock moves to it, the exchange's touch and the engine hear of it, the strategy's bar takes its mid.
   * A promise only when one of its steps needs a promise turn; most quotes need none (no route, funding time, commit to
   * wait for, or effect to perform through the account due), and the run then goes on to the next with no promise
   * turn (each cost more than the quote's own work).
   */
  const onQuote = (q: Quote): Promise<void> | undefined => {
    if ((routeDue && q.timeMs > marks.lastQuoteAtMs) || (!nextFunding.done && nextFunding.value.timeMs <= q.timeMs)) return quoteAfterDue(q);
    marks.lastQuoteAtMs = q.timeMs;
    if (venue.pendingBy(q.timeMs)) {
      // Effects due before the quote (most often a protective-stop check's reads, answered at once): performed with no
      // promise turn unless one needs it.
      const advancing = venue.advanceTo(q.timeMs);
      if (advancing) return advancing.then(() => applyQuote(q));
    } else if (q.timeMs > venue.clock.nowMs()) venue.clock.set(q.timeMs);
    return applyQuote(q);
  };

  /** onQuote when a route, a funding time or an effect is due first: the same steps, each awaited. */
  const quoteAfterDue = async (q: Quote): Promise<void> => {
    if (routeDue && q.timeMs > marks.lastQuoteAtMs) await routeNow();
    marks.lastQuoteAtMs = q.timeMs;
    if (!nextFunding.done && nextFunding.value.timeMs <= q.timeMs) await payFundingDue(q.timeMs);
    if (venue.pendingBy(q.timeMs)) await venue.advanceTo(q.timeMs);
    else if (q.timeMs > venue.clock.nowMs()) venue.clock.set(q.timeMs);
    await applyQuote(q);
  };

  /** The quote, once the clock is at it: to the exchange and the engine (unless its touch is unchanged), then its bar. */
  const applyQuote = (q: Quote): Promise<void> | undefined => {
    if (q.leg && opts.klinePath === 'bridge') legs.set(q.symbol, { ...q.leg, atMs: q.timeMs, atUnits: Number(q.bidUnits) });
    else if (legs.size > 0) legs.delete(q.symbol);
    const last = lastTouch.get(q.symbol);
    if (last && last.bidUnits === q.bidUnits && last.askUnits === q.askUnits && q.timeMs - last.sentAtMs < unchangedTouchRefreshMs) {
      // Only the sizes moved (most bookTicker updates): nothing for the engine to decide on; with queue fills the
      // touch's sizes still bound the queue ahead of a resting order. Its mid is the last one's.
      skippedQuotes += 1;
      if (q.bidQtyUnits !== undefined) venue.exchange.touchSizes(q.symbol, q as Quote & TouchSizes);
      const mid = last.mid;
      const beating = q.timeMs - marks.lastTimerMs >= timerEveryMs ? beat(q.timeMs) : undefined;
      if (beating) return beating.then(() => addToBar(q, mid));
      addToBar(q, mid);
      return undefined;
    }
    const scale = 10 ** (grids.get(q.symbol) as TickGrid).priceScale;
    // The mid the quotes that only move the sizes give the bars, worked out once per touch (as it always was for them).
    const unchangedMid = Number(q.bidUnits + q.askUnits) / 2 / scale;
    if (last) {
      last.bidUnits = q.bidUnits;
      last.askUnits = q.askUnits;
      last.sentAtMs = q.timeMs;
      last.mid = unchangedMid;
    } else lastTouch.set(q.symbol, { bidUnits: q.bidUnits, askUnits: q.askUnits, sentAtMs: q.timeMs, mid: unchangedMid });
    try {
      venue.exchange.quote(q.symbol, q.bidUnits, q.askUnits);
      if (q.bidQtyUnits !== undefined) venue.exchange.touchSizes(q.symbol, q as Quote & TouchSizes);
    } catch (error) {
      throw new DataFileError(q.file, q.line, error instanceof Error ? error.message : String(error), { cause: error });
    }
    const bid = Number(q.bidUnits) / scale;
    const ask = Number(q.askUnits) / scale;
    const tick: Input = { kind: 'tick', venue: 'paper', tick: { symbol: q.symbol, bid, ask, time: q.timeMs } };
    const mid = (bid + ask) / 2;
    if (q.timeMs - marks.lastTimerMs >= timerEveryMs && opts.latencyMs > 0 && !venue.pendingBy(q.timeMs)) {
      // The beat is due with the tick and nothing can come between them: the quote pushed no exchange news, a tick
      // never continues, and what it decides reaches the exchange only latencyMs later. So they are decided in one
      // engine step, one after the other at the same time, as two steps would decide them (one commit, not two).
      marks.lastTimerMs = q.timeMs;
      // A beat that could decide nothing is left out (core/timer-due.ts), unless the tick wrote something: then
      // whether one can is asked again of the state the tick left, and the beat decided after it, as together.
      const withBeat = venue.engine.timerMayAct(q.timeMs);
      const committing = venue.engine.submitNow(withBeat ? [tick, timerInput] : [tick]);
      if (committing && !withBeat) return tickThenBeat(stillCommitting(committing), q, mid);
      // An equity sample (the beat's outbound event) is committed at once by the memory log: no promise turn for it.
      if (stillCommitting(committing) || venue.pendingBy(q.timeMs)) return settleThenBar(stillCommitting(committing), q, mid, false);
    } else {
      // Most ticks write nothing and are decided here with no promise turn (Engine.submitNow).
      const committing = stillCommitting(venue.engine.submitNow([tick]));
      if (committing || venue.pendingBy(q.timeMs) || q.timeMs - marks.lastTimerMs >= timerEveryMs) return settleThenBar(committing, q, mid, true);
    }
    addToBar(q, mid);
    return undefined;
  };

  /** The rest of a quote sent to the engine when its step commits, or left something due, or the beat is due after it. */
  const settleThenBar = async (committing: Promise<void> | null, q: Quote, mid: number, beatAfter: boolean): Promise<void> => {
    if (committing) await committing;
    if (venue.pendingBy(q.timeMs)) await venue.settle();
    if (beatAfter && q.timeMs - marks.lastTimerMs >= timerEveryMs) await beat(q.timeMs);
    addToBar(q, mid);
  };

  /** A tick that wrote something while a beat could not act before it: the beat, if it can now, then as settleThenBar. */
  const tickThenBeat = async (committing: Promise<void> | null, q: Quote, mid: number): Promise<void> => {
    if (committing) await committing;
    if (venue.engine.timerMayAct(q.timeMs)) await submitBeat(q.timeMs);
    if (venue.pendingBy(q.timeMs)) await venue.settle();
    addToBar(q, mid);
  };

  /** A trade print (queue fills): the clock moves to it, the resting orders it reaches fill, the engine hears of it. */
  const onPrint = async (p: TradePrint): Promise<void> => {
    // The bar's route goes out before the clock moves on, as it would at the next quote: a print changes no decision.
    if (routeDue && p.timeMs > marks.lastQuoteAtMs) await routeNow();
    if (!nextFunding.done && nextFunding.value.timeMs <= p.timeMs) await payFundingDue(p.timeMs);
    if (venue.pendingBy(p.timeMs)) await venue.advanceTo(p.timeMs);
    else if (p.timeMs > venue.clock.nowMs()) venue.clock.set(p.timeMs);
    makerTradesFromPrints += venue.exchange.marketTrade(p.symbol, p);
    if (venue.pendingBy(p.timeMs)) await venue.settle();
  };

  // Without prints every event is a quote: the quote path runs as it did before prints existed, with no test per event.
  const onEvent: (e: MarketEvent) => Promise<void> | undefined =
    queueSymbols.size === 0 ? (onQuote as (e: MarketEvent) => Promise<void> | undefined) : (e) => (isPrint(e) ? onPrint(e) : onQuote(e));

  /**
   * The watchdog's beat (at most once per timerEveryMs of quotes). One that could decide nothing (no session due for
   * a check or sample, no open order, no silent feed: core/timer-due.ts) is skipped: it would decide nothing and
   * leave the state as it was, so the run decides exactly what it would have, with a fraction of the beats.
   */
  const beat = (atMs: number): Promise<void> | undefined => {
    marks.lastTimerMs = atMs;
    return venue.engine.timerMayAct(atMs) ? submitBeat(atMs) : undefined;
  };

  /** A beat decided: a promise only when its step commits or leaves something due. */
  const submitBeat = (atMs: number): Promise<void> | undefined => {
    const committing = stillCommitting(venue.engine.submitNow([timerInput]));
    if (!committing && !venue.pendingBy(atMs)) return undefined;
    return (async () => {
      if (committing) await committing;
      if (venue.pendingBy(atMs)) await venue.settle();
    })();
  };

  /** The quote's part in the strategy's bars (every quote, sent to the engine or not). */
  const addToBar = (q: Quote, mid: number): void => {
    // A new bar period began (this quote is its first): every symbol's bar of the last one closed, and the
    // strategy is asked once the engine has every quote of this instant, as fresh as live signals find the book.
    if (bars.add(q.symbol, q.timeMs, mid)) routeDue = true;
    quoteCount += 1;
    if (quoteCount % progressEveryQuotes === 0 && opts.onProgress) {
      const done = Number.isFinite(toMs) ? (q.timeMs - startMs) / Math.max(1, toMs - startMs) : meter.bytesRead / Math.max(1, bytesToRead);
      opts.onProgress(Math.min(1, Math.max(0, done)), q.timeMs);
    }
  };

  await onEvent(first);
  await command('session.start', {
    userId: backtestUser,
    mode: 'paper',
    capitalUsd: opts.capitalUsd,
    ...(opts.stopLossPct !== undefined ? { stopLossPct: opts.stopLossPct } : {}),
    ...(opts.horizonHours !== undefined ? { horizonHours: opts.horizonHours } : {}),
  });
  let lastEventMs = startMs;
  const rest = (firstBatch.value as MarketEvent[]).slice(1);
  for (let batch = rest; ;) {
    // The next batch is asked for before this one is run: its file's next chunk is read and inflated (zlib works
    // off the main thread) while these quotes are decided, instead of the run waiting idle for it after them (a
    // tenth of a run that held nothing, bench/backtest.ts). Marked handled here; awaited (and thrown) below.
    const reading = events.next();
    reading.catch(() => undefined);
    for (let i = 0; i < batch.length; i += 1) {
      const e = batch[i] as MarketEvent;
      const handling = onEvent(e);
      if (handling) await handling;
      lastEventMs = e.timeMs;
      // The file's reads and inflating finish on the event loop, which a run of quotes that need no promise turn never
      // reaches: without a turn now and then they would only progress once the batch is done, the run idle meanwhile.
      if (i % quotesPerIoTurn === quotesPerIoTurn - 1) await setImmediate();
    }
    const next = await reading;
    if (next.done) break;
    batch = next.value;
  }
  if (routeDue) await route();
  await payFundingDue(lastEventMs);

  // The data ended: the session stops (flattens at the last quotes, as a live /stop would) and closes.
  dataEnded = true;
  await command('session.stop', { userId: backtestUser });
  for (let s = 0; s < maxCloseSeconds && !sessionClosed; s += 1) {
    await venue.advanceTo(venue.clock.nowMs() + 1_000);
    await venue.engine.submit({ kind: 'timer' });
    await venue.settle();
  }
  if (!sessionClosed) throw new Error(`the session did not close within ${maxCloseSeconds} simulated seconds after the data ended`);

  const ledger = await readUserLedger(venue.log, venue.userId);
  const sumOf = (pick: (e: LedgerView) => Usd): Usd => sum(ledger.map(pick));
  const net = sumOf((e) => e.netUsd);
  const finalEquityUsd = Number(add(toUsd(opts.capitalUsd), net));
  sampleEquity(venue.clock.nowMs(), finalEquityUsd, 0);
  const trades = ledger.filter((e) => e.kind === 'fill' || e.kind === 'exchange_fill');
  const makerTrades = venue.trades.filter((t) => t.maker).length;
  const round = (x: number, digits: number): number => Number(x.toFixed(digits));
  const rows = tradeRows(venue.trades, ledger);
  const metrics = metricsOf(
    rows,
    ledger,
    curve,
    hourly.map((h) => h.equityUsd),
    drawdown.maxDrawdownPct,
    opts.capitalUsd,
  );
  return {
    summary: {
      strategy: opts.strategy.name,
      symbols: [...opts.symbols],
      from: new Date(startMs).toISOString(),
      to: new Date(lastEventMs).toISOString(),
      quotes: quoteCount,
      quotesUnchanged: skippedQuotes,
      ordersSent: venue.ordersSent,
      trades: trades.length,
      makerTrades,
      makerTradesFromPrints,
      takerTrades: venue.trades.length - makerTrades,
      capitalUsd: opts.capitalUsd,
      finalEquityUsd: round(finalEquityUsd, 8),
      totalReturnPct: round(((finalEquityUsd - opts.capitalUsd) / opts.capitalUsd) * 100, 6),
      maxDrawdownPct: round(drawdown.maxDrawdownPct, 6),
      sharpe: round(metrics.sharpe, 4),
      realizedPnlUsd: round(Number(sumOf((e) => e.realizedPnlUsd)), 8),
      feesUsd: Number(sumOf((e) => e.feeUsd)),
      fundingUsd: Number(sumOf((e) => e.fundingUsd)),
      fundingTimes: fundingApplied.length,
      sortino: round(metrics.sortino, 4),
      winRatePct: round(metrics.winRatePct, 4),
      turnover: round(metrics.turnover, 6),
      makerSharePct: round(metrics.makerSharePct, 4),
      killSwitch,
      targetsNotActedOn: skipped.total,
    },
    assumptions: assumptionsOf(opts, config, used, queueSymbols, rules),
    targetsSkipped: skipped.list(),
    metrics,
    equityCurve: curve.points(),
    trades: rows,
    ledger,
    venueTrades: venue.trades,
    orders: venue.orders(),
    funding: fundingApplied,
    hourlyEquity: hourly,
  };
}

/** Ledger pages read per call. */
const ledgerPageEntries = 1_000;

/** A user's whole fill ledger from a log, parsed (the backtest's in-memory one, or the live path's: parity.test.ts). */
export async function readUserLedger(log: Pick<EngineLog, 'readLedger'>, userId: string): Promise<LedgerView[]> {
  const out: LedgerView[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await log.readLedger({ afterId: after, maxEntries: ledgerPageEntries, userId });
    for (const r of page.records) {
      const parsed = parseLedgerRecord(r.id, r.walId, r.data);
      if (!parsed.ok) throw new Error(parsed.reason);
      out.push(parsed.entry);
    }
    if (page.nextAfterId === null) return out;
    after = page.nextAfterId;
  }
}

const throughFillRule =
  'a resting (maker) order fills only when a later quote trades through its price (the book tape is off: no queue-position fills without aggTrades)';
const queueFillRule = (opts: Pick<BacktestOptions, 'depthUsd'>): string =>
  "queue fills from aggTrades: a resting order still fills in full when a later quote trades through its price, and also from the prints: a seller-aggressor print (is_buyer_maker true) below a resting buy's price fills it in full at its limit, one at exactly its price first eats the size queued ahead of it and fills it with what is left of the print's quantity (oldest order first; symmetric for sells and buyer-aggressor prints; a print of either side beyond the price fills in full). Queue ahead when an order rests: the touch size of the last bookTicker update when it joins the touch (with klines quotes, which have no sizes, and behind the touch: the synthetic depth's level there, " +
  depthText(opts) +
  ', seeded), 0 inside the spread; it only shrinks — by prints at its price, to the size a later bookTicker update shows at its price — and is kept when the touch moves away and back, zeroed only when the order becomes better than the touch (no level is left at its price). Our own orders are not in the historical prints: the market is assumed to trade the same with them (no impact)';

/** The trading rules each symbol ran under, and where they came from. */
function rulesText(opts: BacktestOptions, rules: ReadonlyMap<string, SymbolRules>): string {
  const source =
    opts.symbolSpecs === undefined
      ? "the paper exchange's built-in rules (src/paper-exchange/symbols.ts, which mirror Binance's)"
      : `Binance's exchangeInfo${opts.symbolSpecsSource === undefined ? '' : ` in ${opts.symbolSpecsSource}`}`;
  const each = opts.symbols.map((symbol) => {
    const { spec } = rules.get(symbol) as SymbolRules;
    return `${symbol} tick ${spec.tickSize}, step ${spec.stepSize} (market orders ${spec.marketStepSize ?? spec.stepSize}), min notional ${spec.minNotional} USDT`;
  });
  return `trading rules from ${source}: ${each.join('; ')}`;
}

function assumptionsOf(
  opts: BacktestOptions,
  config: CoreConfig,
  used: readonly string[],
  queueSymbols: ReadonlySet<string>,
  rules: ReadonlyMap<string, SymbolRules>,
): string[] {
  return [
    `quotes: ${used.join('; ')}`,
    rulesText(opts, rules),
    `klines become four quotes a bar (open, the extreme nearer the open, the other extreme, close, a quarter bar apart), bid at the price floored to the tick, ask ${opts.klineSpreadTicks} tick(s) above; the path stops ${opts.klineThroughBps} bps short of each extreme (not inside the open-close body), so a resting order fills only where the bar traded that far through its price`,
    'the engine (decide(), planner, risk rules) and the paper exchange matching engine run unchanged; post-only entries at the touch, 15 bps bounded IOC fallback',
    queueSymbols.size === opts.symbols.length
      ? queueFillRule(opts)
      : queueSymbols.size === 0
        ? throughFillRule
        : `${[...queueSymbols].join(', ')}: ${queueFillRule(opts)}; the others (no aggTrades): ${throughFillRule}`,
    opts.klinePath === 'bridge'
      ? "kline path: when an order, cancel or read reaches the exchange between two kline quotes, the touch is first moved to a draw of a Brownian bridge from the last quote to the next, with the volatility the bar's range implies (E[range] = √(8T/π)·σ), inside the bar's range, seeded; the engine is not sent these touches (its feed is the kline quotes). A post-only entry priced at the last quote then meets a moved touch, as live, and may be refused and taken by the fallback"
      : 'kline path: still, the touch stays at the last kline quote until the next (post-only entries always rest: fills come out almost all maker)',
    `takers walk a synthetic depth behind the historical touch: ${depthOf(opts).levels} levels a side, 1 tick apart, ${depthText(opts)} each, seeded${opts.depthUsd === undefined ? '' : ' (--depth-usd)'}`,
    "protective stops (the engine's exchange-side STOP_MARKET) trigger on the last trade price, Binance's CONTRACT_PRICE: an aggTrades print at or through the trigger, and a touch through it (bid for a sell stop, ask for a buy), standing in for the trade that follows",
    `fees: maker ${makerFeeRate * 100} %, taker ${takerFeeRate * 100} % of notional (Binance USD-M VIP 0)`,
    'funding: at each fundingRate calc_time, position × mid of the touch × rate (Binance funds at the mark price; the mid stands in for it)',
    `a quote whose bid and ask equal the last one's (only sizes moved) reaches neither the book nor the engine unless ${unchangedTouchRefreshMs} ms passed since the last one sent`,
    `latency: every order, cancel and read reaches the exchange ${opts.latencyMs} ms after the decision; answers return at once`,
    `strategy: ${opts.strategy.name}, one bar of mids every ${opts.barMs / 1000} s per symbol, targets routed as signals.route at each bar close`,
    `stale feed: no quote for ${config.staleFeedMs / 1000} s on a held symbol flattens and kills the session, as live`,
    'at the end of the data the session is stopped (flatten at market) so the result holds no open position',
    'the Sharpe ratio is annualised from hourly equity returns (the first from the starting capital to the end of the first hour), risk-free rate 0; the Sortino ratio likewise, over the downside deviation (target 0); drawdown is measured on every equity sample (engine valuation at bid/ask)',
    'win rate: of the trades that realized PnL (closed part of a position), those whose realized PnL beat their own commission; turnover: traded notional over the starting capital; exposure: gross position notional over equity at each equity sample',
  ];
}
