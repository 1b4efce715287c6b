import type { SignGuard } from '../exchange/sign-guard.js';
import { RequestNotSentError } from '../exchange/sign-guard.js';
import type { LeaseSignBounds } from './lease-rules.js';
import { defaultLeaseSignBounds, leaseRecvWindowMs } from './lease-rules.js';
import type { PartitionLease } from './lease.js';

// The guard a partition's execution service gives its exchange adapters (issue 13): right before each signed
// request, the lease is checked on the worker's own monotonic clock (lease.ts measures it from when the last
// renewal was sent), and the request is signed with a recvWindow that ends before the lease does, or not sent.

export function leaseSignGuard(lease: Pick<PartitionLease, 'remainingMs'>, bounds: Partial<LeaseSignBounds> = {}): SignGuard {
  const b: LeaseSignBounds = { ...defaultLeaseSignBounds, ...bounds };
  return {
    recvWindowMs(configuredMs) {
      const remainingMs = lease.remainingMs();
      const window = leaseRecvWindowMs(remainingMs, configuredMs, b);
      if (window === null)
        throw new RequestNotSentError(`lease has ${Math.round(remainingMs)} ms left, under ${b.leaseSignMarginMs + b.minSignedRecvWindowMs} ms`);
      return window;
    },
  };
}
