import { setTimeout as sleep } from 'node:timers/promises';
import type { Venue, VenueFilters } from '../../core/venues.js';
import { boundedRulesReason } from '../../core/venues.js';
import { withAttempts } from '../../engine/attempts.js';
import type { Engine } from '../../engine/engine.js';
import type { MarketData, Subscription } from '../../exchange/port.js';
import type { BookTicker, SymbolFilters } from '../../model/market.js';
import type { Logger } from '../../util/logger.js';

// Market data per venue: the paper simulator's feed for paper sessions, the live exchange's for live ones.
// Each venue's filters and ticks reach the engine tagged with that venue, so a live session is never sized,
// priced or guarded on simulated prices.

/** Where each venue's market data comes from: paper always; live only when a live exchange is configured. */
export interface VenueMarketData {
  paper: MarketData;
  live?: MarketData | null;
}

/** Attempts at reading a venue's trading rules at boot before giving up (paper: boot fails; live: retried later). */
const filterReadAttempts = 5;
/** Wait after a failed trading-rules read, times the attempt's number (ms). */
const filterReadDelayMs = 500;
/** Wait between background reads of the live trading rules after boot could not get them (ms). */
const liveFilterRetryMs = 5_000;

/**
 * Trading rules change without notice (a tick or step size, a minimum, PERCENT_PRICE multipliers, a delisting's
 * status): every venue's are read again this often, and at once after an order is refused for a filter.
 */
export interface FilterRefreshTimings {
  /** Period of the routine re-read of every venue's trading rules (ms). */
  filterRefreshIntervalMs: number;
  /**
   * Least time between two re-reads of one venue prompted by rejections (ms): a burst of refusals costs one
   * exchangeInfo read (weight 1), and a refusal that persists with fresh rules does not poll the exchange.
   */
  filterRefreshMinGapMs: number;
}

export const defaultFilterRefreshTimings: FilterRefreshTimings = { filterRefreshIntervalMs: 3_600_000, filterRefreshMinGapMs: 10_000 };

export function venueFeeds(marketData: VenueMarketData): [Venue, MarketData][] {
  return marketData.live
    ? [
        ['paper', marketData.paper],
        ['live', marketData.live],
      ]
    : [['paper', marketData.paper]];
}

/**
 * Every venue's trading rules. Paper must be read (the engine cannot trade without them); a live exchange that
 * cannot be read at boot must not keep paper sessions from trading: it is left out (live sessions are refused
 * until its rules arrive) and read again in the background by `retryMissingFilters`.
 */
export async function loadVenueFilters(
  marketData: VenueMarketData,
  symbols: readonly string[],
  logger: Logger,
  /** Told why the live rules could not be read (the engine is not up yet to be told: the service tells it after boot). */
  onLiveUnreadable: (reason: string) => void = () => undefined,
): Promise<VenueFilters> {
  const read = (md: MarketData) => withAttempts(filterReadAttempts, filterReadDelayMs, () => md.getSymbolFilters(symbols), sleep);
  const filters: VenueFilters = { paper: await read(marketData.paper) };
  if (marketData.live) {
    try {
      filters.live = await read(marketData.live);
    } catch (error) {
      logger.error({ err: error }, 'could not read the live exchange trading rules; live sessions are refused until they are read');
      onLiveUnreadable(reasonOf(error));
    }
  }
  return filters;
}

/** What a failed read says, for the engine to tell a refused live start (venues.ts bounds its length). */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads the live trading rules until they arrive, when boot could not; stop() ends the loop. */
export function retryMissingFilters(
  engine: Engine,
  marketData: VenueMarketData,
  symbols: readonly string[],
  logger: Logger,
  retryMs = liveFilterRetryMs,
): { stop(): Promise<void> } {
  const live = marketData.live;
  const missing = live && symbols.some((s) => engine.current.market.venues.live.filters[s] === undefined);
  if (!live || !missing) return { stop: async () => undefined };
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      await sleep(retryMs, undefined, { signal: abort.signal }).catch(() => undefined);
      if (abort.signal.aborted) return;
      let filters: Record<string, SymbolFilters>;
      try {
        filters = await live.getSymbolFilters(symbols);
      } catch (error) {
        logger.warn({ err: error }, 'live exchange trading rules still unreadable');
        // The engine tells a refused live start why (venues.ts feedProblem); a reason that changed replaces the last.
        // The reason it holds already (boot's, the last retry's) is not told again: every retryMs it was a step.
        const reason = reasonOf(error);
        if (engine.current.market.venues.live.rulesUnreadable !== boundedRulesReason(reason))
          await engine.submit({ kind: 'rules_unreadable', venue: 'live', reason }).catch(() => undefined);
        continue;
      }
      try {
        await engine.submit({ kind: 'filters', venue: 'live', filters });
        logger.info('live exchange trading rules read');
        return;
      } catch (error) {
        logger.warn({ err: error }, 'live exchange trading rules read, but the engine did not take them; read again');
      }
    }
  })();
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

/**
 * Subscribes every venue's bookTicker stream and starts its stale-feed clocks. At most one tick per venue and
 * symbol waits in the engine's queue (bound: venues × symbols); a newer one replaces it.
 */
export async function subscribeVenueFeeds(engine: Engine, marketData: VenueMarketData, symbols: readonly string[], logger: Logger): Promise<Subscription[]> {
  const waitingTicks = new Map<string, BookTicker>();
  const subscriptions: Subscription[] = [];
  for (const [venue, md] of venueFeeds(marketData)) {
    const onTick = (tick: BookTicker): void => {
      const key = `${venue}:${tick.symbol}`;
      const queued = waitingTicks.has(key);
      waitingTicks.set(key, tick);
      if (queued) return;
      engine
        .submitDeferred(() => {
          const latest = waitingTicks.get(key);
          waitingTicks.delete(key);
          return latest ? { kind: 'tick', venue, tick: latest } : null;
        })
        .catch((error: unknown) => logger.error({ err: error, venue }, 'tick not committed'));
    };
    subscriptions.push(await md.subscribeBookTicker(symbols, onTick));
    // The stale-feed clocks start now that the feed is subscribed, not when boot began (reconciliation may be slow).
    await engine.submit({ kind: 'feed_started', venue, symbols: [...symbols] });
  }
  return subscriptions;
}

export interface FilterRefresher {
  /** Reads the venue's trading rules again as soon as the minimum gap allows (at most one read waits per venue). */
  refreshSoon(venue: Venue): void;
  stop(): Promise<void>;
}

/**
 * Re-reads each venue's trading rules every filterRefreshIntervalMs, and soon after refreshSoon() (a filter
 * rejection), and hands them to the core as a `filters` input. A failed read is logged; the next one comes on schedule.
 */
export function startFilterRefresh(
  engine: Engine,
  marketData: VenueMarketData,
  symbols: readonly string[],
  logger: Logger,
  timings: FilterRefreshTimings = defaultFilterRefreshTimings,
): FilterRefresher {
  const feeds = new Map(venueFeeds(marketData));
  const lastReadAtMs = new Map<Venue, number>();
  const waiting = new Map<Venue, NodeJS.Timeout>();
  const reads = new Set<Promise<void>>();
  let stopped = false;
  const read = (venue: Venue): void => {
    const md = feeds.get(venue);
    if (!md || stopped) return;
    lastReadAtMs.set(venue, Date.now());
    const done = (async () => {
      try {
        await engine.submit({ kind: 'filters', venue, filters: await md.getSymbolFilters(symbols) });
      } catch (error) {
        logger.warn({ err: error, venue }, 'trading rules could not be read again; kept the previous ones');
      }
    })();
    reads.add(done);
    void done.finally(() => reads.delete(done));
  };
  const periodic = setInterval(() => {
    for (const venue of feeds.keys()) read(venue);
  }, timings.filterRefreshIntervalMs);
  return {
    refreshSoon(venue) {
      if (stopped || waiting.has(venue) || !feeds.has(venue)) return;
      const waitMs = Math.max(0, (lastReadAtMs.get(venue) ?? -Infinity) + timings.filterRefreshMinGapMs - Date.now());
      waiting.set(
        venue,
        setTimeout(() => {
          waiting.delete(venue);
          read(venue);
        }, waitMs),
      );
    },
    async stop() {
      stopped = true;
      clearInterval(periodic);
      for (const timer of waiting.values()) clearTimeout(timer);
      waiting.clear();
      await Promise.all([...reads]);
    },
  };
}
