// Request authentication the way Binance does it: X-MBX-APIKEY header, and for SIGNED endpoints an
// HMAC-SHA256 (hex) over "query string + body" without the signature, plus a timestamp/recvWindow check.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { apiErrors } from './errors.js';
import type { SimCredentials } from './types.js';

export interface RawRequestParts {
  rawQuery: string; // without the leading '?'
  rawBody: string; // application/x-www-form-urlencoded
  apiKeyHeader: string | undefined;
}

/** Query-string and body params merged (body wins on clashes, as either may carry them). */
export function mergeParams(parts: RawRequestParts): Map<string, string> {
  const out = new Map<string, string>();
  for (const source of [parts.rawQuery, parts.rawBody]) {
    for (const [k, v] of new URLSearchParams(source)) out.set(k, v);
  }
  return out;
}

// Binance: recvWindow defaults to 5000 and may not exceed 60000; requests more than 1s in the future fail
// (https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info#timing-security). Checked when
// the request arrives: a cluster worker signs with a window that ends before its lease (src/cluster/lease-guard.ts),
// so a request it signed before a pause is refused here once the pause outlasted the lease.
const defaultRecvWindowMs = 5_000;
const maxRecvWindowMs = 60_000;
const maxClockAheadMs = 1_000;

export type SecurityType = 'NONE' | 'USER_STREAM' | 'SIGNED';

/**
 * Returns the account key (the API key) for USER_STREAM/SIGNED calls; throws a Binance error otherwise.
 * Without a credentials table any non-empty key is accepted and signatures are not checked.
 */
export function authenticate(
  security: SecurityType,
  parts: RawRequestParts,
  params: ReadonlyMap<string, string>,
  credentials: SimCredentials | undefined,
  nowMs: number,
): string | undefined {
  if (security === 'NONE') return undefined;
  const apiKey = parts.apiKeyHeader?.trim();
  if (!apiKey) throw apiErrors.apiKeyFormat();
  const secret = secretOf(credentials, apiKey);
  if (credentials && secret === undefined) throw apiErrors.rejectedKey();
  if (security === 'USER_STREAM') return apiKey;

  const timestampText = params.get('timestamp');
  if (!timestampText || !/^\d+$/.test(timestampText)) throw apiErrors.mandatory('timestamp');
  const recvWindowText = params.get('recvWindow');
  const recvWindowMs = recvWindowText === undefined ? defaultRecvWindowMs : Number(recvWindowText);
  if (!Number.isFinite(recvWindowMs) || recvWindowMs <= 0 || recvWindowMs > maxRecvWindowMs) {
    throw apiErrors.badParamValue('recvWindow');
  }
  const timestampMs = Number(timestampText);
  if (timestampMs - nowMs > maxClockAheadMs) throw apiErrors.timestampAhead();
  if (nowMs - timestampMs > recvWindowMs) throw apiErrors.timestampOutside();

  const signature = params.get('signature');
  if (!signature) throw apiErrors.mandatory('signature');
  if (secret !== undefined) {
    const payload = stripSignature(parts.rawQuery) + stripSignature(parts.rawBody);
    if (!hexEqual(sign(payload, secret), signature)) throw apiErrors.badSignature();
  }
  return apiKey;
}

function secretOf(credentials: SimCredentials | undefined, apiKey: string): string | undefined {
  if (credentials === undefined) return undefined;
  if (typeof credentials === 'function') return credentials(apiKey);
  // Own keys only: an API key named "constructor" must not find Object's constructor as its secret.
  return Object.hasOwn(credentials, apiKey) ? credentials[apiKey] : undefined;
}

export function sign(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/** Removes the signature param from a raw (still encoded) param string, leaving the rest byte-identical. */
function stripSignature(raw: string): string {
  if (raw === '') return raw;
  return raw
    .split('&')
    .filter((pair) => !pair.startsWith('signature='))
    .join('&');
}

function hexEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected.toLowerCase());
  const b = Buffer.from(given.toLowerCase());
  return a.length === b.length && timingSafeEqual(a, b);
}
