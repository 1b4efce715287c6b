import WebSocket from 'ws';
import type { Logger } from '../../util/logger.js';
import type { Subscription } from '../port.js';

// A WebSocket that reconnects with capped backoff until closed. Each message is parsed as JSON and handed
// on; a bad message or a throwing handler is logged and dropped, never allowed to end the stream.

export interface StreamOptions {
  /** Resolved on every (re)connect: user-data streams need a fresh listen key each time. */
  url: () => Promise<string>;
  onMessage: (message: unknown) => void;
  logger: Logger | undefined;
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
  /** No message for this long = a dead connection (silent TCP): terminate and reconnect. */
  idleTimeoutMs: number;
  /** Told of every opened connection; `reopened` is false for the first one only. */
  onOpen?: (reopened: boolean) => void;
}

export interface Stream extends Subscription {
  /** Drops the current connection (if any) and connects again through `url()`: a fresh listen key for user data. */
  restart(): void;
}

export async function openStream(opts: StreamOptions): Promise<Stream> {
  let opened = false;
  let closed = false;
  let socket: WebSocket | null = null;
  let attempt = 0;
  let idleTimer: NodeJS.Timeout | null = null;
  let retryTimer: NodeJS.Timeout | null = null;

  /** The connection idleTimer watches: its timer is pushed back (refresh) on each message, not cleared and made anew. */
  let idleWatched: WebSocket | null = null;
  const armIdle = (ws: WebSocket): void => {
    if (idleTimer && idleWatched === ws) {
      idleTimer.refresh();
      return;
    }
    if (idleTimer) clearTimeout(idleTimer);
    idleWatched = ws;
    idleTimer = setTimeout(() => ws.terminate(), opts.idleTimeoutMs);
  };

  /** `floorMs`: the request budget's word on when the URL's request may go (a ban, a full minute), at least. */
  const scheduleReconnect = (floorMs = 0): void => {
    if (closed) return;
    const delay = Math.max(floorMs, Math.min(opts.maxReconnectDelayMs, opts.reconnectDelayMs * 2 ** Math.min(attempt, 8)));
    attempt += 1;
    retryTimer = setTimeout(() => void connect(), delay);
  };

  // Resolves once the first connection attempt has opened or failed, so a subscriber knows it is live.
  let firstAttemptSettled: () => void = () => undefined;
  const firstAttempt = new Promise<void>((resolve) => (firstAttemptSettled = resolve));

  const connect = async (): Promise<void> => {
    if (closed) return;
    let url: string;
    try {
      url = await opts.url();
    } catch (error) {
      const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
      const floorMs = typeof retryAfterMs === 'number' ? retryAfterMs : 0;
      // A budget refusal sent nothing and says when to come back: expected at a big boot, not worth a warning each.
      if (floorMs > 0) opts.logger?.debug({ err: error, retryAfterMs: floorMs }, 'stream url waits for the request budget');
      else opts.logger?.warn({ err: error }, 'stream url unavailable; retrying');
      firstAttemptSettled();
      scheduleReconnect(floorMs);
      return;
    }
    if (closed) return;
    const ws = new WebSocket(url);
    socket = ws;
    ws.on('open', () => {
      firstAttemptSettled();
      attempt = 0;
      armIdle(ws);
      const reopened = opened;
      opened = true;
      opts.onOpen?.(reopened);
    });
    ws.on('message', (data: WebSocket.RawData) => {
      armIdle(ws);
      try {
        opts.onMessage(JSON.parse(data.toString()) as unknown);
      } catch (error) {
        opts.logger?.warn({ err: error }, 'dropped a bad stream message');
      }
    });
    ws.on('ping', () => armIdle(ws));
    ws.on('error', (error) => opts.logger?.debug({ err: error }, 'stream error'));
    ws.on('close', () => {
      firstAttemptSettled();
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = null;
      if (socket === ws) socket = null;
      scheduleReconnect();
    });
  };

  await connect();
  await firstAttempt;
  return {
    restart() {
      if (closed) return;
      socket?.terminate();
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = null;
      const ws = socket;
      socket = null;
      if (ws && ws.readyState !== WebSocket.CLOSED) {
        await new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          ws.terminate();
        });
      }
    },
  };
}
