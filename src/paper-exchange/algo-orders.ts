// Conditional orders through Binance's Algo Service (since 2025-12, STOP_MARKET & co. are placed with
// POST /fapi/v1/algoOrder, not /fapi/v1/order): CONDITIONAL STOP_MARKET, TAKE_PROFIT_MARKET, STOP and TAKE_PROFIT
// (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Algo-Order), closePosition,
// reduce-only or plain quantity, triggered on the contract price ("workingType: triggerPrice triggered by: MARK_PRICE,
// CONTRACT_PRICE. Default CONTRACT_PRICE", the same page): the last trade's price. Here that is a trade the market
// printed where there are prints (a backtest's aggTrades, onPrint), and the touch otherwise (the walk prints no trades
// of others; a touch through the trigger stands for the trade that would follow). Not modelled: TRAILING_STOP_MARKET,
// workingType MARK_PRICE, priceProtect, priceMatch, hedge-mode position sides.
import { formatUnits, parseDecimal } from '../model/decimal.js';
import { apiErrors } from './errors.js';
import type { MatchingEngine, SimOrder, SimSide, SimTimeInForce } from './matching.js';
import type { SymbolMarket } from './price-process.js';
import { required } from './order-validation.js';
import { ForgettingQueue } from './order-forgetting.js';
import { algoFoundByQuery, algoIsOpen } from './order-retention.js';

/**
 * Algo statuses as ALGO_UPDATE reports them
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Algo-Order-Update):
 * NEW (resting in the Algo Service), CANCELED, TRIGGERED (its order is placed in the matching engine; `ai` names
 * that order), FINISHED (the triggered order filled or was canceled), EXPIRED (canceled by the system: here, a
 * closePosition stop with no position left to close).
 */
export type AlgoStatus = 'NEW' | 'CANCELED' | 'TRIGGERED' | 'FINISHED' | 'EXPIRED';

/** Told of every status change of a conditional order, to push it as ALGO_UPDATE. */
export type AlgoListener = (order: AlgoOrder, nowMs: number) => void;

/** The conditional types served; the *_MARKET ones place a MARKET order when triggered, STOP and TAKE_PROFIT a LIMIT. */
export type AlgoOrderType = 'STOP_MARKET' | 'TAKE_PROFIT_MARKET' | 'STOP' | 'TAKE_PROFIT';
const algoOrderTypes: readonly string[] = ['STOP_MARKET', 'TAKE_PROFIT_MARKET', 'STOP', 'TAKE_PROFIT'];
/** timeInForce of a STOP / TAKE_PROFIT's limit order: "IOC or GTC or FOK, default GTC" (page above; GTX as on /fapi/v1/order). */
const algoTimesInForce: readonly string[] = ['GTC', 'IOC', 'FOK', 'GTX'];

export interface AlgoOrder {
  algoId: number;
  clientAlgoId: string;
  accountKey: string;
  symbol: string;
  side: SimSide;
  orderType: AlgoOrderType;
  triggerUnits: bigint;
  /** Limit price of STOP / TAKE_PROFIT; 0 for the market types. */
  priceUnits: bigint;
  timeInForce: SimTimeInForce;
  closePosition: boolean;
  reduceOnly: boolean;
  qtyUnits: bigint;
  status: AlgoStatus;
  /** The order id of the order its trigger placed in the matching engine (ALGO_UPDATE `ai`). */
  actualOrderId?: number;
  createTime: number;
  updateTime: number;
}

/** Client order id of the order a triggered algo order places in the matching engine. */
function triggeredClientOrderId(algoId: number): string {
  return `algo-${algoId}`;
}

const clientAlgoIdPattern = /^[.A-Z:/a-z0-9_-]{1,36}$/;

/**
 * Stops trigger when the price moves against the position they protect, take-profits when it moves for it: a SELL
 * STOP fires at or below its trigger, a SELL TAKE_PROFIT at or above; BUY the other way round.
 */
function triggersAtOrBelow(order: Pick<AlgoOrder, 'orderType' | 'side'>): boolean {
  return order.orderType.startsWith('STOP') === (order.side === 'SELL');
}

/** Whether a price has reached the trigger. */
function reached(order: Pick<AlgoOrder, 'orderType' | 'side' | 'triggerUnits'>, priceUnits: bigint): boolean {
  return triggersAtOrBelow(order) ? priceUnits <= order.triggerUnits : priceUnits >= order.triggerUnits;
}

/** Whether the touch has reached the trigger: a sell is judged on the bid, a buy on the ask. */
function crossed(order: Pick<AlgoOrder, 'orderType' | 'side' | 'triggerUnits'>, market: SymbolMarket): boolean {
  return reached(order, order.side === 'SELL' ? market.top.bidUnits : market.top.askUnits);
}

const isDone = (order: SimOrder): boolean => order.status !== 'NEW' && order.status !== 'PARTIALLY_FILLED';

/** Filters of GET /fapi/v1/allAlgoOrders. */
export interface AlgoHistoryQuery {
  symbol: string;
  /** The exchange's time: orders Binance no longer finds are left out (order-retention.ts). */
  nowMs: number;
  algoId?: number;
  startTime?: number;
  endTime?: number;
  limit: number;
}

/** One account's conditional orders, indexed for the requests that name one of them or list its open ones. */
interface AccountAlgos {
  /** In placement order (ids ascend). */
  byAlgoId: Map<number, AlgoOrder>;
  byClientAlgoId: Map<string, AlgoOrder>;
  /** Still NEW, in placement order. */
  open: Set<AlgoOrder>;
}

export class AlgoBook {
  /**
   * Every conditional order, in placement order, for a run that checks them all (the simulation); null for an
   * exchange that forgets them (the simulator server): all() then reads the accounts.
   */
  private readonly orders: AlgoOrder[] | null;
  /** The orders still to be forgotten once Binance would no longer find them (order-forgetting.ts); null: none are. */
  private readonly forgetting: ForgettingQueue<AlgoOrder> | null;
  /** Told of the orders forgotten (the server's store deletes their rows). */
  private readonly onForgotten: (orders: readonly AlgoOrder[]) => void;
  /**
   * The orders still NEW, per symbol, in placement order: what a price change may fire. A pass over every order ever
   * placed, at every quote, cost a backtest with a stop-loss more the longer it ran (each position change moves the
   * protective stop: a new order): 18 µs a quote in its second 100 000 quotes, 52 µs in its sixth.
   */
  private readonly newBySymbol = new Map<string, Set<AlgoOrder>>();
  private readonly byAccount = new Map<string, AccountAlgos>();
  private nextAlgoId = 7_000_000_001;
  /** Triggered algo orders whose market order is being placed, by that order's client id. */
  private readonly triggering = new Map<string, AlgoOrder>();
  /** TRIGGERED algo orders whose limit order rests in the book, by that order's id: FINISHED when it is done. */
  private readonly working = new Map<number, AlgoOrder>();

  constructor(
    private readonly engine: MatchingEngine,
    private readonly onUpdate: AlgoListener = () => undefined,
    opts: { forgetsOrders?: boolean; onForgotten?: (orders: readonly AlgoOrder[]) => void } = {},
  ) {
    this.forgetting =
      opts.forgetsOrders === true ? new ForgettingQueue<AlgoOrder>({ isOpen: algoIsOpen, found: algoFoundByQuery, createdAtMs: (o) => o.createTime }) : null;
    this.orders = this.forgetting === null ? [] : null;
    this.onForgotten = opts.onForgotten ?? (() => undefined);
  }

  /**
   * Called by the exchange before it publishes an order's NEW: the order a trigger placed is now in the matching
   * engine, so its algo order turns TRIGGERED with `ai` = that order's id, pushed before the order's own updates.
   */
  onOrderAccepted(clientOrderId: string, orderId: number, nowMs: number): void {
    const order = this.triggering.get(clientOrderId);
    if (!order) return;
    this.triggering.delete(clientOrderId);
    this.setStatus(order, 'TRIGGERED');
    order.actualOrderId = orderId;
    order.updateTime = nowMs;
    this.onUpdate(order, nowMs);
  }

  /** Told of every order update: a triggered limit order that is done finishes its algo order. */
  onOrderUpdate(order: SimOrder, nowMs: number): void {
    const algo = this.working.get(order.orderId);
    if (!algo || !isDone(order)) return;
    this.working.delete(order.orderId);
    this.setStatus(algo, 'FINISHED');
    algo.updateTime = nowMs;
    this.onUpdate(algo, nowMs);
  }

  /** The next algo id (state-store persistence). */
  get nextId(): number {
    return this.nextAlgoId;
  }

  /** Restores the id counter and one stored conditional order, oldest first. */
  restore(nextAlgoId: number, orders: readonly AlgoOrder[]): void {
    this.nextAlgoId = nextAlgoId;
    for (const order of orders) this.add(order);
  }

  /** A paper account reset: its conditional orders are forgotten. */
  dropAccount(accountKey: string): void {
    const account = this.byAccount.get(accountKey);
    if (!account) return;
    for (const order of account.open) this.newBySymbol.get(order.symbol)?.delete(order);
    this.byAccount.delete(accountKey);
    if (this.orders !== null) {
      const kept = this.orders.filter((o) => o.accountKey !== accountKey);
      this.orders.length = 0;
      this.orders.push(...kept);
    }
  }

  /** An order placed or restored: in the list, its account's indexes, and the open sets while NEW. */
  private add(order: AlgoOrder): void {
    this.orders?.push(order);
    this.forgetting?.add(order);
    let account = this.byAccount.get(order.accountKey);
    if (!account) {
      account = { byAlgoId: new Map(), byClientAlgoId: new Map(), open: new Set() };
      this.byAccount.set(order.accountKey, account);
    }
    account.byAlgoId.set(order.algoId, order);
    account.byClientAlgoId.set(order.clientAlgoId, order);
    if (order.status !== 'NEW') return;
    account.open.add(order);
    let open = this.newBySymbol.get(order.symbol);
    if (!open) this.newBySymbol.set(order.symbol, (open = new Set()));
    open.add(order);
  }

  /** Forgets the final orders Binance would no longer find at `nowMs` (a bounded number of them), and says which. */
  private forgetUnfound(nowMs: number): void {
    const due = this.forgetting?.due(nowMs);
    if (due === undefined || due.length === 0) return;
    for (const order of due) {
      if (algoIsOpen(order)) throw new Error(`paper exchange: conditional order ${order.algoId} is ${order.status} and was to be forgotten`);
      const account = this.byAccount.get(order.accountKey);
      // A dropped account's orders went with it (a new account under its key has other ids).
      if (account?.byAlgoId.get(order.algoId) !== order) continue;
      account.byAlgoId.delete(order.algoId);
      if (account.byClientAlgoId.get(order.clientAlgoId) === order) account.byClientAlgoId.delete(order.clientAlgoId);
    }
    this.onForgotten(due);
  }

  /** Every status change: an order that leaves NEW leaves the open sets (it never returns to NEW). */
  private setStatus(order: AlgoOrder, status: AlgoStatus): void {
    if (order.status === 'NEW' && status !== 'NEW') {
      this.newBySymbol.get(order.symbol)?.delete(order);
      this.byAccount.get(order.accountKey)?.open.delete(order);
    }
    order.status = status;
  }

  place(accountKey: string, params: ReadonlyMap<string, string>, market: SymbolMarket, nowMs: number): AlgoOrder {
    if (required(params, 'algoType') !== 'CONDITIONAL') throw apiErrors.badParamValue('algoType');
    // One order in, up to a bound out: what the exchange holds stays what Binance would still find.
    this.forgetUnfound(nowMs);
    const orderType = required(params, 'type');
    if (!algoOrderTypes.includes(orderType)) throw apiErrors.badParamValue('type'); // TRAILING_STOP_MARKET: not modelled
    const type = orderType as AlgoOrderType;
    const isLimit = type === 'STOP' || type === 'TAKE_PROFIT';
    const side = required(params, 'side');
    if (side !== 'BUY' && side !== 'SELL') throw apiErrors.badSide();
    const rules = market.rules;
    const onTick = (name: string): bigint => {
      const price = parseDecimal(required(params, name), rules.priceScale);
      if (!price.ok || price.units <= 0n || price.units % rules.tickUnits !== 0n) throw apiErrors.badParamValue(name);
      return price.units;
    };
    const trigger = { units: onTick('triggerPrice') };
    const priceUnits = isLimit ? onTick('price') : 0n;
    const timeInForce = params.get('timeInForce') ?? 'GTC';
    if (!algoTimesInForce.includes(timeInForce)) throw apiErrors.badTimeInForce();
    // closePosition: "only STOP_MARKET and TAKE_PROFIT_MARKET; not with quantity; closes by itself, not with reduceOnly" (page above).
    const closePosition = params.get('closePosition') === 'true';
    if (closePosition && isLimit) throw apiErrors.badParamValue('closePosition');
    if (closePosition && params.has('reduceOnly')) throw apiErrors.notRequired('reduceOnly');
    const reduceOnly = closePosition || params.get('reduceOnly') === 'true';
    let qtyUnits = 0n;
    if (!closePosition) {
      const qty = parseDecimal(required(params, 'quantity'), rules.qtyScale);
      if (!qty.ok || qty.units <= 0n || qty.units % rules.stepUnits !== 0n) throw apiErrors.badParamValue('quantity');
      qtyUnits = qty.units;
    }
    const clientAlgoId = params.get('clientAlgoId') ?? `sim-algo-${this.nextAlgoId}`;
    if (!clientAlgoIdPattern.test(clientAlgoId)) throw apiErrors.badParamValue('clientAlgoId');
    if (this.byAccount.get(accountKey)?.byClientAlgoId.has(clientAlgoId) === true) throw apiErrors.duplicateClientId();
    // A stop that would trigger at once is refused, as Binance does (-2021 "Order would immediately trigger").
    if (crossed({ orderType: type, side, triggerUnits: trigger.units }, market)) throw apiErrors.wouldTriggerImmediately();
    const order: AlgoOrder = {
      algoId: this.nextAlgoId++,
      clientAlgoId,
      accountKey,
      symbol: rules.symbol,
      side,
      orderType: type,
      triggerUnits: trigger.units,
      priceUnits,
      timeInForce: timeInForce as SimTimeInForce,
      closePosition,
      reduceOnly,
      qtyUnits,
      status: 'NEW',
      createTime: nowMs,
      updateTime: nowMs,
    };
    this.add(order);
    this.onUpdate(order, nowMs);
    return order;
  }

  cancel(accountKey: string, ref: { algoId?: number; clientAlgoId?: string }, nowMs: number): AlgoOrder {
    const order = this.find(accountKey, ref);
    if (!order || order.status !== 'NEW') throw apiErrors.unknownOrderCancel();
    this.setStatus(order, 'CANCELED');
    order.updateTime = nowMs;
    this.onUpdate(order, nowMs);
    return order;
  }

  open(accountKey: string, symbol?: string): AlgoOrder[] {
    const out: AlgoOrder[] = [];
    for (const o of this.byAccount.get(accountKey)?.open ?? []) if (symbol === undefined || o.symbol === symbol) out.push(o);
    return out;
  }

  /** One order of this account, open or not, found or not by a query (cancel, the reset). */
  find(accountKey: string, ref: { algoId?: number; clientAlgoId?: string }): AlgoOrder | undefined {
    const account = this.byAccount.get(accountKey);
    return ref.algoId !== undefined ? account?.byAlgoId.get(ref.algoId) : account?.byClientAlgoId.get(ref.clientAlgoId ?? '');
  }

  /** GET /fapi/v1/allAlgoOrders: a symbol's orders, oldest first; from `algoId` on if given, else the newest `limit`. */
  history(accountKey: string, q: AlgoHistoryQuery): AlgoOrder[] {
    const matching = [...(this.byAccount.get(accountKey)?.byAlgoId.values() ?? [])].filter(
      (o) =>
        o.symbol === q.symbol &&
        algoFoundByQuery(o, q.nowMs) &&
        (q.algoId === undefined || o.algoId >= q.algoId) &&
        (q.startTime === undefined || o.createTime >= q.startTime) &&
        (q.endTime === undefined || o.createTime <= q.endTime),
    );
    return q.algoId !== undefined ? matching.slice(0, q.limit) : matching.slice(-q.limit);
  }

  /** DELETE /fapi/v1/algoOpenOrders: cancels every open conditional order of a symbol. */
  cancelAll(accountKey: string, symbol: string, nowMs: number): void {
    for (const order of this.open(accountKey, symbol)) this.cancel(accountKey, { algoId: order.algoId }, nowMs);
  }

  /** Every conditional order placed (not yet forgotten), in placement order (tests, the simulation's checks). */
  all(): readonly AlgoOrder[] {
    if (this.orders !== null) return this.orders;
    const all: AlgoOrder[] = [];
    for (const account of this.byAccount.values()) for (const order of account.byAlgoId.values()) all.push(order);
    // Ids are given in placement order.
    return all.sort((a, b) => a.algoId - b.algoId);
  }

  /**
   * Fires the conditional orders the new touch has crossed: a MARKET (the *_MARKET types) or LIMIT order (STOP,
   * TAKE_PROFIT) for the quantity, or for what is left of the position when closePosition / reduce-only.
   */
  onBookChange(market: SymbolMarket, nowMs: number): void {
    this.fireWhere(market.rules.symbol, (order) => crossed(order, market), nowMs);
  }

  /** Fires the conditional orders of `symbol` a trade the market printed at `priceUnits` has reached (the last price). */
  onPrint(symbol: string, priceUnits: bigint, nowMs: number): void {
    this.fireWhere(symbol, (order) => reached(order, priceUnits), nowMs);
  }

  private fireWhere(symbol: string, due: (order: AlgoOrder) => boolean, nowMs: number): void {
    const open = this.newBySymbol.get(symbol);
    if (!open) return;
    // Each NEW order of the symbol once, in placement order (one fired leaves the set as it is visited).
    for (const order of open) {
      if (order.status !== 'NEW') throw new Error(`paper exchange: conditional order ${order.algoId} is ${order.status} but still indexed as NEW`);
      if (!due(order)) continue;
      order.updateTime = nowMs;
      const position = this.engine.position(order.accountKey, order.symbol).qtyUnits;
      const reducible = order.side === 'SELL' ? (position > 0n ? position : 0n) : position < 0n ? -position : 0n;
      const qtyUnits = order.closePosition ? reducible : order.reduceOnly && reducible < order.qtyUnits ? reducible : order.qtyUnits;
      if (qtyUnits === 0n) {
        this.setStatus(order, 'EXPIRED');
        this.onUpdate(order, nowMs);
        continue;
      }
      const clientOrderId = triggeredClientOrderId(order.algoId);
      this.triggering.set(clientOrderId, order);
      const isLimit = order.priceUnits > 0n;
      let placed: SimOrder;
      try {
        placed = this.engine.place(
          order.accountKey,
          {
            symbol: order.symbol,
            side: order.side,
            type: isLimit ? 'LIMIT' : 'MARKET',
            ...(isLimit ? { priceUnits: order.priceUnits, timeInForce: order.timeInForce } : {}),
            qtyUnits,
            reduceOnly: order.reduceOnly,
            clientOrderId,
          },
          { forcePostOnlyReject: false, receivedAt: nowMs, nowMs },
        ).order;
      } catch (error) {
        // Refused by the matching engine (Binance: REJECTED): never left NEW to fire again on the next tick.
        this.setStatus(order, 'EXPIRED');
        this.onUpdate(order, nowMs);
        if (isLimit) continue; // a limit price the filters refuse now (PERCENT_PRICE, post-only): the venue rejects it too
        throw error;
      } finally {
        this.triggering.delete(clientOrderId);
      }
      if (!isDone(placed)) {
        this.working.set(placed.orderId, order); // a resting limit order: FINISHED when it is done (onOrderUpdate)
        continue;
      }
      this.setStatus(order, 'FINISHED');
      order.updateTime = nowMs;
      this.onUpdate(order, nowMs);
    }
  }

  json(order: AlgoOrder, priceScale: number, qtyScale: number): Record<string, unknown> {
    return {
      algoId: order.algoId,
      clientAlgoId: order.clientAlgoId,
      algoType: 'CONDITIONAL',
      orderType: order.orderType,
      symbol: order.symbol,
      side: order.side,
      positionSide: 'BOTH',
      timeInForce: order.timeInForce,
      quantity: formatUnits(order.qtyUnits, qtyScale),
      algoStatus: order.status,
      triggerPrice: formatUnits(order.triggerUnits, priceScale),
      price: formatUnits(order.priceUnits, priceScale),
      icebergQuantity: null,
      selfTradePreventionMode: 'EXPIRE_MAKER',
      workingType: 'CONTRACT_PRICE',
      priceMatch: 'NONE',
      closePosition: order.closePosition,
      priceProtect: false,
      reduceOnly: order.reduceOnly,
      createTime: order.createTime,
      updateTime: order.updateTime,
      triggerTime: order.status === 'FINISHED' || order.status === 'TRIGGERED' ? order.updateTime : 0,
      ...(order.actualOrderId !== undefined ? { actualOrderId: String(order.actualOrderId) } : {}),
      goodTillDate: 0,
    };
  }
}
