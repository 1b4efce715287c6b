import type { AccountCredentials, ExchangeAccount, MarketData } from '../port.js';
import type { RateBudget } from '../rate-budget.js';
import type { BinanceConnectorOptions } from '../binance/connector.js';
import type { BookTicker } from '../../model/market.js';
import type { OrderSnapshot } from '../../model/orders.js';
import type { FundingPayment, PositionSnapshot } from '../../model/positions.js';
import type { ProtectiveStopUpdate } from '../../model/protective-stops.js';
import type { WireError } from './wire-error.js';

// The one contract between the engine thread and the exchange adapter's thread (connector.ts, worker.ts): every
// message either way is one of the unions below, so both sides are checked against the same shapes. Values cross by
// structured clone: the port's values are plain data (decimal strings, numbers, plain objects), which clone exactly.

/** The ExchangeAccount methods forwarded as calls (subscriptions have their own messages). */
export type AccountMethod =
  | 'placeOrder'
  | 'cancelOrder'
  | 'queryOrder'
  | 'queryOrderByExchangeId'
  | 'getPositions'
  | 'getOpenOrders'
  | 'placeProtectiveStop'
  | 'cancelProtectiveStop'
  | 'listProtectiveStops'
  | 'readMarginState'
  | 'listTrades'
  | 'listIncome'
  | 'setLeverage'
  | 'setMarginType'
  | 'close';

export type MarketMethod = 'getSymbolFilters' | 'close';

type Fn<T> = T extends (...args: infer A) => infer R ? { args: A; result: Awaited<R> } : never;
export type AccountArgs<M extends AccountMethod> = Fn<NonNullable<ExchangeAccount[M]>>['args'];
export type AccountResult<M extends AccountMethod> = Fn<NonNullable<ExchangeAccount[M]>>['result'];
export type MarketArgs<M extends MarketMethod> = Fn<MarketData[M]>['args'];

/** A call id, unique per connector: the answer names it. A subscription is known by the id of the call that opened it. */
export type CallId = number;
/** A market data or account object made in the worker, named by the engine thread when it made its proxy. */
export type HandleId = number;

export type CallTarget =
  | { [M in AccountMethod]: { target: 'account'; method: M; args: AccountArgs<M> } }[AccountMethod]
  | { [M in MarketMethod]: { target: 'market'; method: M; args: MarketArgs<M> } }[MarketMethod];

/** Which of the user stream's optional callbacks the engine thread has: only those are given to the real stream. */
export interface NewsWanted {
  funding: boolean;
  gap: boolean;
  positions: boolean;
  stopUpdate: boolean;
}

export type ToWorker =
  | { type: 'market'; handle: HandleId }
  | { type: 'account'; handle: HandleId; credentials: AccountCredentials }
  /** The engine thread dropped its proxy of `handle` (garbage-collected): the worker drops the real object too. */
  | { type: 'release'; handle: HandleId }
  | ({ type: 'call'; id: CallId; handle: HandleId } & CallTarget)
  | { type: 'subscribe-book'; id: CallId; handle: HandleId; symbols: readonly string[] }
  | { type: 'subscribe-orders'; id: CallId; handle: HandleId; wanted: NewsWanted }
  /** Closes the subscription opened by call `subscription`; answered as call `id`. */
  | { type: 'unsubscribe'; id: CallId; subscription: CallId }
  | { type: 'budget-answer'; id: CallId; answer: Answer };

export type Answer = { ok: true; value: unknown } | { ok: false; error: WireError };

/** What a subscription pushes, in the order the worker saw it. */
export type StreamEvent =
  | { kind: 'tick'; tick: BookTicker }
  | { kind: 'order'; order: OrderSnapshot }
  | { kind: 'funding'; payment: FundingPayment }
  | { kind: 'gap'; reason: string }
  | { kind: 'positions'; positions: PositionSnapshot[] }
  | { kind: 'stop-update'; update: ProtectiveStopUpdate };

export type BudgetMethod = Exclude<keyof RateBudget, 'close'>;

export type FromWorker =
  | { type: 'answer'; id: CallId; answer: Answer }
  | { type: 'event'; subscription: CallId; event: StreamEvent }
  /** The worker's proxy budget asks the engine thread's budget (rate-budget.ts); answered by a budget-answer. */
  | { type: 'budget'; id: CallId; method: BudgetMethod; args: readonly unknown[] }
  /** One pino record (JSON) of the worker's logger, to be written by the engine thread's logger. */
  | { type: 'log'; line: string };

/** What the worker is started with: the connector's options that clone (the budget and logger are proxied). */
export interface WorkerSetup {
  options: Omit<BinanceConnectorOptions, 'rateBudget' | 'logger' | 'signGuard'>;
  /** Whether the engine thread has a budget for the worker's proxy to ask. */
  budget: boolean;
  /** The engine thread's logger level: the worker logs no more than it would write. */
  logLevel: string;
}

export interface ThreadedLimits {
  /**
   * Calls (and subscriptions being opened or closed) sent to the worker and not yet answered, all accounts and market
   * data together. Past it a call is answered as not sent. Above what the worker's own request slots hold (256 in
   * flight + 20 000 waiting, request-slots.ts), so in normal life those refuse first, lane-aware; this bound only
   * catches a worker that stopped answering, so the engine thread's memory does not grow with it.
   */
  maxCallsInFlight: number;
}

export const defaultThreadedLimits: ThreadedLimits = { maxCallsInFlight: 24_000 };
