import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Stream } from '../../src/exchange/binance/ws-stream.js';
import { openStream } from '../../src/exchange/binance/ws-stream.js';

// A stream's idle timer is pushed back by every message (Timeout.refresh, not a new timer per message): while
// messages keep coming well inside idleTimeoutMs the connection is kept; once they stop, it is ended and reopened.

const idleTimeoutMs = 150;
const messageEveryMs = 30;

describe('a stream whose messages stop', () => {
  let server: WebSocketServer | null = null;
  let stream: Stream | null = null;
  afterEach(async () => {
    await stream?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('is kept while messages come, and reopened once they stop', async () => {
    server = new WebSocketServer({ port: 0 });
    let connections = 0;
    server.on('connection', (socket) => {
      connections += 1;
      if (connections > 1) return; // the reopened connection stays quiet
      let sent = 0;
      const timer = setInterval(() => {
        sent += 1;
        socket.send(JSON.stringify({ n: sent }));
        if (sent === 15) clearInterval(timer); // 450 ms of messages: three idle timeouts' worth
      }, messageEveryMs);
      socket.on('close', () => clearInterval(timer));
    });
    const { port } = server.address() as { port: number };
    const received: unknown[] = [];
    const opens: boolean[] = [];
    stream = await openStream({
      url: async () => `ws://127.0.0.1:${port}`,
      onMessage: (m) => received.push(m),
      logger: undefined,
      reconnectDelayMs: 10,
      maxReconnectDelayMs: 10,
      idleTimeoutMs,
      onOpen: (reopened) => opens.push(reopened),
    });
    const startedAt = Date.now();
    while (received.length < 15 && Date.now() - startedAt < 5_000) await new Promise((r) => setTimeout(r, 10));
    expect(received).toHaveLength(15);
    expect(opens).toEqual([false]); // never cut while the messages came
    while (opens.length < 2 && Date.now() - startedAt < 5_000) await new Promise((r) => setTimeout(r, 10));
    expect(opens).toEqual([false, true]); // cut once they stopped, and opened again
  });
});
