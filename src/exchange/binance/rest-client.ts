import { createHmac } from 'node:crypto';
import { USDMClient } from 'binance';
import type { SignGuard } from '../sign-guard.js';
import { HttpAnswerError, httpAdapter, sentAtHeader } from './http-adapter.js';

// The SDK's REST client, configured the way we need it:
// - raw axios errors (parseExceptions: false) so we can see the HTTP status and classify outcomes;
// - our own clock sync (the SDK's built-in one runs on a timer we cannot stop);
// - no order-id "validation": the SDK warns on every id without its broker prefix, and our ids are ours;
// - every response's headers (success and error) handed to `onHeaders`: the SDK's own tracker keeps only some
//   headers and overwrites them, and we need X-MBX-USED-WEIGHT-1M and X-MBX-ORDER-COUNT-10S/-1M as sent, with
//   when their request was sent: a count belongs to the window the exchange counted the request in, and an answer
//   read after a window turned may be the old window's (rate-budget.ts);
// - with a sign guard (a cluster worker's lease, src/cluster/lease-guard.ts), every signed request asks it right
//   before the SDK stamps and signs it: the guard gives the recvWindow, or refuses and nothing is sent;
// - requests signed with node's createHmac (signRequest), not the SDK's default WebCrypto path: the same HMAC-SHA256
//   hex signature (https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info, "SIGNED
//   Endpoint Security"), ~6 µs of CPU instead of ~195 µs (a key import and an async job per request), which at
//   thousands of sessions was 5 % of the engine process's CPU;
// - an answer with a 4xx status (a refusal: -5022 post-only would take, -2013 no such order, ...) resolves in axios
//   (validateStatus) and reaches us as an HttpAnswerError (http-adapter.ts). Left to axios, each refusal was an AxiosError whose
//   stack axios formats twice to splice in its caller's (Axios.request): with source maps on (tsx), 0.2 ms of CPU per
//   refusal, 4 % of the engine process at 10 000 sessions, where every entry begins with a refused post-only order.
//   A 5xx, a timeout or a reset fails in the adapter (all three: outcome unknown, errors.ts);
// - the request sent by our own adapter (http-adapter.ts), not axios's node adapter: ~100 µs less CPU a request.

/** Receives the raw headers of every REST response, success or error, and when its request was sent (Date.now()). */
export type ResponseHeadersListener = (headers: unknown, sentAtMs: number | undefined) => void;

/**
 * When the request whose answer these headers are was sent: stamped by our HTTP adapter into the answer's headers
 * (sentAtHeader), as the SDK hands the headers over without the request. Not an AsyncLocalStorage around the call:
 * once one is used, Node runs async hooks on every promise of the process for good, which made each await of the
 * engine ~2.5 times as costly (120 → 320 ns CPU an await on this machine).
 */
function sentAtOf(headers: unknown): number | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const stamp = Number((headers as Record<string, unknown>)[sentAtHeader]);
  return Number.isFinite(stamp) ? stamp : undefined;
}

/** The SDK throws a non-200 answer (axios's response object) as it is; anything else is passed on untouched. */
function asAnswerError(error: unknown): unknown {
  if (error === null || typeof error !== 'object' || error instanceof Error) return error;
  const answer = error as { status?: unknown; data?: unknown; headers?: unknown };
  return typeof answer.status === 'number' ? new HttpAnswerError(answer.status, answer.data, answer.headers) : error;
}

/** Statuses axios resolves with (the SDK then throws the answer for all but 200): everything but server errors. */
const resolvedStatus = (status: number): boolean => status < 500;

/** The header naming the sending process (a cluster worker's id) in the simulator's request log. */
export const clientIdHeader = 'X-QE-Client';

class QuietUsdmClient extends USDMClient {
  constructor(
    onHeaders: ResponseHeadersListener | undefined,
    private readonly guard: { signGuard: SignGuard; recvWindowMs: number } | undefined,
    ...args: ConstructorParameters<typeof USDMClient>
  ) {
    super(...args);
    const self = this as unknown as { validateOrderId: () => void; updateApiLimitState: (headers: unknown) => void };
    self.validateOrderId = () => undefined;
    // The SDK calls this with response.headers on every answer, 2xx and errors alike (BaseRestClient).
    const original = self.updateApiLimitState.bind(this);
    self.updateApiLimitState = (headers: unknown) => {
      original(headers);
      onHeaders?.(headers, sentAtOf(headers));
    };
  }

  override _call(...args: Parameters<USDMClient['_call']>): ReturnType<USDMClient['_call']> {
    return this.guardedCall(...args).catch((error: unknown) => {
      throw asAnswerError(error);
    });
  }

  private guardedCall(...args: Parameters<USDMClient['_call']>): ReturnType<USDMClient['_call']> {
    const [method, endpoint, params, isPrivate, baseUrlOverride] = args;
    if (!isPrivate || !this.guard) return super._call(...args);
    let recvWindow: number;
    try {
      recvWindow = this.guard.signGuard.recvWindowMs(this.guard.recvWindowMs);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return super._call(method, endpoint, { ...(params as object | undefined), recvWindow }, isPrivate, baseUrlOverride);
  }
}

export interface RestClientConfig {
  restBaseUrl: string;
  restTimeoutMs: number;
  recvWindowMs: number;
  apiKey?: string;
  apiSecret?: string;
  /** Asked before every signed request (a cluster worker's lease); none: signed as configured. */
  signGuard?: SignGuard;
  /** Sent as X-QE-Client so the simulator can tell which process sent what (cluster tests); never to a live venue. */
  clientId?: string;
}

/** A request's signature: HMAC-SHA256 of the query string under the API secret, in hex (no URL escaping needed). */
export function signRequest(message: string, secret: string): Promise<string> {
  return Promise.resolve(createHmac('sha256', secret).update(message).digest('hex'));
}

export function createRestClient(config: RestClientConfig, onHeaders?: ResponseHeadersListener): USDMClient {
  return new QuietUsdmClient(
    onHeaders,
    config.signGuard && { signGuard: config.signGuard, recvWindowMs: config.recvWindowMs },
    {
      baseUrl: config.restBaseUrl,
      recvWindow: config.recvWindowMs,
      disableTimeSync: true,
      parseExceptions: false,
      beautifyResponses: false,
      customSignMessageFn: signRequest,
      ...(config.apiKey !== undefined ? { api_key: config.apiKey, api_secret: config.apiSecret } : {}),
    },
    {
      timeout: config.restTimeoutMs,
      validateStatus: resolvedStatus,
      adapter: httpAdapter,
      ...(config.clientId !== undefined && { headers: { [clientIdHeader]: config.clientId } }),
    },
  );
}

/** Measures the exchange clock offset (half the round trip assumed each way) and applies it to signing. */
export async function syncClock(client: USDMClient): Promise<number> {
  const start = Date.now();
  const serverTime = await client.getServerTime();
  const end = Date.now();
  const offset = Math.round(serverTime - (start + end) / 2);
  client.setTimeOffset(offset);
  return offset;
}
