// Test client for the simulator: signs like the binance SDK (params in the query string, HMAC hex).
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { memoryPaperState, openSqlitePaperState, type PaperStateStore } from '../../src/paper-exchange/state-store.js';

export interface ApiResponse {
  status: number;
  body: unknown;
  headers: Headers;
}

export interface ApiClient {
  publicGet(path: string, params?: Record<string, string>): Promise<ApiResponse>;
  signed(method: string, path: string, params?: Record<string, string>): Promise<ApiResponse>;
  apiKeyCall(method: string, path: string): Promise<ApiResponse>;
}

export function apiClient(baseUrl: string, apiKey: string, secret = 'any-secret'): ApiClient {
  const send = async (method: string, url: string): Promise<ApiResponse> => {
    const res = await fetch(url, { method, headers: { 'X-MBX-APIKEY': apiKey } });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: res.headers };
  };
  return {
    publicGet: (path, params = {}) => send('GET', `${baseUrl}${path}?${new URLSearchParams(params).toString()}`),
    signed: (method, path, params = {}) => {
      const query = new URLSearchParams({ ...params, timestamp: String(Date.now()), recvWindow: '5000' }).toString();
      const signature = createHmac('sha256', secret).update(query).digest('hex');
      return send(method, `${baseUrl}${path}?${query}&signature=${signature}`);
    },
    apiKeyCall: (method, path) => send(method, `${baseUrl}${path}`),
  };
}

export function errorCode(res: ApiResponse): number | undefined {
  const body = res.body as { code?: unknown } | undefined;
  return typeof body?.code === 'number' ? body.code : undefined;
}

export function field(res: ApiResponse, name: string): unknown {
  return (res.body as Record<string, unknown>)[name];
}

/** Collects every JSON message a socket receives, with a helper to wait for one matching a predicate. */
export interface WsProbe {
  ws: WebSocket;
  messages: unknown[];
  waitFor(predicate: (msg: unknown) => boolean, timeoutMs?: number): Promise<unknown>;
  close(): void;
}

export async function openWs(url: string): Promise<WsProbe> {
  const ws = new WebSocket(url);
  const messages: unknown[] = [];
  const waiters: { predicate: (msg: unknown) => boolean; resolve: (msg: unknown) => void }[] = [];
  ws.on('message', (raw) => {
    const msg = JSON.parse(String(raw)) as unknown;
    messages.push(msg);
    for (const w of [...waiters]) {
      if (w.predicate(msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(msg);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    messages,
    waitFor(predicate, timeoutMs = 3_000) {
      const existing = messages.find(predicate);
      if (existing !== undefined) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for WS message')), timeoutMs);
        waiters.push({
          predicate,
          resolve: (msg) => {
            clearTimeout(timer);
            resolve(msg);
          },
        });
      });
    },
    close: () => ws.terminate(),
  };
}

/**
 * Places a closing STOP_MARKET for a long through the algo endpoint, its trigger 10 % under the bid on BTCUSDT's
 * 0.1 tick; answers the HTTP response (the caller checks it) and the trigger price sent.
 */
export async function placeTestStop(api: ApiClient, clientAlgoId: string): Promise<{ res: ApiResponse; trigger: string }> {
  const book = await api.publicGet('/fapi/v1/ticker/bookTicker', { symbol: 'BTCUSDT' });
  const trigger = (Math.floor(Number(field(book, 'bidPrice')) * 9) / 10).toFixed(1);
  const res = await api.signed('POST', '/fapi/v1/algoOrder', {
    algoType: 'CONDITIONAL',
    symbol: 'BTCUSDT',
    side: 'SELL',
    type: 'STOP_MARKET',
    triggerPrice: trigger,
    closePosition: 'true',
    clientAlgoId,
  });
  return { res, trigger };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The stores to start an exchange on, and again for its restart, by name: the memory one itself, or a SQLite file in
 * `dir` reopened.
 */
export function storeKinds(dir: string, fileName: string): [string, () => () => PaperStateStore][] {
  return [
    [
      'memory',
      () => {
        const store = memoryPaperState();
        return () => store;
      },
    ],
    ['SQLite', () => () => openSqlitePaperState(join(dir, fileName))],
  ];
}
