import type { LeaseBounds } from '../cluster/lease-rules.js';
import { assertLeaseBounds, leaseHeldUntilAfterRenewalMs, leaseHeldUntilMs, leaseRemainingMs, leaseValue } from '../cluster/lease-rules.js';
import type { LogFence, StaleLeaseError } from '../log/redis-fence.js';

// A partition's lease for the deterministic simulation, on the simulated clock: the store side as the Redis
// scripts of src/cluster/lease.ts keep it (claim = SET NX PX with a token from a counter that is never reset,
// renew = PEXPIRE only while the value is still the holder's, release = DEL only if still the holder's, a key
// gone once its TTL has run), and the holder side as claimLease() measures it (its view of the lease starts before
// it asked and ends a safety margin before the TTL would; lease-rules.ts). Both are synchronous: the simulated
// Redis answers at once, and the simulation chooses where a process pauses.

/** The lease key and the token counter of one partition, as Redis holds them. */
export class SimLeaseStore {
  private value: string | null = null;
  private expiresAtMs = 0;
  private tokenCounter = 0;

  constructor(private readonly nowMs: () => number) {}

  /** GET of the lease key: its value while the TTL runs, else null (Redis drops an expired key). */
  current(): string | null {
    return this.value !== null && this.nowMs() < this.expiresAtMs ? this.value : null;
  }

  /** The last token handed out (the counter): every claim's token is greater than all before it. */
  get lastToken(): number {
    return this.tokenCounter;
  }

  /** When the current value expires (simulated ms); in the past once it has. */
  get expiresAt(): number {
    return this.expiresAtMs;
  }

  /** The claim script: nothing if the key exists; else INCR the counter and SET `token|owner` NX PX ttl. */
  claim(owner: string, ttlMs: number): number | null {
    if (this.current() !== null) return null;
    this.tokenCounter += 1;
    this.value = leaseValue(this.tokenCounter, owner);
    this.expiresAtMs = this.nowMs() + ttlMs;
    return this.tokenCounter;
  }

  /** The renew script: PEXPIRE only while the key holds exactly `value`. */
  renew(value: string, ttlMs: number): boolean {
    if (this.current() !== value) return false;
    this.expiresAtMs = this.nowMs() + ttlMs;
    return true;
  }

  /** The release script: DEL only while the key holds exactly `value`. */
  release(value: string): void {
    if (this.current() === value) this.value = null;
  }
}

/** A writer's lease as claimLease() keeps it: its own view of how long it holds it, and the fence its writes carry. */
export class SimLeaseHolder implements LogFence {
  readonly value: string;
  private heldUntilMs: number;
  private lost: string | null = null;

  private constructor(
    private readonly store: SimLeaseStore,
    readonly token: number,
    readonly owner: string,
    askedAtMs: number,
    private readonly bounds: LeaseBounds,
    private readonly nowMs: () => number,
    private readonly onLost: (reason: string) => void,
  ) {
    this.value = leaseValue(token, owner);
    this.heldUntilMs = leaseHeldUntilMs(askedAtMs, bounds);
  }

  /** Claims the lease for `owner`; null while someone else's value is in the store. */
  static claim(store: SimLeaseStore, owner: string, bounds: LeaseBounds, nowMs: () => number, onLost: (reason: string) => void): SimLeaseHolder | null {
    assertLeaseBounds(bounds);
    const askedAtMs = nowMs();
    const token = store.claim(owner, bounds.leaseTtlMs);
    return token === null ? null : new SimLeaseHolder(store, token, owner, askedAtMs, bounds, nowMs, onLost);
  }

  private lose(reason: string): void {
    if (this.lost !== null) return;
    this.lost = reason;
    this.onLost(reason);
  }

  /** Whether the holder's own view still holds (it ends for good once lost). */
  held(): boolean {
    if (this.lost === null && this.nowMs() >= this.heldUntilMs) this.lose('the lease ran out before a renewal succeeded');
    return this.lost === null;
  }

  /** One renewal beat; `reachable` false plays a renewal that did not get through (Redis unreachable, a starved timer). */
  renew(reachable: boolean): boolean {
    if (!this.held()) return false;
    const sentAtMs = this.nowMs();
    if (!reachable) return this.held();
    if (this.store.renew(this.value, this.bounds.leaseTtlMs)) this.heldUntilMs = leaseHeldUntilAfterRenewalMs(this.heldUntilMs, sentAtMs, this.bounds);
    else this.lose('the lease is held by another writer or expired');
    return this.held();
  }

  current(): string | null {
    return this.held() ? this.value : null;
  }

  refused(error: StaleLeaseError): void {
    this.lose(error.message);
  }

  /** Milliseconds this writer may still act as the owner (0 once lost): what bounds a request's recvWindow. */
  remainingMs(): number {
    return this.held() ? leaseRemainingMs(this.heldUntilMs, this.nowMs()) : 0;
  }
}
