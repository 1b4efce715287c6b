// Conditional orders through Binance's Algo Service (since 2025-12, STOP_MARKET & co. are placed with
// POST /fapi/v1/algoOrder, not /fapi/v1/order). Only what a protective stop needs: CONDITIONAL STOP_MARKET,
// closePosition or a reduce-only quantity, triggered on the contract price (here: the touch).
import { formatUnits, parseDecimal } from '../model/decimal.js';
import { apiErrors } from './errors.js';
import type { MatchingEngine, SimSide } from './matching.js';
import type { SymbolMarket } from './price-process.js';
import { required } from './order-validation.js';

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

export interface AlgoOrder {
  algoId: number;
  clientAlgoId: string;
  accountKey: string;
  symbol: string;
  side: SimSide;
  triggerUnits: bigint;
  closePosition: boolean;
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

export class AlgoBook {
  private readonly orders: AlgoOrder[] = [];
  private nextAlgoId = 7_000_000_001;
  /** Triggered algo orders whose market order is being placed, by that order's client id. */
  private readonly triggering = new Map<string, AlgoOrder>();

  constructor(
    private readonly engine: MatchingEngine,
    private readonly onUpdate: AlgoListener = () => undefined,
  ) {}

  /**
   * Called by the exchange before it publishes an order's NEW: the order a trigger placed is now in the matching
   * engine, so its algo order turns TRIGGERED with `ai` = that order's id, pushed before the order's own updates.
   */
  onOrderAccepted(clientOrderId: string, orderId: number, nowMs: number): void {
    const order = this.triggering.get(clientOrderId);
    if (!order) return;
    this.triggering.delete(clientOrderId);
    order.status = 'TRIGGERED';
    order.actualOrderId = orderId;
    order.updateTime = nowMs;
    this.onUpdate(order, nowMs);
  }

  /** The next algo id (state-store persistence). */
  get nextId(): number {
    return this.nextAlgoId;
  }

  /** Restores the id counter and one stored conditional order, oldest first. */
  restore(nextAlgoId: number, orders: readonly AlgoOrder[]): void {
    this.nextAlgoId = nextAlgoId;
    this.orders.push(...orders);
  }

  /** A paper account reset: its conditional orders are forgotten. */
  dropAccount(accountKey: string): void {
    const kept = this.orders.filter((o) => o.accountKey !== accountKey);
    this.orders.length = 0;
    this.orders.push(...kept);
  }

  place(accountKey: string, params: ReadonlyMap<string, string>, market: SymbolMarket, nowMs: number): AlgoOrder {
    if (required(params, 'algoType') !== 'CONDITIONAL') throw apiErrors.badParamValue('algoType');
    if (required(params, 'type') !== 'STOP_MARKET') throw apiErrors.badParamValue('type');
    const side = required(params, 'side');
    if (side !== 'BUY' && side !== 'SELL') throw apiErrors.badSide();
    const rules = market.rules;
    const trigger = parseDecimal(required(params, 'triggerPrice'), rules.priceScale);
    if (!trigger.ok || trigger.units <= 0n || trigger.units % rules.tickUnits !== 0n) throw apiErrors.badParamValue('triggerPrice');
    const closePosition = params.get('closePosition') === 'true';
    let qtyUnits = 0n;
    if (!closePosition) {
      const qty = parseDecimal(required(params, 'quantity'), rules.qtyScale);
      if (!qty.ok || qty.units <= 0n || qty.units % rules.stepUnits !== 0n) throw apiErrors.badParamValue('quantity');
      qtyUnits = qty.units;
    }
    const clientAlgoId = params.get('clientAlgoId') ?? `sim-algo-${this.nextAlgoId}`;
    if (!clientAlgoIdPattern.test(clientAlgoId)) throw apiErrors.badParamValue('clientAlgoId');
    if (this.orders.some((o) => o.accountKey === accountKey && o.clientAlgoId === clientAlgoId)) throw apiErrors.duplicateClientId();
    // A stop that would trigger at once is refused, as Binance does (-2021 "Order would immediately trigger").
    const { bidUnits, askUnits } = market.top;
    if (side === 'SELL' ? bidUnits <= trigger.units : askUnits >= trigger.units) throw apiErrors.wouldTriggerImmediately();
    const order: AlgoOrder = {
      algoId: this.nextAlgoId++,
      clientAlgoId,
      accountKey,
      symbol: rules.symbol,
      side,
      triggerUnits: trigger.units,
      closePosition,
      qtyUnits,
      status: 'NEW',
      createTime: nowMs,
      updateTime: nowMs,
    };
    this.orders.push(order);
    this.onUpdate(order, nowMs);
    return order;
  }

  cancel(accountKey: string, ref: { algoId?: number; clientAlgoId?: string }, nowMs: number): AlgoOrder {
    const order = this.orders.find(
      (o) => o.accountKey === accountKey && (ref.algoId !== undefined ? o.algoId === ref.algoId : o.clientAlgoId === ref.clientAlgoId),
    );
    if (!order || order.status !== 'NEW') throw apiErrors.unknownOrderCancel();
    order.status = 'CANCELED';
    order.updateTime = nowMs;
    this.onUpdate(order, nowMs);
    return order;
  }

  open(accountKey: string, symbol?: string): AlgoOrder[] {
    return this.orders.filter((o) => o.accountKey === accountKey && o.status === 'NEW' && (symbol === undefined || o.symbol === symbol));
  }

  /** Every conditional order ever placed (tests). */
  all(): readonly AlgoOrder[] {
    return this.orders;
  }

  /** Fires the stops the new touch has crossed: a reduce-only market order closing (part of) the position. */
  onBookChange(market: SymbolMarket, nowMs: number): void {
    const { bidUnits, askUnits } = market.top;
    for (const order of this.orders) {
      if (order.status !== 'NEW' || order.symbol !== market.rules.symbol) continue;
      const crossed = order.side === 'SELL' ? bidUnits <= order.triggerUnits : askUnits >= order.triggerUnits;
      if (!crossed) continue;
      order.updateTime = nowMs;
      const position = this.engine.position(order.accountKey, order.symbol).qtyUnits;
      const reducible = order.side === 'SELL' ? (position > 0n ? position : 0n) : position < 0n ? -position : 0n;
      const qtyUnits = order.closePosition ? reducible : order.qtyUnits < reducible ? order.qtyUnits : reducible;
      if (qtyUnits === 0n) {
        order.status = 'EXPIRED';
        this.onUpdate(order, nowMs);
        continue;
      }
      const clientOrderId = triggeredClientOrderId(order.algoId);
      this.triggering.set(clientOrderId, order);
      try {
        this.engine.place(
          order.accountKey,
          { symbol: order.symbol, side: order.side, type: 'MARKET', qtyUnits, reduceOnly: true, clientOrderId },
          { forcePostOnlyReject: false, receivedAt: nowMs, nowMs },
        );
      } catch (error) {
        // Refused by the matching engine (Binance: REJECTED): never left NEW to fire again on the next tick.
        order.status = 'EXPIRED';
        this.onUpdate(order, nowMs);
        throw error;
      } finally {
        this.triggering.delete(clientOrderId);
      }
      // A market order fills at once against the synthetic touch: the triggered order is done.
      order.status = 'FINISHED';
      order.updateTime = nowMs;
      this.onUpdate(order, nowMs);
    }
  }

  json(order: AlgoOrder, priceScale: number, qtyScale: number): Record<string, unknown> {
    return {
      algoId: order.algoId,
      clientAlgoId: order.clientAlgoId,
      algoType: 'CONDITIONAL',
      orderType: 'STOP_MARKET',
      symbol: order.symbol,
      side: order.side,
      positionSide: 'BOTH',
      timeInForce: 'GTC',
      quantity: formatUnits(order.qtyUnits, qtyScale),
      algoStatus: order.status,
      triggerPrice: formatUnits(order.triggerUnits, priceScale),
      price: '0',
      icebergQuantity: null,
      selfTradePreventionMode: 'EXPIRE_MAKER',
      workingType: 'CONTRACT_PRICE',
      priceMatch: 'NONE',
      closePosition: order.closePosition,
      priceProtect: false,
      reduceOnly: true,
      createTime: order.createTime,
      updateTime: order.updateTime,
      triggerTime: order.status === 'FINISHED' || order.status === 'TRIGGERED' ? order.updateTime : 0,
      ...(order.actualOrderId !== undefined ? { actualOrderId: String(order.actualOrderId) } : {}),
      goodTillDate: 0,
    };
  }
}
