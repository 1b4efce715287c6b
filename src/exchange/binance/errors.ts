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
  if (response.status >= 500) return { kind: 'unknown', reason: `HTTP ${response.status}` };
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
