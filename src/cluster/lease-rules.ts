// The pure rules of a partition lease (issue 13): how long a writer may consider itself the owner, and when it
// renews. The lease lives in Redis with a TTL; the writer measures its own view of it from *before* it sent the
// claim or renewal, and ends it a safety margin before the TTL would, so its local view always ends first.
// What makes a stale writer harmless is not this view but the fence in every commit (src/log/redis-commit.ts);
// the view lets a writer stop on its own, and later bounds the recvWindow of what it signs.

export interface LeaseBounds {
  /** The lease's TTL in Redis: a dead writer's partition becomes free this long after its last renewal. */
  leaseTtlMs: number;
  /** A holder renews this often, so several renewals can fail before the lease ends (well before expiry). */
  leaseRenewEveryMs: number;
  /** The local view ends this long before the TTL (clock-rate drift between this host and Redis). */
  leaseSafetyMarginMs: number;
}

export const defaultLeaseBounds: LeaseBounds = { leaseTtlMs: 3_000, leaseRenewEveryMs: 1_000, leaseSafetyMarginMs: 300 };

/** Renewals that may fail in a row before the local view ends (the bounds must allow at least these). */
export const minLeaseRenewalsPerTtl = 2;

export function assertLeaseBounds(b: LeaseBounds): void {
  if (!(b.leaseTtlMs > 0 && b.leaseRenewEveryMs > 0 && b.leaseSafetyMarginMs >= 0)) throw new Error(`bad lease bounds ${JSON.stringify(b)}`);
  if (b.leaseRenewEveryMs * minLeaseRenewalsPerTtl > b.leaseTtlMs - b.leaseSafetyMarginMs) {
    throw new Error(`lease renewal every ${b.leaseRenewEveryMs} ms leaves fewer than ${minLeaseRenewalsPerTtl} tries in a ${b.leaseTtlMs} ms lease`);
  }
}

/** The value stored under the lease key: the fencing token, then the owner (unique per process run). */
export function leaseValue(token: number, owner: string): string {
  return `${token}|${owner}`;
}

export function parseLeaseValue(value: string): { token: number; owner: string } | null {
  const bar = value.indexOf('|');
  const token = Number(value.slice(0, bar));
  if (bar < 1 || !Number.isSafeInteger(token)) return null;
  return { token, owner: value.slice(bar + 1) };
}

/** Until when the writer may consider a lease claimed or renewed by a request sent at `askedAtMs` its own. */
export function leaseHeldUntilMs(askedAtMs: number, b: LeaseBounds): number {
  return askedAtMs + b.leaseTtlMs - b.leaseSafetyMarginMs;
}

/**
 * The writer's view after a renewal sent at `sentAtMs` succeeded: extended from when it was sent (Redis may have
 * applied it any time after), never shortened (a slow answer to an earlier renewal must not undo a later one).
 */
export function leaseHeldUntilAfterRenewalMs(heldUntilMs: number, sentAtMs: number, b: LeaseBounds): number {
  return Math.max(heldUntilMs, leaseHeldUntilMs(sentAtMs, b));
}

/** Milliseconds the writer may still act as the owner (0 once its view ended). */
export function leaseRemainingMs(heldUntilMs: number, nowMs: number): number {
  return Math.max(0, heldUntilMs - nowMs);
}

/**
 * What a lease holder may sign (issue 13): a signed request is accepted only until its timestamp + recvWindow
 * (Binance's timing security: https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info#timing-security;
 * recvWindow defaults to 5 000 ms and may not exceed 60 000 ms), so a window that ends before the lease's local
 * view does keeps a worker paused after signing from getting the request accepted once a successor holds the
 * partition. The margin covers what the lease view does not: the error of the clock offset to the exchange (half
 * the sync's round trip) and the exchange's own delay between its window check and the order book.
 */
export interface LeaseSignBounds {
  /** Kept between the end of a signed request's recvWindow and the end of the lease's local view. */
  leaseSignMarginMs: number;
  /** A shorter window would be refused by the network alone: below it the request is not sent at all. */
  minSignedRecvWindowMs: number;
}

export const defaultLeaseSignBounds: LeaseSignBounds = { leaseSignMarginMs: 500, minSignedRecvWindowMs: 100 };

/** The recvWindow to sign with while `remainingMs` of the lease is left, or null: do not send. */
export function leaseRecvWindowMs(remainingMs: number, configuredMs: number, b: LeaseSignBounds): number | null {
  const window = Math.floor(Math.min(configuredMs, remainingMs - b.leaseSignMarginMs));
  return window >= b.minSignedRecvWindowMs ? window : null;
}
