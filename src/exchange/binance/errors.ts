import { z } from 'zod';

// Outcome classification: the safety-critical part of the adapter. A request the exchange answered with an
// error code was rejected and did nothing. Anything else — timeout, reset, 5xx, Binance's own "unknown
// execution status" codes — may have been executed, and must be resolved by querying the client order id.

/** Binance codes that explicitly mean "we do not know whether it was executed". */
const executionUnknownCodes = new Set([-1000, -1001, -1006, -1007]);

export const timestampOutsideRecvWindowCode = -1021;
export const duplicateClientOrderIdCode = -4116;
export const orderDoesNotExistCode = -2013;

const axiosLikeError = z.object({
  code: z.string().optional(), // ECONNABORTED, ECONNRESET, ...
  message: z.string().optional(),
  response: z
    .object({
      status: z.number(),
      data: z.unknown(),
      headers: z.unknown().optional(),
    })
    .optional(),
});

const binanceErrorBody = z.object({ code: z.number(), msg: z.string().optional() });

/** A 5xx's body is read for a Binance error code only up to this many characters: a code and its message fit many times. */
const serverErrorBodyMaxChars = 1_024;
/** Of a 5xx's Binance message, this many characters go into the reason (it ends up in the WAL and the logs). */
const serverErrorMessageMaxChars = 200;

export type Classified = { kind: 'rejected'; code: number; message: string; httpStatus: number; retryAfterMs?: number } | { kind: 'unknown'; reason: string };

function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const record = headers as Record<string, unknown>;
  const value = record[name] ?? record[name.toLowerCase()];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

export function classifyError(error: unknown): Classified {
  if (typeof error === 'string') return { kind: 'unknown', reason: error };
  const parsed = axiosLikeError.safeParse(error);
  if (!parsed.success) return { kind: 'unknown', reason: String(error) };
  const { response, code, message } = parsed.data;
  if (!response) return { kind: 'unknown', reason: `no response (${code ?? 'error'}: ${message ?? ''})` };
  if (response.status >= 500) return { kind: 'unknown', reason: serverErrorReason(response.status, response.data) };
  const body = binanceErrorBody.safeParse(response.data);
  if (!body.success) return { kind: 'unknown', reason: `HTTP ${response.status} without an error code` };
  if (executionUnknownCodes.has(body.data.code)) return { kind: 'unknown', reason: `${body.data.code} ${body.data.msg ?? ''}` };
  const retryAfterSeconds = Number(headerValue(response.headers, 'retry-after'));
  return {
    kind: 'rejected',
    code: body.data.code,
    message: body.data.msg ?? '',
    httpStatus: response.status,
    ...(Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? { retryAfterMs: retryAfterSeconds * 1000 } : {}),
  };
}

/**
 * A 5xx is execution-unknown whatever its body says, but the body's Binance code says why, for whoever reads the order's
 * story: -1008 "Request throttled by system-level protection" comes as HTTP 503 on POST /fapi/v1/order
 * (https://developers.binance.com/en/docs/products/derivatives-trading-usds-futures/error-code;
 * https://github.com/banbox/banbot/issues/114, where that order had in fact been placed). The adapter hands a 5xx's body
 * over as its text (http-adapter.ts): parsed only when short.
 */
function serverErrorReason(status: number, data: unknown): string {
  let body = data;
  if (typeof data === 'string') {
    if (data.length > serverErrorBodyMaxChars) return `HTTP ${status}`;
    try {
      body = JSON.parse(data) as unknown;
    } catch {
      return `HTTP ${status}`;
    }
  }
  const parsed = binanceErrorBody.safeParse(body);
  if (!parsed.success) return `HTTP ${status}`;
  const message = (parsed.data.msg ?? '').slice(0, serverErrorMessageMaxChars);
  return message === '' ? `HTTP ${status} ${parsed.data.code}` : `HTTP ${status} ${parsed.data.code} ${message}`;
}
