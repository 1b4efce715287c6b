import { toAccountTrades, toIncomeRecords, toOrderSnapshot, toUserDataEvent } from '../exchange/binance/mapping.js';
import type { IncomeRead } from '../model/income.js';
import { maxIncomeLimit, selectIncome } from '../paper-exchange/income-history.js';
import { foundByQuery } from '../paper-exchange/order-retention.js';
import type { ExchangeAccount, Subscription, UserStreamNews } from '../exchange/port.js';
import type { SymbolFilters } from '../model/market.js';
import type { CancelOutcome, OrderRequest, OrderSnapshot, PlaceOutcome, QueryOutcome } from '../model/orders.js';
import type { FundingPayment, PositionSnapshot } from '../model/positions.js';
import type { AccountTrade, TradesFrom } from '../model/trades.js';
import { selectTrades } from '../paper-exchange/trade-history.js';
import type { ProtectiveStopRequest, ProtectiveStopSnapshot, ProtectiveStopUpdate, StopOutcome } from '../model/protective-stops.js';
import { AlgoBook } from '../paper-exchange/algo-orders.js';
import { formatUnits } from '../model/decimal.js';
import { SimApiError } from '../paper-exchange/errors.js';
import type { ExchangeListener, ExecutionType, MarketTrade, SimOrder, TradeInfo } from '../paper-exchange/matching.js';
import { MatchingEngine } from '../paper-exchange/matching.js';
import { isOpen } from '../paper-exchange/order-open.js';
import { parseNewOrder } from '../paper-exchange/order-validation.js';
import { payFunding } from '../paper-exchange/funding.js';
import { createPrng, SymbolMarket } from '../paper-exchange/price-process.js';
import type { BookSettings, TouchSizes } from '../paper-exchange/order-book.js';
import type { SymbolRules } from '../paper-exchange/symbols.js';
import type { SimSymbolSpec } from '../paper-exchange/types.js';
import { defaultSimSymbols, deriveRules, percentPriceDecimal } from '../paper-exchange/symbols.js';
import { algoUpdate, fundingAccountUpdate, orderJson, orderTradeUpdate } from '../paper-exchange/wire-format.js';
import { requestWeights } from '../engine/request-costs.js';

// The paper exchange's matching engine in process, behind our ExchangeAccount port, with faults chosen by the
// simulation's seeded PRNG instead of HTTP: the same order book rules, no sockets, no wall clock.

export interface SimFaultRates {
  /** Order executed, answer lost (timeout after accept). */
  timeoutAfterAccept: number;
  /** Request lost before execution (5xx / reset): outcome unknown, nothing done. */
  lostBeforeExecution: number;
  /** 429 / 418 / -1021: refused before execution. */
  refused: number;
  /** Post-only order refused although it would not take. */
  postOnlyRefused: number;
}

/** What one request costs against the venue's limits: its IP weight and the orders it counts (per account). */
export interface SimRequestCost {
  weight: number;
  orders: number;
}

/** A request the venue refused before doing anything: 429 (slow down) or 418 (the IP is banned), with Retry-After. */
export interface SimRefusal {
  status: 429 | 418;
  retryAfterMs: number;
}

/** Decides, as a request arrives, whether the venue serves it (null) or refuses it (deterministic-sim/venue-faults.ts). */
export type RequestGate = (accountKey: string, cost: SimRequestCost, nowMs: number) => SimRefusal | null;

export class SimExchange {
  /** Every request passes here first; none by default. */
  gate: RequestGate | null = null;
  /** Told of every refusal, as the live adapter tells its budget (exchange/binance/account.ts). */
  onRefused: ((refusal: SimRefusal) => Promise<void>) | null = null;
  readonly markets = new Map<string, SymbolMarket>();
  readonly rules = new Map<string, SymbolRules>();
  readonly matching: MatchingEngine;
  readonly algo: AlgoBook;
  /** Per account: where its user-stream pushes go (order updates, funding payments). */
  readonly updateListeners = new Map<string, { onUpdate: (order: OrderSnapshot) => void; onFunding?: (payment: FundingPayment) => void }>();
  /** Per account: where its conditional orders' status changes go (ALGO_UPDATE). */
  readonly stopListeners = new Map<string, (update: ProtectiveStopUpdate) => void>();
  /**
   * The fault rolls' own stream, seeded once from `random`: shared, every request's rolls (taken even at zero
   * rates) moved the books' depth draws, so a backtest's fills depended on how many requests its strategy made.
   */
  readonly faultRandom: () => number;

  constructor(
    readonly random: () => number,
    readonly nowMs: () => number,
    public faults: SimFaultRates,
    /** The book's depth and tape (order-book.ts); a backtest turns the tape off so resting orders fill only when traded through. */
    book: Partial<BookSettings> = {},
    /** The symbols it lists: the paper exchange's own, or a backtest's from Binance's exchangeInfo (specOfFilters). */
    symbols: readonly SimSymbolSpec[] = defaultSimSymbols,
  ) {
    this.faultRandom = createPrng(Math.floor(random() * 2 ** 32));
    for (const spec of symbols) {
      const rules = deriveRules(spec);
      this.rules.set(spec.symbol, rules);
      this.markets.set(spec.symbol, new SymbolMarket(rules, random, nowMs(), { settings: book }));
    }
    const listener: ExchangeListener = {
      // Pushed as the live adapter reads them: the paper exchange's ORDER_TRADE_UPDATE and ACCOUNT_UPDATE
      // through the adapter's own parsers, so trades carry their commission and realized PnL.
      orderUpdate: (order, execType, trade, nowMs) => this.updateListeners.get(order.accountKey)?.onUpdate(this.pushed(order, execType, trade, nowMs)),
      positionUpdate: () => undefined,
      fundingUpdate: (account, _symbol, amountUsd, nowMs) => {
        const onFunding = this.updateListeners.get(account.key)?.onFunding;
        const event = toUserDataEvent(fundingAccountUpdate(account, amountUsd, nowMs));
        if (event.kind !== 'account') throw new Error(`the adapter cannot read the paper exchange's funding ACCOUNT_UPDATE: ${JSON.stringify(event)}`);
        if (onFunding) for (const payment of event.funding) onFunding(payment);
      },
    };
    this.matching = new MatchingEngine(this.markets, 1_000_000, listener);
    // ALGO_UPDATE as the adapter reads the paper exchange's wire event.
    this.algo = new AlgoBook(this.matching, (order, nowMs) => {
      const onStopUpdate = this.stopListeners.get(order.accountKey);
      if (!onStopUpdate) return;
      const event = toUserDataEvent(algoUpdate(order, this.matching.rules(order.symbol), nowMs));
      if (event.kind !== 'algo') throw new Error(`the adapter cannot read the paper exchange's ALGO_UPDATE: ${JSON.stringify(event)}`);
      onStopUpdate(event.update);
    });
  }

  filters(): Record<string, SymbolFilters> {
    const out: Record<string, SymbolFilters> = {};
    for (const [symbol, r] of this.rules) {
      const s = r.spec;
      out[symbol] = {
        symbol,
        status: r.status,
        tickSize: s.tickSize,
        minPrice: s.tickSize,
        maxPrice: formatUnits(r.maxPriceUnits, r.priceScale),
        stepSize: s.stepSize,
        minQty: s.minQty,
        maxQty: s.maxQty,
        marketStepSize: s.stepSize,
        marketMinQty: s.minQty,
        marketMaxQty: s.maxQty,
        minNotional: s.minNotional,
        multiplierUp: formatUnits(r.multiplierUpUnits, percentPriceDecimal),
        multiplierDown: formatUnits(r.multiplierDownUnits, percentPriceDecimal),
      };
    }
    return out;
  }

  snapshot(order: SimOrder): OrderSnapshot {
    const rules = this.rules.get(order.symbol);
    if (!rules) throw new Error(`no rules for ${order.symbol}`);
    return toOrderSnapshot(orderJson(order, rules));
  }

  /** One user-stream order update, as the adapter parses the paper exchange's wire event. */
  private pushed(order: SimOrder, execType: ExecutionType, trade: TradeInfo | undefined, nowMs: number): OrderSnapshot {
    const rules = this.rules.get(order.symbol);
    if (!rules) throw new Error(`no rules for ${order.symbol}`);
    const event = toUserDataEvent(orderTradeUpdate(order, rules, execType, trade, nowMs));
    if (event.kind !== 'order')
      throw new Error(`the adapter cannot read the paper exchange's ORDER_TRADE_UPDATE for ${order.clientOrderId}: ${JSON.stringify(event)}`);
    return event.order;
  }

  step(symbol: string): void {
    const market = this.markets.get(symbol);
    if (!market) return;
    market.step(this.nowMs());
    this.matching.onBookChange(symbol, this.nowMs());
    this.algo.onBookChange(market, this.nowMs());
  }

  /** A touch from outside (a backtest's historical quote) instead of a step of the walk; resting orders it trades through fill. */
  quote(symbol: string, bidUnits: bigint, askUnits: bigint): void {
    const market = this.markets.get(symbol);
    if (!market) throw new Error(`no market for ${symbol}`);
    market.setTouch(bidUnits, askUnits, this.nowMs());
    this.matching.onBookChange(symbol, this.nowMs());
    this.algo.onBookChange(market, this.nowMs());
  }

  /**
   * The touch's sizes from a backtest's bookTicker (best_bid_qty, best_ask_qty): what an order joining the touch
   * queues behind, and at most what is still ahead of one resting there (matching.ts, capQueuesAtTouch).
   */
  touchSizes(symbol: string, touch: TouchSizes): void {
    const market = this.markets.get(symbol);
    if (!market) throw new Error(`no market for ${symbol}`);
    market.setTouchSizes(touch, this.nowMs());
    this.matching.capQueuesAtTouch(symbol, touch);
  }

  /**
   * A trade the market printed (a backtest's aggTrades row): the resting orders it reaches fill (matching.ts), then the
   * conditional orders whose trigger its price reached fire (the contract price is the last trade's, algo-orders.ts).
   * Returns the fills the print made.
   */
  marketTrade(symbol: string, print: MarketTrade): number {
    const fills = this.matching.onMarketTrade(symbol, print, this.nowMs());
    this.algo.onPrint(symbol, print.priceUnits, this.nowMs());
    return fills;
  }

  gap(symbol: string, factor: number): void {
    const market = this.markets.get(symbol);
    if (!market) return;
    market.setMid(market.midPrice * factor, this.nowMs());
    this.matching.onBookChange(symbol, this.nowMs());
    this.algo.onBookChange(market, this.nowMs());
  }

  /** A funding time at `rateBps`: every open position pays or receives, and each account's stream says so. */
  fund(rateBps: number): void {
    payFunding(this.matching, this.markets, rateBps, this.nowMs());
  }

  /**
   * The exchange trades on an account by itself (a liquidation, an ADL close, a manual trade): a reduce-only
   * MARKET order under its own client id, closing the whole position or, if `whole` is false, about half of it.
   * What happened, for the trace.
   */
  tradeOnItsOwn(accountKey: string, symbol: string, clientOrderId: string, whole: boolean): string {
    const rules = this.rules.get(symbol);
    const held = this.matching.account(accountKey).positions.get(symbol)?.qtyUnits ?? 0n;
    if (!rules || held === 0n) return 'nothing held';
    const abs = held < 0n ? -held : held;
    const half = (abs / 2n / rules.stepUnits) * rules.stepUnits;
    const qtyUnits = whole || half < rules.minQtyUnits ? abs : half;
    try {
      const input = { symbol, side: held > 0n ? ('SELL' as const) : ('BUY' as const), type: 'MARKET' as const, qtyUnits, reduceOnly: true, clientOrderId };
      this.matching.place(accountKey, input, { forcePostOnlyReject: false, receivedAt: this.nowMs(), nowMs: this.nowMs() });
      return `${input.side} ${formatUnits(qtyUnits, rules.qtyScale)} as ${clientOrderId}`;
    } catch (error) {
      if (error instanceof SimApiError) return `refused ${error.code}`;
      throw error;
    }
  }

  position(accountKey: string, symbol: string): number {
    return Number(this.positionAmt(accountKey, symbol));
  }

  /** The account's open conditional orders (of `symbols`, or all), as the account's listProtectiveStops answers. */
  openProtectiveStops(accountKey: string, symbols?: readonly string[]): ProtectiveStopSnapshot[] {
    const wanted = symbols === undefined ? null : new Set(symbols);
    return this.algo
      .open(accountKey)
      .filter((o) => wanted === null || wanted.has(o.symbol))
      .map((o) => {
        const rules = this.rules.get(o.symbol);
        return { clientAlgoId: o.clientAlgoId, symbol: o.symbol, side: o.side, triggerPrice: rules ? formatUnits(o.triggerUnits, rules.priceScale) : '0' };
      });
  }

  /** The account's positions, as the account's getPositions answers. */
  heldPositions(accountKey: string): PositionSnapshot[] {
    // Only the symbols held (a non-zero quantity, which is what a non-zero amount means) are written out: the
    // position check reads this list every few seconds of a backtest, and formatted every symbol to drop most.
    const positions = this.matching.account(accountKey).positions;
    const held: PositionSnapshot[] = [];
    for (const symbol of this.rules.keys()) {
      const pos = positions.get(symbol);
      if (pos && pos.qtyUnits !== 0n) held.push({ symbol, positionAmt: this.positionAmt(accountKey, symbol), entryPrice: String(pos.entryPrice) });
    }
    return held;
  }

  /** The signed position as the exchange writes it: an exact decimal string. */
  positionAmt(accountKey: string, symbol: string): string {
    const rules = this.rules.get(symbol);
    const pos = this.matching.account(accountKey).positions.get(symbol);
    return rules && pos ? formatUnits(pos.qtyUnits, rules.qtyScale) : '0';
  }

  account(accountKey: string): ExchangeAccount {
    return simAccount(this, accountKey);
  }
}

/** Retry-After of a stray 429 (the `refused` fault), simulated ms. */
const strayRetryAfterMs = 1_000;

/** One account on the in-process exchange, behind the same port as the Binance adapter. */
function simAccount(exchange: SimExchange, accountKey: string): ExchangeAccount {
  const roll = (p: number): boolean => exchange.faultRandom() < p;
  /** The venue's answer before doing anything: a 429/418 refusal (already told to the budget), or null. */
  const refusedAt = async (cost: SimRequestCost): Promise<{ code: number; message: string; retryAfterMs: number } | null> => {
    const refusal = exchange.gate?.(accountKey, cost, exchange.nowMs()) ?? null;
    if (!refusal) return null;
    await exchange.onRefused?.(refusal);
    const message = refusal.status === 418 ? 'Way too many requests; IP banned (simulated 418)' : 'Too many requests (simulated 429)';
    return { code: -1003, message, retryAfterMs: refusal.retryAfterMs };
  };
  const readRefused = async (cost: SimRequestCost): Promise<void> => {
    const refusal = await refusedAt(cost);
    if (refusal) throw new Error(`${refusal.code} ${refusal.message}`);
  };
  return {
    rateKey: accountKey,
    async placeOrder(req: OrderRequest): Promise<PlaceOutcome> {
      const refusal = await refusedAt({ weight: requestWeights.placeOrder, orders: 1 });
      if (refusal) return { kind: 'rejected', ...refusal };
      if (roll(exchange.faults.refused)) {
        // Refused before execution: rate limit (a 429 carries Retry-After), or margin insufficient (-2019).
        if (!roll(0.5)) return { kind: 'rejected', code: -2019, message: 'Margin is insufficient (simulated)' };
        await exchange.onRefused?.({ status: 429, retryAfterMs: strayRetryAfterMs });
        return { kind: 'rejected', code: -1003, message: 'Too many requests (simulated)', retryAfterMs: strayRetryAfterMs };
      }
      if (roll(exchange.faults.lostBeforeExecution)) return { kind: 'unknown', reason: 'simulated 503 before execution' };
      const market = exchange.markets.get(req.symbol);
      if (!market) return { kind: 'rejected', code: -1121, message: 'Invalid symbol.' };
      const params = new Map<string, string>([
        ['symbol', req.symbol],
        ['side', req.side],
        ['type', req.type],
        ['quantity', req.quantity],
        ['reduceOnly', String(req.reduceOnly)],
        ['newClientOrderId', req.clientOrderId],
        ['newOrderRespType', 'RESULT'],
        ...(req.price !== undefined ? ([['price', req.price]] as [string, string][]) : []),
        ...(req.timeInForce !== undefined ? ([['timeInForce', req.timeInForce]] as [string, string][]) : []),
      ]);
      try {
        const { input } = parseNewOrder(params, market, exchange.nowMs());
        const { order } = exchange.matching.place(accountKey, input, {
          forcePostOnlyReject: roll(exchange.faults.postOnlyRefused),
          receivedAt: exchange.nowMs(),
          nowMs: exchange.nowMs(),
        });
        if (roll(exchange.faults.timeoutAfterAccept)) return { kind: 'unknown', reason: 'simulated timeout after accept' };
        return { kind: 'accepted', order: exchange.snapshot(order) };
      } catch (error) {
        if (error instanceof SimApiError) {
          if (error.code === -4116) {
            const existing = exchange.matching.find(accountKey, req.symbol, { clientOrderId: req.clientOrderId });
            if (existing) return { kind: 'accepted', order: exchange.snapshot(existing) };
          }
          return { kind: 'rejected', code: error.code, message: error.message };
        }
        throw error;
      }
    },
    async cancelOrder(symbol: string, clientOrderId: string): Promise<CancelOutcome> {
      const refusal = await refusedAt({ weight: requestWeights.cancelOrder, orders: 0 });
      if (refusal) return { kind: 'rejected', code: refusal.code, message: refusal.message };
      if (roll(exchange.faults.lostBeforeExecution)) return { kind: 'unknown', reason: 'simulated 503' };
      try {
        return { kind: 'canceled', order: exchange.snapshot(exchange.matching.cancel(accountKey, symbol, { clientOrderId }, exchange.nowMs())) };
      } catch (error) {
        if (error instanceof SimApiError) return { kind: 'rejected', code: error.code, message: error.message };
        throw error;
      }
    },
    async queryOrder(symbol: string, clientOrderId: string): Promise<QueryOutcome> {
      const refusal = await refusedAt({ weight: requestWeights.queryOrder, orders: 0 });
      if (refusal) return { kind: 'unknown', reason: `${refusal.code} ${refusal.message}` };
      if (roll(exchange.faults.lostBeforeExecution)) return { kind: 'unknown', reason: 'simulated 503' };
      const order = exchange.matching.find(accountKey, symbol, { clientOrderId });
      return order && foundByQuery(order, exchange.nowMs()) ? { kind: 'found', order: exchange.snapshot(order) } : { kind: 'not_found' };
    },
    async queryOrderByExchangeId(symbol: string, exchangeOrderId: string): Promise<QueryOutcome> {
      const refusal = await refusedAt({ weight: requestWeights.queryOrder, orders: 0 });
      if (refusal) return { kind: 'unknown', reason: `${refusal.code} ${refusal.message}` };
      if (roll(exchange.faults.lostBeforeExecution)) return { kind: 'unknown', reason: 'simulated 503' };
      const order = exchange.matching.find(accountKey, symbol, { orderId: Number(exchangeOrderId) });
      return order && foundByQuery(order, exchange.nowMs()) ? { kind: 'found', order: exchange.snapshot(order) } : { kind: 'not_found' };
    },
    async placeProtectiveStop(req: ProtectiveStopRequest): Promise<StopOutcome> {
      const refusal = await refusedAt({ weight: requestWeights.placeAlgoOrder, orders: 1 });
      if (refusal) return { kind: 'rejected', code: refusal.code, message: refusal.message };
      if (roll(exchange.faults.lostBeforeExecution)) return { kind: 'unknown', reason: 'simulated 503' };
      const market = exchange.markets.get(req.symbol);
      if (!market) return { kind: 'rejected', code: -1121, message: 'Invalid symbol.' };
      const params = new Map([
        ['algoType', 'CONDITIONAL'],
        ['type', 'STOP_MARKET'],
        ['side', req.side],
        ['triggerPrice', req.triggerPrice],
        ['closePosition', 'true'],
        ['clientAlgoId', req.clientAlgoId],
      ]);
      try {
        exchange.algo.place(accountKey, params, market, exchange.nowMs());
        return { kind: 'accepted' };
      } catch (error) {
        if (error instanceof SimApiError) return { kind: 'rejected', code: error.code, message: error.message };
        throw error;
      }
    },
    async cancelProtectiveStop(_symbol: string, clientAlgoId: string): Promise<StopOutcome> {
      const refusal = await refusedAt({ weight: requestWeights.cancelAlgoOrder, orders: 0 });
      if (refusal) return { kind: 'rejected', code: refusal.code, message: refusal.message };
      try {
        exchange.algo.cancel(accountKey, { clientAlgoId }, exchange.nowMs());
        return { kind: 'accepted' };
      } catch (error) {
        if (error instanceof SimApiError) return { kind: 'rejected', code: error.code, message: error.message };
        throw error;
      }
    },
    async listProtectiveStops(symbols?: readonly string[]): Promise<ProtectiveStopSnapshot[]> {
      await readRefused({
        weight: symbols === undefined ? requestWeights.openAlgoOrdersAllSymbols : symbols.length * requestWeights.openAlgoOrdersOfSymbol,
        orders: 0,
      });
      return exchange.openProtectiveStops(accountKey, symbols);
    },
    async getPositions(): Promise<PositionSnapshot[]> {
      await readRefused({ weight: requestWeights.positionRisk, orders: 0 });
      return exchange.heldPositions(accountKey);
    },
    async listTrades(symbol: string, from: TradesFrom): Promise<AccountTrade[]> {
      await readRefused({ weight: requestWeights.userTrades, orders: 0 });
      const params = new Map([['limit', '1000'], 'fromId' in from ? ['fromId', from.fromId] : ['startTime', String(from.startTimeMs)]]);
      // Through the adapter's own parser, as the live account reads the paper exchange's answer.
      return toAccountTrades(selectTrades(exchange.matching.account(accountKey).trades, params, symbol, exchange.nowMs()));
    },
    async listIncome(incomeType: string, startTimeMs: number): Promise<IncomeRead> {
      const query = { incomeType, startTimeMs, nowMs: exchange.nowMs(), limit: maxIncomeLimit };
      return toIncomeRecords(selectIncome(exchange.matching.account(accountKey).income, query));
    },
    async getOpenOrders(symbols?: readonly string[]): Promise<OrderSnapshot[]> {
      await readRefused({
        weight: symbols === undefined ? requestWeights.openOrdersAllSymbols : symbols.length * requestWeights.openOrdersOfSymbol,
        orders: 0,
      });
      const wanted = symbols === undefined ? null : new Set(symbols);
      return exchange.matching
        .openOrders(accountKey)
        .filter((o) => isOpen(o) && (wanted === null || wanted.has(o.symbol)))
        .map((o) => exchange.snapshot(o));
    },
    async subscribeOrderUpdates(
      onUpdate: (order: OrderSnapshot) => void,
      onFunding?: (payment: FundingPayment) => void,
      news?: UserStreamNews,
    ): Promise<Subscription> {
      exchange.updateListeners.set(accountKey, onFunding ? { onUpdate, onFunding } : { onUpdate });
      if (news?.onStopUpdate) exchange.stopListeners.set(accountKey, news.onStopUpdate);
      return {
        close: async () => {
          exchange.updateListeners.delete(accountKey);
          exchange.stopListeners.delete(accountKey);
        },
      };
    },
    async close() {},
  };
}
