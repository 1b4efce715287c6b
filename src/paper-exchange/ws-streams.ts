// WebSocket market and user-data streams on the REST port.
//
// URL schemes accepted (the binance SDK v3 WebsocketClient uses the split ones, with `wsUrl` as base). As on
// Binance since its split of USDⓈ-M streams (announced 2026-03-06, legacy paths retired 2026-04-23), each route
// serves its own kind only: `/public` the high-frequency book streams (bookTicker, depth), `/market` the other
// market streams, `/private` user data (listenKey as a query parameter). A stream asked on the wrong route is
// refused (404 at connect, an error to a SUBSCRIBE).
//   /public/stream, /market/stream  then {"method":"SUBSCRIBE","params":["btcusdt@bookTicker"],"id":1}
//   /public/stream?streams=a/b, /public/ws/<stream>
//   /private/stream?listenKey=<key> (SDK user data) and /private/ws?listenKey=<key>
//   legacy, only with legacyStreamRoutes: /ws/<stream>, /ws/<listenKey>, /ws (+SUBSCRIBE), /stream?streams=a/b
// "/stream" connections get the combined {stream, data} wrapper; "/ws" connections get raw events.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

/** The route a connection came in on; `legacy` serves every kind (only when legacy routes are on). */
type Route = 'public' | 'market' | 'private' | 'legacy';

interface Client {
  ws: WebSocket;
  route: Route;
  combined: boolean;
  /** Canonical market stream names ("btcusdt@bookTicker", "!bookTicker"). */
  marketStreams: Set<string>;
  listenKeys: Set<string>;
  openedAtMs: number;
  /** When the client last answered a ping (or connected). */
  lastPongAtMs: number;
}

export interface WsHubDeps {
  accountOfListenKey(listenKey: string): string | undefined;
  /** The account's valid listen key, if it has one (an account has at most one: listen-keys.ts). */
  listenKeyOfAccount(accountKey: string): string | undefined;
  isMarketSilent(): boolean;
  /** Fault: user-data sockets stay open (pings answered) but nothing is delivered on them. */
  isUserSilent(): boolean;
  /** Fault: whether to drop this message (a lossy network); consumes one from the fault's count. */
  takeDroppedMessage(): boolean;
  /** Fault: how late (ms) every message is delivered. */
  messageDelayMs(): number;
  /** Removes the listen keys that expired by now and returns them. */
  sweepExpiredListenKeys(nowMs: number): string[];
  /** Serve the retired unprefixed paths too. */
  legacyRoutes: boolean;
  userStream: UserStreamLimits;
  /** How long a market-stream connection (every route but /private) lives before the server closes it (ms). */
  marketStreamMaxLifetimeMs: number;
  keepAlive: KeepAliveLimits;
}

/**
 * "The websocket server will send a ping frame every 3 minutes. If the websocket server does not receive a pong frame
 * back from the connection within a 10 minute period, the connection will be disconnected."
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams). Without the pings a
 * quiet account's user stream carried nothing for 10 minutes, the adapter's idle timeout dropped it, and every quiet
 * account asked a new listen key: 25 000 POST /listenKey for 10 000 accounts in 26 minutes (bench:sweep), a third of
 * the IP's request weight.
 */
export interface KeepAliveLimits {
  pingEveryMs: number;
  pongTimeoutMs: number;
}

export const defaultKeepAlive: KeepAliveLimits = { pingEveryMs: 3 * 60_000, pongTimeoutMs: 10 * 60_000 };

/**
 * The life limits of user-data connections on Binance
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams): "A single connection is
 * only valid for 24 hours; expect to be disconnected at the 24 hour mark", and a key that expires while connected
 * pushes `listenKeyExpired`, after which "no more user data event will be updated ... until a new valid listenKey
 * used" (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-User-Data-Stream-Expired).
 * The event says nothing of the socket: here it stays open and silent unless `closeOnListenKeyExpiry`.
 */
export interface UserStreamLimits {
  maxLifetimeMs: number;
  closeOnListenKeyExpiry: boolean;
  /** Whether `listenKeyExpired` is pushed at all (false: the key dies silently, the harshest case). */
  pushListenKeyExpired: boolean;
}

export const defaultUserStreamMaxLifetimeMs = 24 * 60 * 60_000;

/**
 * Market-stream connections live no longer (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams:
 * "A single connection is only valid for 24 hours; expect to be disconnected at the 24 hour mark"). Without it here a
 * book feed that did not come back after the server closed it was never tried on paper: live, every session holding
 * that symbol would be flattened as stale a day after the engine started.
 */
export const defaultMarketStreamMaxLifetimeMs = 24 * 60 * 60_000;

/** How often (ms) expiries and connection lifetimes are checked: fine enough for scaled-time tests, cheap otherwise. */
function sweepPeriodMs(limits: UserStreamLimits, marketLifetimeMs: number, listenKeyValidityMs: number): number {
  return Math.max(10, Math.min(1_000, Math.floor(Math.min(limits.maxLifetimeMs, marketLifetimeMs, listenKeyValidityMs) / 20)));
}

/** High-frequency book streams: served on /public only. */
function isBookStream(name: string): boolean {
  return /@(bookticker|depth)/i.test(name) || /^!bookticker$/i.test(name);
}

const categoryPrefixes = ['/public', '/market', '/private'];

/**
 * Which connections subscribe to each stream name (a listen key, or a canonical market stream), beside each client's
 * own sets: a push reaches its subscribers without a pass over every connection. Every user-data event used to check
 * every connection's every key, so at 10 000 accounts each order update cost 10 000 key lookups and the simulator
 * fell seconds behind the engine's requests.
 */
class Subscribers {
  private readonly byName = new Map<string, Set<Client>>();

  add(name: string, client: Client): void {
    let clients = this.byName.get(name);
    if (clients === undefined) this.byName.set(name, (clients = new Set()));
    clients.add(client);
  }

  delete(name: string, client: Client): void {
    const clients = this.byName.get(name);
    if (clients === undefined) return;
    clients.delete(client);
    if (clients.size === 0) this.byName.delete(name);
  }

  of(name: string): ReadonlySet<Client> | undefined {
    return this.byName.get(name);
  }
}

export class WsHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly clients = new Set<Client>();
  private readonly keySubscribers = new Subscribers();
  private readonly marketSubscribers = new Subscribers();
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly pingTimer: NodeJS.Timeout;

  constructor(
    server: Server,
    private readonly deps: WsHubDeps,
    listenKeyValidityMs: number,
  ) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), sweepPeriodMs(deps.userStream, deps.marketStreamMaxLifetimeMs, listenKeyValidityMs));
    this.sweepTimer.unref();
    this.pingTimer = setInterval(() => this.pingAll(Date.now()), deps.keepAlive.pingEveryMs);
    this.pingTimer.unref();
  }

  /** Pings every connection; drops one that has not answered for pongTimeoutMs. */
  private pingAll(nowMs: number): void {
    for (const client of this.clients) {
      if (nowMs - client.lastPongAtMs > this.deps.keepAlive.pongTimeoutMs) {
        client.ws.terminate();
        continue;
      }
      if (client.ws.readyState === WebSocket.OPEN) client.ws.ping();
    }
  }

  /** Pushes `listenKeyExpired` for keys that ran out and closes connections past their lifetime (user data's, or market streams'). */
  private sweep(nowMs: number): void {
    const limits = this.deps.userStream;
    for (const listenKey of this.deps.sweepExpiredListenKeys(nowMs)) {
      for (const client of [...(this.keySubscribers.of(listenKey) ?? [])]) {
        this.unsubscribeKey(client, listenKey);
        if (limits.pushListenKeyExpired) this.send(client, listenKey, { e: 'listenKeyExpired', E: String(nowMs), listenKey });
        if (limits.closeOnListenKeyExpiry) client.ws.close(1000, 'listenKey expired');
      }
    }
    for (const client of this.clients) {
      const lifetimeMs = client.route === 'private' ? limits.maxLifetimeMs : this.deps.marketStreamMaxLifetimeMs;
      if (nowMs - client.openedAtMs >= lifetimeMs) client.ws.close(1001, 'connection lifetime reached');
    }
  }

  publishMarket(stream: string, data: unknown): void {
    if (this.deps.isMarketSilent()) return;
    const allStream = `!${stream.slice(stream.indexOf('@') + 1)}`;
    const named = this.marketSubscribers.of(stream);
    for (const client of named ?? []) this.send(client, stream, data);
    for (const client of this.marketSubscribers.of(allStream) ?? []) if (!named?.has(client)) this.send(client, allStream, data);
  }

  /** Whether any client would receive `stream` now: lets a publisher skip building an event nobody reads. */
  wants(stream: string): boolean {
    if (this.deps.isMarketSilent()) return false;
    return this.marketSubscribers.of(stream) !== undefined || this.marketSubscribers.of(`!${stream.slice(stream.indexOf('@') + 1)}`) !== undefined;
  }

  publishUser(accountKey: string, data: unknown): void {
    if (this.deps.isUserSilent()) return;
    const key = this.deps.listenKeyOfAccount(accountKey);
    if (key === undefined) return;
    for (const client of this.keySubscribers.of(key) ?? []) this.send(client, key, data);
  }

  /** Closes the sockets of a revoked listen key, like Binance does when the key is deleted. */
  closeListenKey(listenKey: string): void {
    for (const client of [...(this.keySubscribers.of(listenKey) ?? [])]) {
      this.unsubscribeKey(client, listenKey);
      if (client.listenKeys.size === 0 && client.marketStreams.size === 0) client.ws.close(1000, 'listenKey deleted');
    }
  }

  /** Abrupt drop (no close frame), so clients see what a network failure looks like. */
  dropAll(): void {
    for (const client of this.clients) client.ws.terminate();
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    clearInterval(this.pingTimer);
    this.dropAll();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    let path = url.pathname;
    let route: Route = 'legacy';
    for (const prefix of categoryPrefixes) {
      if (path === prefix || path.startsWith(`${prefix}/`)) {
        path = path.slice(prefix.length);
        route = prefix.slice(1) as Route;
        break;
      }
    }
    if (route === 'legacy' && !this.deps.legacyRoutes) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    let combined: boolean;
    let names: string[];
    if (path === '/ws' || path === '/ws/') {
      combined = false;
      names = [];
    } else if (path.startsWith('/ws/')) {
      combined = false;
      names = path.slice(4).split('/');
    } else if (path === '/stream' || path === '/stream/') {
      combined = true;
      names = (url.searchParams.get('streams') ?? '').split('/');
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const listenKeyParam = url.searchParams.get('listenKey');
    if (listenKeyParam !== null) {
      if (this.deps.accountOfListenKey(listenKeyParam) === undefined) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      names.push(listenKeyParam);
    }
    if (!names.every((name) => this.servesOn(route, name))) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const openedAtMs = Date.now();
      const client: Client = { ws, route, combined, marketStreams: new Set(), listenKeys: new Set(), openedAtMs, lastPongAtMs: openedAtMs };
      ws.on('pong', () => {
        client.lastPongAtMs = Date.now();
      });
      this.addStreams(client, names);
      this.clients.add(client);
      ws.on('message', (raw, isBinary) => {
        if (!isBinary) this.onMessage(client, rawToString(raw));
      });
      ws.on('close', () => this.removeClient(client));
      ws.on('error', () => this.removeClient(client));
      // `ws` answers ping frames with pongs by itself (autoPong), which is what the SDK heartbeat needs.
    });
  }

  private onMessage(client: Client, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      client.ws.send(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON' } }));
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const { method, params, id } = msg as { method?: unknown; params?: unknown; id?: unknown };
    const names = Array.isArray(params) ? params.filter((p): p is string => typeof p === 'string') : [];
    switch (method) {
      case 'SUBSCRIBE':
        if (!names.every((name) => this.servesOn(client.route, name))) {
          client.ws.send(JSON.stringify({ error: { code: 2, msg: `Invalid request: stream not served on /${client.route}` }, id }));
          return;
        }
        this.addStreams(client, names);
        client.ws.send(JSON.stringify({ result: null, id }));
        return;
      case 'UNSUBSCRIBE':
        for (const name of names) {
          this.unsubscribeMarket(client, canonicalStream(name));
          this.unsubscribeKey(client, name);
        }
        client.ws.send(JSON.stringify({ result: null, id }));
        return;
      case 'LIST_SUBSCRIPTIONS':
        client.ws.send(JSON.stringify({ result: [...client.marketStreams, ...client.listenKeys], id }));
        return;
      default:
        client.ws.send(JSON.stringify({ error: { code: 2, msg: `Invalid request: unknown method` }, id }));
    }
  }

  /** Whether a route serves a stream (a listen key or a market stream name). */
  private servesOn(route: Route, name: string): boolean {
    if (route === 'legacy' || name === '') return true;
    const isUser = this.deps.accountOfListenKey(name) !== undefined;
    if (route === 'private') return isUser;
    if (isUser) return false;
    return route === 'public' ? isBookStream(name) : !isBookStream(name);
  }

  private addStreams(client: Client, names: readonly string[]): void {
    for (const name of names) {
      if (name === '') continue;
      if (this.deps.accountOfListenKey(name) !== undefined) {
        client.listenKeys.add(name);
        this.keySubscribers.add(name, client);
      } else {
        const stream = canonicalStream(name);
        client.marketStreams.add(stream);
        this.marketSubscribers.add(stream, client);
      }
    }
  }

  private unsubscribeKey(client: Client, listenKey: string): void {
    client.listenKeys.delete(listenKey);
    this.keySubscribers.delete(listenKey, client);
  }

  private unsubscribeMarket(client: Client, stream: string): void {
    client.marketStreams.delete(stream);
    this.marketSubscribers.delete(stream, client);
  }

  /** A closed connection leaves every index (once: close may follow error). */
  private removeClient(client: Client): void {
    if (!this.clients.delete(client)) return;
    for (const key of client.listenKeys) this.keySubscribers.delete(key, client);
    for (const stream of client.marketStreams) this.marketSubscribers.delete(stream, client);
  }

  private send(client: Client, stream: string, data: unknown): void {
    if (client.ws.readyState !== WebSocket.OPEN || this.deps.takeDroppedMessage()) return;
    const text = JSON.stringify(client.combined ? { stream, data } : data);
    const delayMs = this.deps.messageDelayMs();
    if (delayMs <= 0) {
      client.ws.send(text);
      return;
    }
    // Same delay for every message, so each connection still sees its messages in order.
    setTimeout(() => {
      if (client.ws.readyState === WebSocket.OPEN) client.ws.send(text);
    }, delayMs).unref();
  }
}

/** "BTCUSDT@bookticker" -> "btcusdt@bookTicker": symbols are lowercase, stream types case-insensitive here. */
export function canonicalStream(name: string): string {
  const at = name.indexOf('@');
  if (at < 0) return name.startsWith('!') ? name.replace(/^!bookticker$/i, '!bookTicker') : name.toLowerCase();
  const symbol = name.slice(0, at).toLowerCase();
  const type = name.slice(at + 1);
  return `${symbol}@${type.toLowerCase() === 'bookticker' ? 'bookTicker' : type}`;
}

function rawToString(raw: WebSocket.RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('utf8');
  return raw.toString('utf8');
}
