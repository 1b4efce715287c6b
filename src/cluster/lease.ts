import type { Clock } from '../engine/clock.js';
import type { PartitionKeys } from '../log/partition.js';
import type { LogFence, StaleLeaseError } from '../log/redis-fence.js';
import { runScript, script } from '../log/redis-fence.js';
import type { RedisConnection } from '../log/redis-connection.js';
import type { LeaseBounds } from './lease-rules.js';
import {
  assertLeaseBounds,
  defaultLeaseBounds,
  leaseHeldUntilAfterRenewalMs,
  leaseHeldUntilMs,
  leaseRemainingMs,
  leaseValue,
  parseLeaseValue,
} from './lease-rules.js';

// A writer's lease on one partition, with fencing (issue 13). Claim: if nobody holds the lease, INCR the
// partition's token counter and SET the lease to `<token>|<owner>` with NX and a PX TTL, in one script (both
// keys carry the partition's hash tag: one slot). The counter is never reset, so every claim's token is greater
// than all before it. The holder renews well before expiry (only while the value is still its own); every commit
// of the partition checks the value atomically (src/log/redis-commit.ts). Once the lease is lost (a renewal
// finds another value, the local view ends, or Redis refuses a commit) the holder calls onLost once and never
// writes again: the worker drops the partition at once.

/** A clock that never jumps: leases measure durations, and a wall-clock step must not extend one. */
export const monotonicClock: Clock = { nowMs: () => performance.now() };

const claimScript = script(`if redis.call('EXISTS', KEYS[1]) == 1 then
  return false
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. '|' .. ARGV[1], 'NX', 'PX', ARGV[2])
return token`);

const renewScript = script(`if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`);

const releaseScript = script(`if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`);

/** Who holds a partition's lease now, as stored (for inspection and tests). */
export async function readLease(conn: RedisConnection, keys: PartitionKeys): Promise<{ token: number; owner: string; ttlMs: number } | null> {
  const [value, ttlMs] = await Promise.all([conn.get(keys.lease), conn.pTTL(keys.lease)]);
  const parsed = value === null ? null : parseLeaseValue(String(value));
  return parsed && { ...parsed, ttlMs: Number(ttlMs) };
}

/** The last token handed out for the partition (0 if none yet). */
export async function lastLeaseToken(conn: RedisConnection, keys: PartitionKeys): Promise<number> {
  return Number((await conn.get(keys.leaseToken)) ?? 0);
}

export interface PartitionLease extends LogFence {
  readonly token: number;
  readonly owner: string;
  /** Milliseconds this writer may still act as the owner (0 once lost). */
  remainingMs(): number;
  isLost(): boolean;
  /** Stops renewing and frees the lease in Redis if it is still this writer's. */
  release(): Promise<void>;
}

export interface LeaseOptions {
  conn: RedisConnection;
  keys: PartitionKeys;
  /** Unique per process run (never reused after a restart): two claims can then never store the same value. */
  owner: string;
  bounds?: Partial<LeaseBounds>;
  clock?: Clock;
  /** Called once when the lease is lost; the writer must stop writing the partition at once. */
  onLost: (reason: string) => void;
  /** false: no renewal timer (tests drive renew() themselves, or play a worker paused past its lease). */
  autoRenew?: boolean;
}

/** Claims the partition's lease; null if someone else holds it. */
export async function claimLease(opts: LeaseOptions): Promise<(PartitionLease & { renew(): Promise<boolean> }) | null> {
  const bounds: LeaseBounds = { ...defaultLeaseBounds, ...opts.bounds };
  assertLeaseBounds(bounds);
  if (opts.owner.length === 0 || opts.owner.includes('|')) throw new Error(`bad lease owner ${JSON.stringify(opts.owner)}`);
  const clock = opts.clock ?? monotonicClock;
  const { conn, keys } = opts;
  const askedAtMs = clock.nowMs();
  const reply = await runScript(conn, claimScript, [keys.lease, keys.leaseToken], [opts.owner, String(bounds.leaseTtlMs)]);
  if (reply === null || reply === false) return null;
  const token = Number(reply);
  const value = leaseValue(token, opts.owner);
  let heldUntilMs = leaseHeldUntilMs(askedAtMs, bounds);
  let lost: string | null = null;
  let timer: NodeJS.Timeout | null = null;

  function lose(reason: string, notify = true): void {
    if (lost !== null) return;
    lost = reason;
    if (timer) clearTimeout(timer);
    timer = null;
    if (notify) opts.onLost(reason);
  }

  function held(): boolean {
    if (lost === null && clock.nowMs() >= heldUntilMs) lose('the lease ran out before a renewal succeeded');
    return lost === null;
  }

  async function renew(): Promise<boolean> {
    if (!held()) return false;
    const sentAtMs = clock.nowMs();
    const renewed = await runScript(conn, renewScript, [keys.lease], [value, String(bounds.leaseTtlMs)]).then(
      (r) => Number(r) === 1,
      () => null, // Redis unreachable: try again next beat, until the local view ends
    );
    if (renewed === true && lost === null) heldUntilMs = leaseHeldUntilAfterRenewalMs(heldUntilMs, sentAtMs, bounds);
    if (renewed === false) lose('the lease is held by another writer or expired');
    return held();
  }

  function schedule(): void {
    timer = setTimeout(() => {
      void renew().then((ok) => ok && schedule());
    }, bounds.leaseRenewEveryMs);
    timer.unref();
  }
  if (opts.autoRenew !== false) schedule();

  return {
    token,
    owner: opts.owner,
    renew,
    current: () => (held() ? value : null),
    refused: (error: StaleLeaseError) => lose(error.message),
    remainingMs: () => (held() ? leaseRemainingMs(heldUntilMs, clock.nowMs()) : 0),
    isLost: () => !held(),
    async release() {
      const wasHeld = lost === null;
      lose('released', false); // given up, not lost: no onLost
      if (wasHeld) await runScript(conn, releaseScript, [keys.lease], [value]).catch(() => undefined); // else it expires
    },
  };
}
