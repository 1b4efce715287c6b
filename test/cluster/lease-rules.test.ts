import { describe, expect, it } from 'vitest';
import * as rules from '../../src/cluster/lease-rules.js';

const { assertLeaseBounds, defaultLeaseBounds, leaseHeldUntilAfterRenewalMs, leaseHeldUntilMs, leaseRemainingMs, leaseValue, parseLeaseValue } = rules;

describe('lease rules', () => {
  it('accepts the default bounds and refuses a renewal too rare to survive one failed try', () => {
    expect(() => assertLeaseBounds(defaultLeaseBounds)).not.toThrow();
    expect(() => assertLeaseBounds({ leaseTtlMs: 3_000, leaseRenewEveryMs: 1_500, leaseSafetyMarginMs: 300 })).toThrow(/fewer than 2 tries/);
    expect(() => assertLeaseBounds({ leaseTtlMs: 0, leaseRenewEveryMs: 1, leaseSafetyMarginMs: 0 })).toThrow(/bad lease bounds/);
  });

  it('ends the local view a safety margin before the TTL, counted from when the request was sent', () => {
    const until = leaseHeldUntilMs(1_000, defaultLeaseBounds);
    expect(until).toBe(1_000 + 3_000 - 300);
    expect(leaseRemainingMs(until, 1_000)).toBe(2_700);
    expect(leaseRemainingMs(until, 10_000)).toBe(0);
  });

  it('extends the view by a renewal from when it was sent, and never shortens it', () => {
    const until = leaseHeldUntilMs(1_000, defaultLeaseBounds);
    expect(leaseHeldUntilAfterRenewalMs(until, 2_000, defaultLeaseBounds)).toBe(2_000 + 3_000 - 300);
    // The answer to an older renewal arriving late leaves the view where the newer one put it.
    expect(leaseHeldUntilAfterRenewalMs(leaseHeldUntilMs(2_000, defaultLeaseBounds), 1_500, defaultLeaseBounds)).toBe(2_000 + 3_000 - 300);
  });

  it('stores the token before the owner and reads back only well-formed values', () => {
    expect(parseLeaseValue(leaseValue(42, 'worker-a|x'))).toEqual({ token: 42, owner: 'worker-a|x' });
    for (const bad of ['', '|a', 'x|a', '1.5|a', 'nobar']) expect(parseLeaseValue(bad)).toBeNull();
  });
});
