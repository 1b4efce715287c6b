import type { ExchangeAccount } from '../exchange/port.js';
import { SimApiError } from '../paper-exchange/errors.js';
import { authenticate, mergeParams } from '../paper-exchange/signing.js';
import type { SimLeaseHolder, SimLeaseStore } from './sim-lease.js';

// A worker's requests to the exchange under its partition lease (issue 13): right before signing a request the
// worker re-checks its lease, and signs it with a recvWindow no longer than what is left of its own view of the
// lease; the exchange refuses (-1021) a request that arrives after timestamp + recvWindow. Since that view ends a
// safety margin before the lease's TTL in Redis, and a successor can claim only once the TTL has run, a request of
// a worker paused past its lease between signing and arrival can no longer be accepted once a successor took over.
// The exchange's side is the paper exchange's own rule (paper-exchange/signing.ts); Binance's timing security:
// https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info (recvWindow defaults to 5000).

/** The recvWindow a worker asks for when its lease leaves more time than that (Binance's default, ms). */
export const defaultRecvWindowMs = 5_000;

/** A request the worker did not sign: its own view of the lease had ended. Nothing was sent. */
export class LeaseNotHeldError extends Error {
  override name = 'LeaseNotHeldError';
}

/** Where the worker's request waits between signing and arrival: a paused process holds it there. */
export type InFlightPause = () => Promise<void>;

export interface SignedAccountHooks {
  holder: SimLeaseHolder;
  store: SimLeaseStore;
  nowMs: () => number;
  /** Between signing and arrival (only for requests that change orders): the simulation may pause the worker here. */
  inFlight: InFlightPause;
  /**
   * A broken worker (to show the invariant catches it): 'window' bounds no recvWindow by the lease, 'all' also signs
   * without re-checking the lease.
   */
  brokenSigning: 'none' | 'window' | 'all';
  /** An order-changing request passed the exchange's checks while its signer's lease was not current: the invariant failed. */
  onStaleWriteArrived: (what: string) => void;
  counts: { notSigned: number; lateRefused: number };
}

interface Signature {
  timestampMs: number;
  recvWindowMs: number;
}

/** `account` as one worker reaches it: every signed request re-checks the lease and carries a bounded recvWindow. */
export function signedAccount(account: ExchangeAccount, hooks: SignedAccountHooks): ExchangeAccount {
  const key = account.rateKey ?? 'sim';
  const sign = (): Signature => {
    const timestampMs = hooks.nowMs();
    if (hooks.brokenSigning === 'all') return { timestampMs, recvWindowMs: defaultRecvWindowMs };
    const remainingMs = hooks.holder.remainingMs();
    if (remainingMs <= 0) {
      hooks.counts.notSigned += 1;
      throw new LeaseNotHeldError(`${hooks.holder.owner}: lease ${hooks.holder.token} no longer held, request not signed`);
    }
    return { timestampMs, recvWindowMs: hooks.brokenSigning === 'window' ? defaultRecvWindowMs : Math.min(defaultRecvWindowMs, remainingMs) };
  };
  /** The exchange's timing check on arrival, as the paper exchange makes it (throws -1021 when too late). */
  const arrive = (s: Signature): void => {
    const parts = { rawQuery: `timestamp=${s.timestampMs}&recvWindow=${s.recvWindowMs}&signature=sim`, rawBody: '', apiKeyHeader: key };
    try {
      authenticate('SIGNED', parts, mergeParams(parts), undefined, hooks.nowMs());
    } catch (error) {
      if (error instanceof SimApiError && error.code === -1021) hooks.counts.lateRefused += 1;
      throw error;
    }
  };
  const signed =
    <A extends unknown[], R>(name: string, changesOrders: boolean, request: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const signature = sign();
      if (changesOrders) await hooks.inFlight();
      arrive(signature);
      if (changesOrders && hooks.store.current() !== hooks.holder.value)
        hooks.onStaleWriteArrived(
          `${name} of ${hooks.holder.owner} (token ${hooks.holder.token}) reached the exchange while the lease is ${hooks.store.current()}`,
        );
      return request(...args);
    };
  return {
    rateKey: key,
    placeOrder: signed('placeOrder', true, account.placeOrder),
    cancelOrder: signed('cancelOrder', true, account.cancelOrder),
    placeProtectiveStop: signed('placeProtectiveStop', true, account.placeProtectiveStop),
    cancelProtectiveStop: signed('cancelProtectiveStop', true, account.cancelProtectiveStop),
    queryOrder: signed('queryOrder', false, account.queryOrder),
    getPositions: signed('getPositions', false, account.getPositions),
    getOpenOrders: signed('getOpenOrders', false, account.getOpenOrders),
    listProtectiveStops: signed('listProtectiveStops', false, account.listProtectiveStops),
    ...(account.queryOrderByExchangeId && { queryOrderByExchangeId: signed('queryOrderByExchangeId', false, account.queryOrderByExchangeId) }),
    ...(account.listTrades && { listTrades: signed('listTrades', false, account.listTrades) }),
    ...(account.listIncome && { listIncome: signed('listIncome', false, account.listIncome) }),
    subscribeOrderUpdates: account.subscribeOrderUpdates,
    close: async () => undefined, // the world's account outlives every worker
  };
}
