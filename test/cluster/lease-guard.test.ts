import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { leaseSignGuard } from '../../src/cluster/lease-guard.js';
import { defaultLeaseSignBounds, leaseRecvWindowMs, leaseRemainingMs } from '../../src/cluster/lease-rules.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { SignGuard } from '../../src/exchange/sign-guard.js';
import { RequestNotSentError } from '../../src/exchange/sign-guard.js';
import { notSentCode } from '../../src/model/orders.js';
import type { OrderRequest } from '../../src/model/orders.js';

// Zombie orders (issue 13): a worker re-checks its partition's lease right before signing each request, and signs
// with a recvWindow that ends before its lease does, or does not send at all. The lease here is measured on an
// injected clock from its last renewal, as lease.ts measures it on the monotonic clock.

const { leaseSignMarginMs, minSignedRecvWindowMs } = defaultLeaseSignBounds;

/** A lease renewed at `renewedAtMs` whose local view lasts `viewMs`, read on `clock` (as lease.ts reads it). */
function leaseOn(clock: ManualClock, viewMs: number) {
  let heldUntilMs = clock.nowMs() + viewMs;
  return {
    remainingMs: () => leaseRemainingMs(heldUntilMs, clock.nowMs()),
    renewed: () => (heldUntilMs = clock.nowMs() + viewMs),
  };
}

describe('the recvWindow a lease allows', () => {
  it('is the configured window while the lease has room, the lease minus the margin once it has not, and nothing near its end', () => {
    expect(leaseRecvWindowMs(10_000, 5_000, defaultLeaseSignBounds)).toBe(5_000);
    expect(leaseRecvWindowMs(2_700, 5_000, defaultLeaseSignBounds)).toBe(2_700 - leaseSignMarginMs);
    expect(leaseRecvWindowMs(leaseSignMarginMs + minSignedRecvWindowMs, 5_000, defaultLeaseSignBounds)).toBe(minSignedRecvWindowMs);
    expect(leaseRecvWindowMs(leaseSignMarginMs + minSignedRecvWindowMs - 1, 5_000, defaultLeaseSignBounds)).toBeNull();
    expect(leaseRecvWindowMs(0, 5_000, defaultLeaseSignBounds)).toBeNull();
  });

  it("follows the lease on the worker's own clock: shrinks as the lease ages, refuses near its end, full again after a renewal", () => {
    const clock = new ManualClock(1_000);
    const lease = leaseOn(clock, 2_700);
    const guard = leaseSignGuard(lease);
    expect(guard.recvWindowMs(5_000)).toBe(2_200);
    clock.advance(1_500);
    expect(guard.recvWindowMs(5_000)).toBe(700);
    expect(guard.recvWindowMs(300)).toBe(300); // never longer than configured
    clock.advance(700 - minSignedRecvWindowMs + 1);
    expect(() => guard.recvWindowMs(5_000)).toThrow(RequestNotSentError);
    lease.renewed();
    expect(guard.recvWindowMs(5_000)).toBe(2_200);
    clock.advance(60_000); // paused far past the lease (SIGSTOP): refused, whatever is configured
    expect(() => guard.recvWindowMs(5_000)).toThrow(RequestNotSentError);
  });
});

describe('the Binance adapter with a sign guard', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A stand-in exchange that records every request and answers the clock sync and orders. */
  async function recordingExchange(): Promise<{ url: string; seen: { path: string; query: URLSearchParams; client: string | undefined }[] }> {
    const seen: { path: string; query: URLSearchParams; client: string | undefined }[] = [];
    server = createServer((req: IncomingMessage, res) => {
      const url = new URL(req.url ?? '/', 'http://x.invalid');
      seen.push({ path: url.pathname, query: url.searchParams, client: req.headers['x-qe-client'] as string | undefined });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(url.pathname === '/fapi/v1/time' ? { serverTime: Date.now() } : {}));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
  }

  const order: OrderRequest = {
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    quantity: '0.001',
    price: '50000',
    timeInForce: 'GTX',
    reduceOnly: false,
    clientOrderId: 'g-1',
  };
  const account = (url: string, extra: { signGuard?: SignGuard; clientId?: string } = {}) =>
    createBinanceConnector({ restBaseUrl: url, wsBaseUrl: 'ws://127.0.0.1:1', recvWindowMs: 5_000, ...extra }).account({ apiKey: 'k', apiSecret: 's' });

  it('signs with the window the lease allows and names the worker', async () => {
    const exchange = await recordingExchange();
    const clock = new ManualClock(0);
    await account(exchange.url, { signGuard: leaseSignGuard(leaseOn(clock, 1_800)), clientId: 'wA' }).placeOrder(order);
    const placed = exchange.seen.find((r) => r.path === '/fapi/v1/order');
    expect(placed?.query.get('recvWindow')).toBe('1300');
    expect(placed?.query.get('newClientOrderId')).toBe('g-1');
    expect(placed?.client).toBe('wA');
  });

  it('sends nothing once the lease is too short, and answers "not sent" so the core plans the order again', async () => {
    const exchange = await recordingExchange();
    const clock = new ManualClock(0);
    const lease = leaseOn(clock, 2_700);
    const a = account(exchange.url, { signGuard: leaseSignGuard(lease) });
    clock.advance(2_700 - leaseSignMarginMs);
    expect(await a.placeOrder(order)).toMatchObject({ kind: 'rejected', code: notSentCode });
    expect(await a.cancelOrder('BTCUSDT', 'g-1')).toMatchObject({ kind: 'rejected', code: notSentCode });
    expect(await a.queryOrder('BTCUSDT', 'g-1')).toMatchObject({ kind: 'unknown' });
    expect(exchange.seen.filter((r) => r.path !== '/fapi/v1/time')).toEqual([]);
  });

  it('without a guard (one process, SQLite) signs exactly as before: the configured window, no client header', async () => {
    const exchange = await recordingExchange();
    await account(exchange.url).placeOrder(order);
    const placed = exchange.seen.find((r) => r.path === '/fapi/v1/order');
    expect(placed?.query.get('recvWindow')).toBe('5000');
    expect(placed?.client).toBeUndefined();
  });
});
