// A check a venue adapter runs right before it signs a request (issue 13): the last moment at which a writer can
// still decide not to send. The cluster's lease guard (src/cluster/lease-guard.ts) uses it so that a worker paused
// past its lease cannot get a request accepted after a successor took over: the recvWindow it signs with ends
// before its lease does. Without a guard (one process, SQLite) requests are signed exactly as before.

/** Thrown by a guard: the request was neither signed nor sent (the adapter reports it as not sent). */
export class RequestNotSentError extends Error {
  override name = 'RequestNotSentError';
}

export interface SignGuard {
  /**
   * The recvWindow (ms) to sign this request with, at most `configuredMs`; throws RequestNotSentError when the
   * request must not go out at all.
   */
  recvWindowMs(configuredMs: number): number;
}
