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

/** How a worker names itself to the simulator (X-QE-Client): worker, partition and lease token, e.g. `wA/p1/t7`. */
export function workerClientId(workerId: string, partition: number, token: number): string {
  return `${workerId}/p${partition}/t${token}`;
}

export function parseWorkerClientId(clientId: string): { workerId: string; partition: number; token: number } | null {
  const m = /^(.+)\/p(\d+)\/t(\d+)$/.exec(clientId);
  return m ? { workerId: m[1] ?? '', partition: Number(m[2]), token: Number(m[3]) } : null;
}
