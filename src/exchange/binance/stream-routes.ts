// Where the USDⓈ-M WebSocket streams live. Binance split them by kind (announced 2026-03-06; the legacy
// `/stream` and `/ws/<listenKey>` paths retired from 2026-04-23): `/public` for high-frequency book data
// (bookTicker, depth), `/market` for the other market streams, `/private` for user data with the listenKey as
// a query parameter. https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
// and .../user-data-streams. The legacy routes stay available as an option for venues that still serve them.

export type StreamRoutes = 'split' | 'legacy';

export const defaultStreamRoutes: StreamRoutes = 'split';

/** Combined-stream URL for book tickers (and other high-frequency book streams). */
export function bookStreamUrl(wsBaseUrl: string, streams: readonly string[], routes: StreamRoutes): string {
  const names = streams.join('/');
  return routes === 'split' ? `${wsBaseUrl}/public/stream?streams=${names}` : `${wsBaseUrl}/stream?streams=${names}`;
}

/** Raw user-data stream URL for a listen key. */
export function userStreamUrl(wsBaseUrl: string, listenKey: string, routes: StreamRoutes): string {
  return routes === 'split' ? `${wsBaseUrl}/private/ws?listenKey=${encodeURIComponent(listenKey)}` : `${wsBaseUrl}/ws/${listenKey}`;
}
