import { notSentCode } from '../../model/orders.js';
import { RequestNotSentError } from '../sign-guard.js';
import type { FailureAnswer, Failure } from './calls.js';
import type { AccountMethod, AccountResult } from './protocol.js';

// What each port method answers when the adapter's thread cannot: the same answers the in-thread adapter gives
// (account.ts) for a request it did not send (over the bound) or may have sent (the thread died with it in flight).
// Outcome methods keep "never reject": not sent is the shape account.ts gives a request its sign guard or request
// slots refused, lost is "unknown" (it may have reached the exchange: the engine resolves it by querying). Methods
// that throw on failure reject: RequestNotSentError when nothing was sent, a plain Error when the thread was lost.

const rejectedNotSent = (reason: string) => ({ kind: 'rejected' as const, code: notSentCode, message: `not sent: ${reason}` });
const unknown = (reason: string) => ({ kind: 'unknown' as const, reason });
/** Rejected as not sent when it was not, unknown when it may have been. */
const notSentOrUnknown = (f: Failure) => ({ value: f.kind === 'not_sent' ? rejectedNotSent(f.reason) : unknown(f.reason) });
/** Always unknown: account.ts answers these so for a request not sent too (a query, a stop the core must place again). */
const alwaysUnknown = (f: Failure) => ({ value: unknown(f.kind === 'not_sent' ? `${notSentCode} not sent: ${f.reason}` : f.reason) });

export class ExchangeThreadLostError extends Error {
  override name = 'ExchangeThreadLostError';
}

export function rejection(f: Failure): { error: Error } {
  return { error: f.kind === 'not_sent' ? new RequestNotSentError(f.reason) : new ExchangeThreadLostError(f.reason) };
}

/** Closing needs nothing from a thread that is gone. */
const closed = () => ({ value: undefined });

export const accountFailure: { [M in AccountMethod]: (f: Failure) => FailureAnswer<AccountResult<M>> } = {
  placeOrder: notSentOrUnknown,
  cancelOrder: notSentOrUnknown,
  queryOrder: alwaysUnknown,
  queryOrderByExchangeId: alwaysUnknown,
  placeProtectiveStop: alwaysUnknown,
  cancelProtectiveStop: notSentOrUnknown,
  setLeverage: notSentOrUnknown,
  setMarginType: notSentOrUnknown,
  getPositions: rejection,
  getOpenOrders: rejection,
  listProtectiveStops: rejection,
  readMarginState: rejection,
  listTrades: rejection,
  listIncome: rejection,
  close: closed,
};
