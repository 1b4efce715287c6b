import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import type { UserStream } from '../../src/exchange/binance/user-stream.js';
import { openUserStream } from '../../src/exchange/binance/user-stream.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { OrderSnapshot } from '../../src/model/orders.js';

// A user stream remembers the orders it pushed so that a REST answer arriving after its own push does not wait for an
// echo that already came. It kept up to 1 000 ids an account for good (~70 kB: ~700 MB at 10 000 busy accounts); it
// now keeps a push only for echoTimeoutMs, the longest a REST answer may trail its push. A push still spares the
// answer that follows it within that time the wait, and a stream that never pushed an order is still renewed as deaf.
// Likewise the link from a triggered stop to the order it placed is kept only until that order's last update.

const echoTimeoutMs = 1_000;
const hour = 3_600_000;

function algoTriggered(actualOrderId: number): string {
  return JSON.stringify({
    e: 'ALGO_UPDATE',
    T: 1_700_000_000_000,
    o: { caid: 'qs1-1', aid: 77, s: 'BTCUSDT', S: 'SELL', X: 'TRIGGERED', ai: String(actualOrderId) },
  });
}

function orderUpdate(clientOrderId: string, i: number, status: 'NEW' | 'FILLED' = 'NEW'): string {
  return JSON.stringify({
    e: 'ORDER_TRADE_UPDATE',
    E: 1_700_000_000_100 + i,
    T: 1_700_000_000_000 + i,
    o: {
      s: 'BTCUSDT',
      c: clientOrderId,
      S: 'BUY',
      o: 'LIMIT',
      q: '0.010',
      p: '65000.1',
      ap: '0',
      x: status === 'NEW' ? 'NEW' : 'TRADE',
      X: status,
      i: 1_000 + i,
      l: '0',
      z: '0',
      T: 1_700_000_000_000 + i,
    },
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const startedAt = Date.now();
  while (!cond()) {
    if (Date.now() - startedAt > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("a user stream's memory of pushed orders", () => {
  let server: WebSocketServer | null = null;
  let stream: UserStream | null = null;
  afterEach(async () => {
    await stream?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  async function open(
    clock: ManualClock,
  ): Promise<{ socket: () => WebSocket; connections: () => number; pushed: () => number; updates: () => OrderSnapshot[] }> {
    server = new WebSocketServer({ port: 0 });
    let socket: WebSocket | null = null;
    let connections = 0;
    server.on('connection', (s) => {
      connections += 1;
      socket = s;
    });
    const { port } = server.address() as { port: number };
    const updates: OrderSnapshot[] = [];
    stream = await openUserStream({
      url: async () => `ws://127.0.0.1:${port}`,
      keepAlive: async () => 'ok',
      // The check runs every echoTimeoutMs / 4 = 250 ms of real time; the clock it reads is the test's.
      timings: { keepaliveIntervalMs: hour, keepaliveRetryMs: hour, silenceProbeMs: hour, echoTimeoutMs },
      reconnectDelayMs: 10,
      nowMs: () => clock.nowMs(),
      logger: undefined,
      onUpdate: (order) => {
        updates.push(order);
      },
      onFunding: undefined,
      news: undefined,
    });
    await until(() => socket !== null, 'the connection');
    return { socket: () => socket as unknown as WebSocket, connections: () => connections, pushed: () => updates.length, updates: () => updates };
  }

  it('forgets a pushed order once echoTimeoutMs has passed', async () => {
    const clock = new ManualClock(1_000_000);
    const ws = await open(clock);
    for (let i = 0; i < 200; i += 1) ws.socket().send(orderUpdate(`qe1-${i}`, i));
    await until(() => ws.pushed() === 200, 'the pushes');
    expect(stream?.heldOrderIds()).toBe(200);
    clock.advance(echoTimeoutMs);
    // Before: all 200 held until 1 000 more orders evicted them.
    await until(() => stream?.heldOrderIds() === 0, 'the pushed orders to be forgotten');
  });

  it("forgets the order a triggered stop placed once that order's last update came", async () => {
    const clock = new ManualClock(1_000_000);
    const ws = await open(clock);
    ws.socket().send(algoTriggered(1_005));
    await until(() => stream?.heldOrderIds() === 1, 'the link');
    ws.socket().send(orderUpdate('autoclose-1', 5, 'NEW'));
    ws.socket().send(orderUpdate('autoclose-1', 5, 'FILLED'));
    await until(() => ws.pushed() === 2, 'the pushes');
    expect(ws.updates().map((u) => u.triggeredBy)).toEqual(['qs1-1', 'qs1-1']); // both updates still know their stop
    clock.advance(echoTimeoutMs); // the pushes' echo memory goes too
    // Before: the link stayed (until 1 000 more triggers evicted it).
    await until(() => stream?.heldOrderIds() === 0, 'the link to be dropped');
  });

  it('still spares an answer that trails its push within echoTimeoutMs, and still renews a deaf stream', async () => {
    const clock = new ManualClock(1_000_000);
    const ws = await open(clock);
    ws.socket().send(orderUpdate('qe1-pushed', 0));
    await until(() => ws.pushed() === 1, 'the push');
    clock.advance(echoTimeoutMs - 1);
    stream?.expectEcho('qe1-pushed'); // the REST answer, after its push: nothing to wait for
    clock.advance(2 * echoTimeoutMs);
    await new Promise((r) => setTimeout(r, 600)); // two checks
    expect(ws.connections()).toBe(1);
    stream?.expectEcho('qe1-silent'); // an order the stream never pushed
    expect(stream?.heldOrderIds()).toBe(1);
    clock.advance(echoTimeoutMs);
    await until(() => ws.connections() === 2, 'the deaf stream to be renewed');
    expect(stream?.heldOrderIds()).toBe(0);
  });
});
