import http from 'node:http';
import https from 'node:https';
import axios from 'axios';
import type { AxiosAdapter, AxiosResponse, InternalAxiosRequestConfig } from 'axios';

// The HTTP transport under the SDK's REST client: axios still builds each request (the SDK's signing, axios's URL and
// parameter encoding via getUri, its transformRequest/transformResponse) and reads the answer, but the request itself
// is one node http(s).request on the default keep-alive agent. Axios's own node adapter goes through follow-redirects
// and builds streams, headers and error objects per request: 3 000 signed queries to the simulator in its own process
// took 387–442 µs of client CPU each through it and 294–307 µs through this (same minutes, a loaded machine). Binance's
// REST API neither redirects nor needs compression, so neither is done here.
// What the adapter keeps of axios's contract: `validateStatus` decides resolve or reject; a rejection for a status
// carries `response`; a timeout (the socket idle for `timeout` ms, as axios's adapter sets it) or a reset carries
// none, so the adapter's classification reads it as an unknown outcome (errors.ts).

/** Beyond this, an answer is not read further and the request fails (bytes; exchangeInfo is ~1 MB). */
export const maxAnswerBytes = 32 * 1024 * 1024;

/** A request that got no complete answer: timed out, reset, refused, or an answer over maxAnswerBytes. */
export class HttpTransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'HttpTransportError';
  }
}

/**
 * An answer the caller did not take as a success: `validateStatus` refused its status here (a 5xx, as the REST client
 * is configured), or the SDK threw it (a 4xx, rest-client.ts). It carries `response` as axios errors do, which is
 * what errors.ts classifies; its stack is never read on these paths, so V8 never formats it.
 */
export class HttpAnswerError extends Error {
  readonly response: { status: number; data: unknown; headers: unknown };

  constructor(status: number, data: unknown, headers: unknown) {
    // No stack captured: the answer is the whole story, and capturing one through the SDK's and axios's promise chains
    // cost ~15–20 µs of CPU per refusal (a -5022 per post-only entry the book would have crossed).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(`HTTP ${status}: ${JSON.stringify(data)?.slice(0, httpAnswerMessageMaxChars) ?? ''}`);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.name = 'HttpAnswerError';
    this.response = { status, data, headers };
  }
}

/** Of an answer's body, this much goes into an HttpAnswerError's message (a Binance error body is ~100 characters). */
const httpAnswerMessageMaxChars = 300;

function headersOf(config: InternalAxiosRequestConfig, body: string | Buffer | undefined): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = { 'User-Agent': 'quant-engine' };
  const given = config.headers.toJSON() as Record<string, unknown>;
  for (const name in given) {
    const value = given[name];
    if (typeof value === 'string' || typeof value === 'number') out[name] = String(value);
  }
  if (body !== undefined) out['Content-Length'] = Buffer.byteLength(body);
  return out;
}

function bodyOf(data: unknown): string | Buffer | undefined {
  if (data === undefined || data === null) return undefined;
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  return JSON.stringify(data);
}

/**
 * A header the adapter adds to every answer it hands on (never sent, never received): when its request was sent
 * (Date.now() as it left), for the rate budget to book the answer's weight into that minute (rest-client.ts sentAtOf).
 */
export const sentAtHeader = 'x-qe-sent-at';

/**
 * The request's URL. The SDK gives private requests their whole URL, query and signature included, and no params:
 * that one is taken as it is. axios.getUri merges the request's config with the defaults once more to build it
 * (7 % of a REST request's CPU); it still builds every other (a base URL, params to serialize).
 */
function urlOf(config: InternalAxiosRequestConfig): string {
  const params = config.params as Record<string, unknown> | undefined;
  const noParams = params === undefined || params === null || Object.keys(params).length === 0;
  if (noParams && config.baseURL === undefined && typeof config.url === 'string' && /^https?:\/\//.test(config.url)) return config.url;
  return axios.getUri(config);
}

export const httpAdapter: AxiosAdapter = (config) =>
  new Promise<AxiosResponse>((resolve, reject) => {
    const url = new URL(urlOf(config));
    const secure = url.protocol === 'https:';
    const body = bodyOf(config.data);
    const options: https.RequestOptions = {
      method: (config.method ?? 'get').toUpperCase(),
      headers: headersOf(config, body),
      ...(config.timeout ? { timeout: config.timeout } : {}),
      ...(secure && config.httpsAgent ? { agent: config.httpsAgent as https.Agent } : {}),
      ...(!secure && config.httpAgent ? { agent: config.httpAgent as http.Agent } : {}),
    };
    const sentAtMs = Date.now();
    const req = (secure ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxAnswerBytes) {
          req.destroy(new HttpTransportError(`answer over ${maxAnswerBytes} bytes`, 'ERR_ANSWER_TOO_LARGE'));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (error) => reject(new HttpTransportError(error.message, 'ECONNRESET')));
      res.on('end', () => {
        res.headers[sentAtHeader] = String(sentAtMs);
        const response: AxiosResponse = {
          data: Buffer.concat(chunks).toString('utf8'),
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: res.headers as AxiosResponse['headers'],
          config,
          request: req,
        };
        const valid = config.validateStatus ? config.validateStatus(response.status) : response.status >= 200 && response.status < 300;
        if (valid) resolve(response);
        else reject(new HttpAnswerError(response.status, response.data, response.headers));
      });
    });
    // As axios's adapter: the socket idle this long aborts the request (ECONNABORTED, no answer).
    req.on('timeout', () => req.destroy(new HttpTransportError(`timeout of ${config.timeout ?? 0} ms exceeded`, 'ECONNABORTED')));
    req.on('error', (error: Error & { code?: string }) =>
      reject(error instanceof HttpTransportError ? error : new HttpTransportError(error.message, error.code ?? 'ERR_NETWORK')),
    );
    req.end(body);
  });
