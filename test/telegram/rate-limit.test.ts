import { describe, expect, it } from 'vitest';
import { createRateLimiter, takeToken } from '../../src/services/telegram/rate-limit.js';

describe('token bucket', () => {
  it('allows a burst of ratePerMin, then refuses until a token is back', () => {
    let bucket;
    for (let i = 0; i < 3; i += 1) {
      const r = takeToken(bucket, 1_000, 3);
      expect(r.allowed).toBe(true);
      bucket = r.bucket;
    }
    const refused = takeToken(bucket, 1_000, 3);
    expect(refused.allowed).toBe(false);
    expect(refused.retryInMs).toBe(20_000); // 3 per minute: one token every 20 s
    expect(takeToken(refused.bucket, 20_999, 3).allowed).toBe(false);
    expect(takeToken(refused.bucket, 21_000, 3).allowed).toBe(true);
  });

  it('never holds more than ratePerMin tokens and mints nothing when the clock steps back', () => {
    const idle = takeToken({ tokens: 0, updatedAtMs: 0, refusing: false }, 10 * 60_000, 5);
    expect(idle.bucket.tokens).toBe(4); // refilled to 5 (capped), one taken
    const back = takeToken({ tokens: 0.5, updatedAtMs: 50_000, refusing: false }, 10_000, 5);
    expect(back.allowed).toBe(false);
    expect(back.bucket.tokens).toBe(0.5);
  });

  it('marks only the first refusal of a burst, and again after a command was allowed', () => {
    let now = 0;
    const limiter = createRateLimiter(1, () => now);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a')).toMatchObject({ allowed: false, firstRefusal: true });
    expect(limiter.take('a')).toMatchObject({ allowed: false, firstRefusal: false });
    expect(limiter.take('a')).toMatchObject({ allowed: false, firstRefusal: false });
    now += 60_000;
    expect(limiter.take('a')).toMatchObject({ allowed: true, firstRefusal: false });
    expect(limiter.take('a')).toMatchObject({ allowed: false, firstRefusal: true });
  });

  it('limits each user separately, on the injected clock', () => {
    let now = 0;
    const limiter = createRateLimiter(2, () => now);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
    now += 30_000;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('stays bounded in the number of users tracked', () => {
    const limiter = createRateLimiter(1, () => 0, 2);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('b').allowed).toBe(true);
    expect(limiter.take('c').allowed).toBe(true); // evicts a (least recently seen)
    expect(limiter.take('c').allowed).toBe(false);
    expect(limiter.take('a').allowed).toBe(true); // came back with a full bucket
  });
});
