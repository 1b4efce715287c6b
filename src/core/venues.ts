import type { BookTicker, SymbolFilters } from '../model/market.js';
import type { CoreConfig } from './config.js';
import type { Dict } from './dict.js';
import { dictGet, fewKeysDictFrom, fewKeysDictMerge, fewKeysDictWith, fewKeysEmptyDict } from './dict.js';
import type { DurableState, Mode } from './state.js';

// Market data per venue. A live session must be sized, priced, valued and stop-checked on the live
// exchange's book, never on the paper simulator's random walk: each venue keeps its own filters, quotes and
// feed clocks, and every read for a session goes through its venue (the session's mode).

/** Where market data comes from and orders go: the session's mode. */
export type Venue = Mode;
export const allVenues: readonly Venue[] = ['paper', 'live'];

export type Quote = BookTicker & { receivedAtMs: number };

/** One venue's volatile market view. */
export interface VenueMarket {
  filters: Dict<SymbolFilters>;
  quotes: Dict<Quote>;
  /**
   * Per symbol: when its market-data subscription started. The stale-feed clock of a symbol with no quote yet
   * runs from here, not from boot: a slow boot reconciliation is not a silent feed (a 31 s reconcile once
   * flattened every session). A held symbol with no subscription is never called stale by this rule.
   */
  feedStartedAtMs: Dict<number>;
  /**
   * Why the venue's trading rules could not be read, as the shell's last read said (a symbol margined in USDC, one the
   * exchange does not list, the exchange unreachable); null once they are read. A live start refused for want of
   * rules says this, not only that they are missing: the reason was in the service's log alone.
   */
  rulesUnreadable: string | null;
}

/** Both venues, always present: a lookup is one property read and one Dict read. */
export type VenueMarkets = Readonly<Record<Venue, VenueMarket>>;

/** Trading rules per venue, as the shell reads them at boot (a venue it cannot read is absent). */
export type VenueFilters = Partial<Record<Venue, Readonly<Record<string, SymbolFilters>>>>;

export function emptyVenueMarkets(filters: VenueFilters = {}): VenueMarkets {
  const one = (venue: Venue): VenueMarket => ({
    // Records by symbol, written at every tick or feed start and walked by the stale-feed rule: fast objects (dict.ts).
    filters: fewKeysDictFrom(filters[venue] ?? {}),
    quotes: fewKeysEmptyDict(),
    feedStartedAtMs: fewKeysEmptyDict(),
    rulesUnreadable: null,
  });
  return { paper: one('paper'), live: one('live') };
}

export function quoteOf(markets: VenueMarkets, venue: Venue, symbol: string): Quote | undefined {
  return dictGet(markets[venue].quotes, symbol);
}

export function filtersOf(markets: VenueMarkets, venue: Venue, symbol: string): SymbolFilters | undefined {
  return dictGet(markets[venue].filters, symbol);
}

/**
 * How old a quote's information is: from the exchange's time of the book state when the stream gave one, else from
 * its receipt, and never younger than its receipt says (a venue clock ahead of ours must not make a quote look fresh).
 */
export function quoteAgeMs(quote: Quote, nowMs: number): number {
  const exchangeTimeMs = quote.time > 0 ? quote.time : quote.receivedAtMs;
  return nowMs - Math.min(exchangeTimeMs, quote.receivedAtMs);
}

/** The venue's quote for a symbol if it is young enough to price an entry or the fallback on (entryQuoteMaxAgeMs). */
export function entryQuoteOf(
  markets: VenueMarkets,
  venue: Venue,
  symbol: string,
  nowMs: number,
  config: Pick<CoreConfig, 'entryQuoteMaxAgeMs'>,
): Quote | undefined {
  const quote = quoteOf(markets, venue, symbol);
  return quote !== undefined && quoteAgeMs(quote, nowMs) <= config.entryQuoteMaxAgeMs ? quote : undefined;
}

/** When the venue's feed for a symbol was last heard from: its last quote, else its subscription start. */
export function lastHeardMs(markets: VenueMarkets, venue: Venue, symbol: string): number | undefined {
  return quoteOf(markets, venue, symbol)?.receivedAtMs ?? dictGet(markets[venue].feedStartedAtMs, symbol);
}

function withVenue(markets: VenueMarkets, venue: Venue, change: (m: VenueMarket) => VenueMarket): VenueMarkets {
  return { ...markets, [venue]: change(markets[venue]) };
}

export function withQuote(markets: VenueMarkets, venue: Venue, tick: BookTicker, nowMs: number): VenueMarkets {
  // The quote spelt out field by field: V8 copies `{ ...tick, receivedAtMs }` (a spread plus a key the source lacks)
  // on a slow path, about 1 µs, a sixth of a tick's whole decision; a literal is 0.02 µs. Every tick source (the
  // exchange's stream, the simulation, the backtest) hands a BookTicker of exactly these fields.
  const quote: Quote = { symbol: tick.symbol, bid: tick.bid, ask: tick.ask, time: tick.time, receivedAtMs: nowMs };
  const m = markets[venue];
  const next: VenueMarket = {
    filters: m.filters,
    quotes: fewKeysDictWith(m.quotes, tick.symbol, quote),
    feedStartedAtMs: m.feedStartedAtMs,
    rulesUnreadable: m.rulesUnreadable,
  };
  return venue === 'paper' ? { paper: next, live: markets.live } : { paper: markets.paper, live: next };
}

export function withFilters(markets: VenueMarkets, venue: Venue, filters: Readonly<Record<string, SymbolFilters>>): VenueMarkets {
  return withVenue(markets, venue, (m) => ({ ...m, filters: fewKeysDictMerge(m.filters, filters), rulesUnreadable: null }));
}

/** Longest reason kept for rules that could not be read (characters): an error may carry a whole HTTP body. */
export const maxRulesUnreadableChars = 300;

/** A reason rules could not be read, as the state keeps it: cut at maxRulesUnreadableChars. */
export function boundedRulesReason(reason: string): string {
  return reason.length > maxRulesUnreadableChars ? `${reason.slice(0, maxRulesUnreadableChars)}…` : reason;
}

/**
 * The venue's trading rules could not be read, for `reason` (bounded); the rules read before, if any, stay. The same
 * reason again changes nothing (the same object back).
 */
export function withRulesUnreadable(markets: VenueMarkets, venue: Venue, reason: string): VenueMarkets {
  const bounded = boundedRulesReason(reason);
  if (markets[venue].rulesUnreadable === bounded) return markets;
  return withVenue(markets, venue, (m) => ({ ...m, rulesUnreadable: bounded }));
}

export function withFeedStarted(markets: VenueMarkets, venue: Venue, symbols: readonly string[], nowMs: number): VenueMarkets {
  return withVenue(markets, venue, (m) => ({ ...m, feedStartedAtMs: fewKeysDictMerge(m.feedStartedAtMs, Object.fromEntries(symbols.map((s) => [s, nowMs]))) }));
}

/**
 * The venue a user's orders go to: their session's mode. An order outlives nothing but its session (a new
 * session starts only once the old one is closed, flat, with no open order), so this is the order's venue.
 */
export function venueOfUser(durable: DurableState, userId: string): Venue {
  return durable.sessions.get(userId)?.mode ?? 'paper';
}

/**
 * Why the venue's market data cannot be traded on now, or null when it can: every configured symbol needs
 * its trading rules and a quote younger than staleFeedMs.
 */
export function feedProblem(markets: VenueMarkets, venue: Venue, nowMs: number, config: Pick<CoreConfig, 'symbols' | 'staleFeedMs'>): string | null {
  const noFilters = config.symbols.filter((s) => !filtersOf(markets, venue, s));
  if (noFilters.length > 0) {
    const why = markets[venue].rulesUnreadable;
    return `no trading rules from the ${venue} exchange for ${noFilters.join(', ')}${why === null ? '' : `: ${why}`}`;
  }
  const stale = config.symbols.filter((s) => {
    const quote = quoteOf(markets, venue, s);
    return !quote || nowMs - quote.receivedAtMs > config.staleFeedMs;
  });
  if (stale.length > 0) return `no ${venue} market data for ${stale.join(', ')} in the last ${config.staleFeedMs} ms`;
  return null;
}
