import type { ExchangeAccount, MarketData, Subscription, UserStreamNews } from '../port.js';
import type { BookTicker, SymbolFilters } from '../../model/market.js';
import type { OrderSnapshot } from '../../model/orders.js';
import type { FundingPayment } from '../../model/positions.js';
import type { WorkerCalls } from './calls.js';
import { accountFailure, rejection } from './failures.js';
import type { AccountArgs, AccountMethod, AccountResult, CallId, HandleId, StreamEvent, ToWorker } from './protocol.js';

// The engine thread's market data and accounts: each method is one call to the adapter's thread, each subscription
// a stream of events from it, delivered here in the order the thread saw them (one port carries them all).

/** Where a proxy's calls go and its subscriptions' events come from. */
export interface WorkerLink {
  calls: WorkerCalls;
  /** Delivers subscription `id`'s events to `onEvent` until `unlisten(id)`. */
  listen(id: CallId, onEvent: (event: StreamEvent) => void): void;
  unlisten(id: CallId): void;
}

/** Opens a subscription: its events are listened for from the moment the request leaves, so none is missed. */
async function subscribe(link: WorkerLink, make: (id: CallId) => ToWorker, onEvent: (event: StreamEvent) => void): Promise<Subscription> {
  let id: CallId | null = null;
  try {
    await link.calls.send((callId) => {
      id = callId;
      link.listen(callId, onEvent);
      return make(callId);
    }, rejection);
  } catch (error) {
    if (id !== null) link.unlisten(id);
    throw error;
  }
  const subscription = id as CallId | null;
  if (subscription === null) throw new Error('exchange thread: a subscription answered without being sent');
  return {
    async close() {
      // Nothing more is delivered once close is called; events already on their way are dropped.
      link.unlisten(subscription);
      await link.calls.send(
        (callId) => ({ type: 'unsubscribe', id: callId, subscription }),
        () => ({ value: undefined }),
      );
    },
  };
}

export class ThreadedMarketData implements MarketData {
  constructor(
    private readonly link: WorkerLink,
    private readonly handle: HandleId,
  ) {}

  getSymbolFilters(symbols: readonly string[]): Promise<Record<string, SymbolFilters>> {
    return this.link.calls.send((id) => ({ type: 'call', id, handle: this.handle, target: 'market', method: 'getSymbolFilters', args: [symbols] }), rejection);
  }

  subscribeBookTicker(symbols: readonly string[], onTick: (tick: BookTicker) => void): Promise<Subscription> {
    return subscribe(
      this.link,
      (id) => ({ type: 'subscribe-book', id, handle: this.handle, symbols }),
      (event) => {
        if (event.kind === 'tick') onTick(event.tick);
      },
    );
  }

  close(): Promise<void> {
    return this.link.calls.send(
      (id) => ({ type: 'call', id, handle: this.handle, target: 'market', method: 'close', args: [] }),
      () => ({ value: undefined }),
    );
  }
}

export class ThreadedAccount implements ExchangeAccount {
  constructor(
    private readonly link: WorkerLink,
    private readonly handle: HandleId,
    readonly rateKey: string,
  ) {}

  private call<M extends AccountMethod>(method: M, ...args: AccountArgs<M>): Promise<AccountResult<M>> {
    // The cast: TypeScript does not tie M's arguments to M's member of the CallTarget union; AccountArgs<M> does.
    return this.link.calls.send((id) => ({ type: 'call', id, handle: this.handle, target: 'account', method, args }) as ToWorker, accountFailure[method]);
  }

  placeOrder = (...args: AccountArgs<'placeOrder'>) => this.call('placeOrder', ...args);
  cancelOrder = (...args: AccountArgs<'cancelOrder'>) => this.call('cancelOrder', ...args);
  queryOrder = (...args: AccountArgs<'queryOrder'>) => this.call('queryOrder', ...args);
  queryOrderByExchangeId = (...args: AccountArgs<'queryOrderByExchangeId'>) => this.call('queryOrderByExchangeId', ...args);
  getPositions = () => this.call('getPositions');
  getOpenOrders = (...args: AccountArgs<'getOpenOrders'>) => this.call('getOpenOrders', ...args);
  placeProtectiveStop = (...args: AccountArgs<'placeProtectiveStop'>) => this.call('placeProtectiveStop', ...args);
  cancelProtectiveStop = (...args: AccountArgs<'cancelProtectiveStop'>) => this.call('cancelProtectiveStop', ...args);
  listProtectiveStops = (...args: AccountArgs<'listProtectiveStops'>) => this.call('listProtectiveStops', ...args);
  readMarginState = (...args: AccountArgs<'readMarginState'>) => this.call('readMarginState', ...args);
  listTrades = (...args: AccountArgs<'listTrades'>) => this.call('listTrades', ...args);
  listIncome = (...args: AccountArgs<'listIncome'>) => this.call('listIncome', ...args);
  setLeverage = (...args: AccountArgs<'setLeverage'>) => this.call('setLeverage', ...args);
  setMarginType = (...args: AccountArgs<'setMarginType'>) => this.call('setMarginType', ...args);
  close = () => this.call('close');

  subscribeOrderUpdates(onUpdate: (order: OrderSnapshot) => void, onFunding?: (payment: FundingPayment) => void, news?: UserStreamNews): Promise<Subscription> {
    const wanted = {
      funding: onFunding !== undefined,
      gap: news?.onGap !== undefined,
      positions: news?.onPositions !== undefined,
      stopUpdate: news?.onStopUpdate !== undefined,
    };
    return subscribe(
      this.link,
      (id) => ({ type: 'subscribe-orders', id, handle: this.handle, wanted }),
      (event) => {
        if (event.kind === 'order') onUpdate(event.order);
        else if (event.kind === 'funding') onFunding?.(event.payment);
        else if (event.kind === 'gap') news?.onGap?.(event.reason);
        else if (event.kind === 'positions') news?.onPositions?.(event.positions);
        else if (event.kind === 'stop-update') news?.onStopUpdate?.(event.update);
      },
    );
  }
}
