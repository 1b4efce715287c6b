// Per-user command rate limit: a token bucket of `ratePerMin` tokens, refilled continuously at ratePerMin per
// minute. The bucket arithmetic is pure (time is an argument); the limiter around it holds the buckets and
// reads the injected clock.

const msPerMinute = 60_000;

export interface Bucket {
  tokens: number;
  updatedAtMs: number;
  /** A command was refused since the last one allowed: the user has had the slow-down notice for this burst. */
  refusing: boolean;
}

export interface TakeResult {
  allowed: boolean;
  bucket: Bucket;
  /** When not allowed: how long until one token is back. 0 when allowed. */
  retryInMs: number;
  /** Refused, and the first refusal since the last command allowed (the one that gets the notice). */
  firstRefusal: boolean;
}

/** Pure: refills `bucket` up to `nowMs`, then takes one token if there is one. A missing bucket is full. */
export function takeToken(bucket: Bucket | undefined, nowMs: number, ratePerMin: number): TakeResult {
  const capacity = ratePerMin;
  const refillPerMs = ratePerMin / msPerMinute;
  const current = bucket ?? { tokens: capacity, updatedAtMs: nowMs, refusing: false };
  // A clock stepping back never mints tokens.
  const elapsedMs = Math.max(0, nowMs - current.updatedAtMs);
  const tokens = Math.min(capacity, current.tokens + elapsedMs * refillPerMs);
  const updatedAtMs = Math.max(nowMs, current.updatedAtMs);
  if (tokens >= 1) return { allowed: true, bucket: { tokens: tokens - 1, updatedAtMs, refusing: false }, retryInMs: 0, firstRefusal: false };
  return {
    allowed: false,
    bucket: { tokens, updatedAtMs, refusing: true },
    retryInMs: Math.ceil((1 - tokens) / refillPerMs),
    firstRefusal: !current.refusing,
  };
}

/** Users whose buckets are kept; beyond this the least recently seen is dropped (it comes back full). */
export const maxTrackedUsers = 10_000;

export interface RateLimiter {
  take(userKey: string): TakeResult;
}

export function createRateLimiter(ratePerMin: number, clock: () => number, maxUsers = maxTrackedUsers): RateLimiter {
  const buckets = new Map<string, Bucket>();
  return {
    take(userKey) {
      const result = takeToken(buckets.get(userKey), clock(), ratePerMin);
      buckets.delete(userKey); // re-insert: Map order = least recently seen first
      buckets.set(userKey, result.bucket);
      if (buckets.size > maxUsers) {
        const oldest = buckets.keys().next();
        if (!oldest.done) buckets.delete(oldest.value);
      }
      return result;
    },
  };
}
