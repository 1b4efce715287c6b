import { setTimeout as sleep } from 'node:timers/promises';
import type { Venue, VenueFilters } from '../../core/venues.js';
import { withAttempts } from '../../engine/attempts.js';
import type { Engine } from '../../engine/engine.js';
import type { MarketData, Subscription } from '../../exchange/port.js';
import type { BookTicker } from '../../model/market.js';
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
export async function loadVenueFilters(marketData: VenueMarketData, symbols: readonly string[], logger: Logger): Promise<VenueFilters> {
  const read = (md: MarketData) => withAttempts(filterReadAttempts, filterReadDelayMs, () => md.getSymbolFilters(symbols), sleep);
  const filters: VenueFilters = { paper: await read(marketData.paper) };
  if (marketData.live) {
    try {
      filters.live = await read(marketData.live);
    } catch (error) {
      logger.error({ err: error }, 'could not read the live exchange trading rules; live sessions are refused until they are read');
    }
  }
  return filters;
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
      try {
        await engine.submit({ kind: 'filters', venue: 'live', filters: await live.getSymbolFilters(symbols) });
        logger.info('live exchange trading rules read');
        return;
      } catch (error) {
        logger.warn({ err: error }, 'live exchange trading rules still unreadable');
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
