import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRestClient } from '../../src/exchange/binance/rest-client.js';
import { classifyError } from '../../src/exchange/binance/errors.js';
import { maxAnswerBytes } from '../../src/exchange/binance/http-adapter.js';

// The REST client's own HTTP adapter (http-adapter.ts) under the real SDK, against a plain HTTP server: what the server
// receives (method, path, signed query, the API key and client headers) and how each kind of answer comes back. The
// exchange-facing behaviour (timeouts, 5xx, 429, refusals) is also covered against the simulator
// (binance-adapter.test.ts, rest-refusal-cost.test.ts).

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

describe('the REST client over its HTTP adapter', () => {
  const seen: Seen[] = [];
  let server: http.Server;
  let baseUrl = '';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const path = (req.url ?? '').split('?')[0];
      if (path === '/fapi/v1/time') return void res.writeHead(200, { 'content-type': 'application/json', 'x-mbx-used-weight-1m': '7' }).end('{"serverTime":1}');
      if (path === '/fapi/v1/order') return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":-2013,"msg":"Order does not exist."}');
      if (path === '/fapi/v1/exchangeInfo') {
        // An answer beyond the adapter's bound, streamed: it is cut off, not read whole.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 32);
        let sent = 0;
        const more = (): void => {
          while (sent <= maxAnswerBytes) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        return more();
      }
      if (path === '/fapi/v3/positionRisk')
        return void res
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"code":-1008,"msg":"Server is currently overloaded with other requests. Please try again in a few minutes."}');
      res.writeHead(503).end('busy');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const client = () => createRestClient({ restBaseUrl: baseUrl, restTimeoutMs: 2_000, recvWindowMs: 5_000, apiKey: 'the-key', apiSecret: 's', clientId: 'w1' });

  it('sends what the SDK built and reads a JSON answer, headers included', async () => {
    const headers: unknown[] = [];
    const c = createRestClient({ restBaseUrl: baseUrl, restTimeoutMs: 2_000, recvWindowMs: 5_000 }, (h) => headers.push(h));
    expect(await c.getServerTime()).toBe(1);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/fapi/v1/time' });
    expect(headers.at(-1)).toMatchObject({ 'x-mbx-used-weight-1m': '7' });
  });

  it('signs a private request into its query, with the key and client headers', async () => {
    // The SDK builds a private request's whole URL: the adapter takes it as it is, not through axios.getUri (which
    // merges the request's config with the defaults once more).
    const getUri = vi.spyOn(axios, 'getUri');
    const error = await client()
      .getOrder({ symbol: 'BTCUSDT', origClientOrderId: 'abc' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    const request = seen.at(-1);
    expect(request?.method).toBe('GET');
    expect(request?.url).toMatch(/^\/fapi\/v1\/order\?.*origClientOrderId=abc.*&signature=[0-9a-f]{64}$/);
    expect(request?.headers['x-mbx-apikey']).toBe('the-key');
    expect(request?.headers['x-qe-client']).toBe('w1');
    expect(getUri).not.toHaveBeenCalled();
    getUri.mockRestore();
    expect(classifyError(error)).toMatchObject({ kind: 'rejected', code: -2013, httpStatus: 400 });
    // A refusal carries no stack: capturing one through the SDK's and axios's promise chains cost ~30 µs a refusal.
    expect((error as Error).stack?.split('\n')).toEqual([`HttpAnswerError: HTTP 400: {"code":-2013,"msg":"Order does not exist."}`]);
  });

  it('reads a 5xx as unknown and cuts off an answer over its bound', async () => {
    const busy = await client()
      .getAllOpenOrders()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(classifyError(busy)).toEqual({ kind: 'unknown', reason: 'HTTP 503' });
    // A 5xx with Binance's code (-1008, system-level throttle) stays unknown, and says why.
    const throttled = await client()
      .getPositionsV3()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(classifyError(throttled)).toEqual({
      kind: 'unknown',
      reason: 'HTTP 503 -1008 Server is currently overloaded with other requests. Please try again in a few minutes.',
    });
    const huge = await client()
      .getExchangeInfo()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(classifyError(huge)).toMatchObject({ kind: 'unknown' });
    expect(String(huge)).toMatch(/answer over/);
  });
});
