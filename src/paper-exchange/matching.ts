// Matching and accounting: one-way position mode, one account per API key, fills against the
// synthetic touch (any size fills at the touch; resting orders fill in full at their limit).
import { absBigint, minBigint, unitsToNumber } from '../model/decimal.js';
import { apiErrors } from './errors.js';
import type { SymbolMarket } from './price-process.js';
import type { SymbolRules } from './symbols.js';

export type SimSide = 'BUY' | 'SELL';
export type SimTimeInForce = 'GTC' | 'IOC' | 'GTX';
export type SimOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED';
export type ExecutionType = 'NEW' | 'TRADE' | 'CANCELED' | 'EXPIRED';

export interface NewOrderInput {
  symbol: string;
  side: SimSide;
  type: 'LIMIT' | 'MARKET';
  timeInForce?: SimTimeInForce;
  priceUnits?: bigint; // LIMIT only, at rules.priceScale
  qtyUnits: bigint; // at rules.qtyScale
  reduceOnly: boolean;
  clientOrderId: string;
}

export interface SimOrder {
  accountKey: string;
  orderId: number;
  clientOrderId: string;
  symbol: string;
  side: SimSide;
  type: 'LIMIT' | 'MARKET';
  timeInForce: SimTimeInForce;
  priceUnits: bigint; // 0 for MARKET
  origQtyUnits: bigint;
  executedQtyUnits: bigint;
  cumQuoteUnits: bigint; // at priceScale + qtyScale
  reduceOnly: boolean;
  status: SimOrderStatus;
  timeMs: number;
  updateTimeMs: number;
  receivedAt: number;
  respondedAt?: number;
}

export interface SimPosition {
  qtyUnits: bigint; // signed
  entryPrice: number;
  realizedPnl: number;
  updateTimeMs: number;
}

export interface SimAccount {
  key: string;
  walletBalance: number; // USDT
  positions: Map<string, SimPosition>;
  orders: Map<number, SimOrder>;
  /** Every client id ever used by this account -> its latest order. */
  byClientId: Map<string, SimOrder>;
  /** What GET /fapi/v1/income lists: commissions, realized PnL and funding, oldest first. */
  income: IncomeRecord[];
}

/**
 * One entry of the income history (https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-Income-History):
 * `income` is signed (positive in, negative out), a decimal string in `asset`; tranId is unique per incomeType.
 */
export interface IncomeRecord {
  symbol: string;
  incomeType: 'COMMISSION' | 'REALIZED_PNL' | 'FUNDING_FEE';
  income: string;
  asset: 'USDT';
  info: string;
  time: number;
  tranId: number;
  tradeId: string;
}

export interface TradeInfo {
  tradeId: number;
  qtyUnits: bigint;
  priceUnits: bigint;
  maker: boolean;
  fee: number;
  realizedPnl: number;
}

export interface ExchangeListener {
  orderUpdate(order: SimOrder, execType: ExecutionType, trade: TradeInfo | undefined, nowMs: number): void;
  positionUpdate(account: SimAccount, symbol: string, nowMs: number): void;
  /** A funding payment booked into the wallet (`amountUsd` signed: received positive). */
  fundingUpdate(account: SimAccount, symbol: string, amountUsd: string, nowMs: number): void;
}

// Binance's default VIP0 USDⓈ-M fee rates; only used to make wallet balance move plausibly.
export const makerFeeRate = 0.0002;
export const takerFeeRate = 0.0005;

export class MatchingEngine {
  private readonly accounts = new Map<string, SimAccount>();
  private readonly resting = new Map<string, Set<SimOrder>>();
  private readonly log: SimOrder[] = [];
  private nextOrderId = 4_000_000_001; // Binance ids are large; makes "small id" bugs visible
  private nextTradeId = 100_001;
  private nextTranId = 9_000_000_001;

  constructor(
    private readonly markets: ReadonlyMap<string, SymbolMarket>,
    private readonly startingBalanceUsd: number,
    private readonly listener: ExchangeListener,
  ) {
    for (const symbol of markets.keys()) this.resting.set(symbol, new Set());
  }

  account(key: string): SimAccount {
    let acct = this.accounts.get(key);
    if (!acct) {
      acct = {
        key,
        walletBalance: this.startingBalanceUsd,
        positions: new Map(),
        orders: new Map(),
        byClientId: new Map(),
        income: [],
      };
      this.accounts.set(key, acct);
    }
    return acct;
  }

  hasAccount(key: string): boolean {
    return this.accounts.has(key);
  }

  /** Every account with a position in `symbol` (signed quantity units at the symbol's qtyScale), for funding. */
  holders(symbol: string): { account: SimAccount; qtyUnits: bigint }[] {
    const out: { account: SimAccount; qtyUnits: bigint }[] = [];
    for (const account of this.accounts.values()) {
      const qtyUnits = account.positions.get(symbol)?.qtyUnits ?? 0n;
      if (qtyUnits !== 0n) out.push({ account, qtyUnits });
    }
    return out;
  }

  /** Books one funding payment (signed decimal USDT, received positive) into the wallet and the income history. */
  bookFunding(account: SimAccount, symbol: string, amountUsd: string, nowMs: number): void {
    account.walletBalance += Number(amountUsd);
    this.recordIncome(account, { symbol, incomeType: 'FUNDING_FEE', income: amountUsd, info: 'FUNDING_FEE', time: nowMs, tradeId: '' });
    this.listener.fundingUpdate(account, symbol, amountUsd, nowMs);
  }

  private recordIncome(account: SimAccount, entry: Omit<IncomeRecord, 'tranId' | 'asset'>): void {
    account.income.push({ ...entry, asset: 'USDT', tranId: this.nextTranId++ });
  }

  /** Every accepted order, in arrival order. */
  allOrders(): readonly SimOrder[] {
    return this.log;
  }

  position(accountKey: string, symbol: string): SimPosition {
    const acct = this.account(accountKey);
    let pos = acct.positions.get(symbol);
    if (!pos) {
      pos = { qtyUnits: 0n, entryPrice: 0, realizedPnl: 0, updateTimeMs: 0 };
      acct.positions.set(symbol, pos);
    }
    return pos;
  }

  rules(symbol: string): SymbolRules {
    const market = this.markets.get(symbol);
    if (!market) throw apiErrors.badSymbol();
    return market.rules;
  }

  /**
   * Accepts or rejects a validated order, then executes whatever crosses immediately.
   * Returns the order as it stood right after acceptance (for ACK responses) and the live order.
   */
  place(
    accountKey: string,
    input: NewOrderInput,
    opts: { forcePostOnlyReject: boolean; receivedAt: number; nowMs: number },
  ): { accepted: SimOrder; order: SimOrder } {
    const market = this.mustMarket(input.symbol);
    const acct = this.account(accountKey);
    // Any id this account has used is a duplicate: the engine retries by client id after
    // ambiguous failures, and must never get a second execution out of it.
    if (acct.byClientId.has(input.clientOrderId)) throw apiErrors.duplicateClientId();

    const { bidUnits, askUnits } = market.top;
    const limit = input.priceUnits ?? 0n;
    const crosses = input.type === 'MARKET' || (input.side === 'BUY' ? limit >= askUnits : limit <= bidUnits);
    if (input.type === 'LIMIT' && input.timeInForce === 'GTX' && (opts.forcePostOnlyReject || crosses)) {
      throw apiErrors.postOnlyRejected();
    }

    let qtyUnits = input.qtyUnits;
    if (input.reduceOnly) {
      const reducible = this.reducibleQty(accountKey, input.symbol, input.side);
      if (reducible === 0n) throw apiErrors.reduceOnlyRejected();
      qtyUnits = minBigint(qtyUnits, reducible);
    }

    const order: SimOrder = {
      accountKey,
      orderId: this.nextOrderId++,
      clientOrderId: input.clientOrderId,
      symbol: input.symbol,
      side: input.side,
      type: input.type,
      timeInForce: input.timeInForce ?? 'GTC',
      priceUnits: limit,
      origQtyUnits: qtyUnits,
      executedQtyUnits: 0n,
      cumQuoteUnits: 0n,
      reduceOnly: input.reduceOnly,
      status: 'NEW',
      timeMs: opts.nowMs,
      updateTimeMs: opts.nowMs,
      receivedAt: opts.receivedAt,
    };
    acct.orders.set(order.orderId, order);
    acct.byClientId.set(order.clientOrderId, order);
    this.log.push(order);
    const accepted = { ...order };
    this.listener.orderUpdate(order, 'NEW', undefined, opts.nowMs);

    if (crosses) {
      // Taker: the synthetic touch has unlimited size, so the whole order fills at the touch.
      this.fill(order, input.side === 'BUY' ? askUnits : bidUnits, false, opts.nowMs);
    } else if (order.timeInForce === 'IOC') {
      this.finish(order, 'EXPIRED', opts.nowMs);
    } else {
      this.resting.get(order.symbol)?.add(order);
    }
    return { accepted, order };
  }

  find(accountKey: string, symbol: string, ref: { orderId?: number; clientOrderId?: string }): SimOrder | undefined {
    const acct = this.accounts.get(accountKey);
    if (!acct) return undefined;
    const order =
      ref.orderId !== undefined ? acct.orders.get(ref.orderId) : ref.clientOrderId !== undefined ? acct.byClientId.get(ref.clientOrderId) : undefined;
    return order && order.symbol === symbol ? order : undefined;
  }

  cancel(accountKey: string, symbol: string, ref: { orderId?: number; clientOrderId?: string }, nowMs: number): SimOrder {
    const order = this.find(accountKey, symbol, ref);
    if (!order || !isOpen(order)) throw apiErrors.unknownOrderCancel();
    this.finish(order, 'CANCELED', nowMs);
    return order;
  }

  openOrders(accountKey: string, symbol?: string): SimOrder[] {
    const acct = this.accounts.get(accountKey);
    if (!acct) return [];
    return [...acct.orders.values()].filter((o) => isOpen(o) && (symbol === undefined || o.symbol === symbol));
  }

  cancelAll(accountKey: string, symbol: string, nowMs: number): void {
    for (const order of this.openOrders(accountKey, symbol)) this.finish(order, 'CANCELED', nowMs);
  }

  /** Fills resting orders the new touch crosses; called after every price step and setMid. */
  onBookChange(symbol: string, nowMs: number): void {
    const market = this.mustMarket(symbol);
    const book = this.resting.get(symbol);
    if (!book) return;
    const { bidUnits, askUnits } = market.top;
    for (const order of [...book]) {
      const touched = order.side === 'BUY' ? askUnits <= order.priceUnits : bidUnits >= order.priceUnits;
      if (touched) this.fill(order, order.priceUnits, true, nowMs);
    }
  }

  /** How much of `side` would only reduce the current position (0 if it would open or add). */
  private reducibleQty(accountKey: string, symbol: string, side: SimSide): bigint {
    const pos = this.position(accountKey, symbol).qtyUnits;
    if (side === 'SELL') return pos > 0n ? pos : 0n;
    return pos < 0n ? -pos : 0n;
  }

  private fill(order: SimOrder, priceUnits: bigint, maker: boolean, nowMs: number): void {
    let qtyUnits = order.origQtyUnits - order.executedQtyUnits;
    if (order.reduceOnly) {
      // The position may have shrunk since placement; a reduce-only order never flips it.
      qtyUnits = minBigint(qtyUnits, this.reducibleQty(order.accountKey, order.symbol, order.side));
      if (qtyUnits === 0n) {
        this.finish(order, 'EXPIRED', nowMs);
        return;
      }
    }
    const rules = this.rules(order.symbol);
    const acct = this.account(order.accountKey);
    const pos = this.position(order.accountKey, order.symbol);

    const qty = unitsToNumber(qtyUnits, rules.qtyScale);
    const price = unitsToNumber(priceUnits, rules.priceScale);
    const signedDelta = order.side === 'BUY' ? qtyUnits : -qtyUnits;
    const realizedPnl = applyToPosition(pos, signedDelta, qty, price, rules.qtyScale);
    const fee = price * qty * (maker ? makerFeeRate : takerFeeRate);
    acct.walletBalance += realizedPnl - fee;
    pos.updateTimeMs = nowMs;

    order.executedQtyUnits += qtyUnits;
    order.cumQuoteUnits += qtyUnits * priceUnits;
    order.updateTimeMs = nowMs;
    const complete = order.executedQtyUnits === order.origQtyUnits;
    order.status = complete ? 'FILLED' : 'PARTIALLY_FILLED';
    if (complete) this.resting.get(order.symbol)?.delete(order);

    const trade: TradeInfo = { tradeId: this.nextTradeId++, qtyUnits, priceUnits, maker, fee, realizedPnl };
    // Income history as Binance books a trade: the commission as a negative COMMISSION entry, a closing
    // trade's PnL as REALIZED_PNL (amounts at 8 decimals, as the user stream prints them).
    const tradeId = String(trade.tradeId);
    this.recordIncome(acct, { symbol: order.symbol, incomeType: 'COMMISSION', income: (-fee).toFixed(8), info: 'COMMISSION', time: nowMs, tradeId });
    if (realizedPnl !== 0) {
      this.recordIncome(acct, { symbol: order.symbol, incomeType: 'REALIZED_PNL', income: realizedPnl.toFixed(8), info: 'REALIZED_PNL', time: nowMs, tradeId });
    }
    this.listener.orderUpdate(order, 'TRADE', trade, nowMs);
    this.listener.positionUpdate(acct, order.symbol, nowMs);
    // Only reduce-only orders can be left partially filled here (capped by the position).
    if (!complete) this.finish(order, 'EXPIRED', nowMs);
  }

  private finish(order: SimOrder, status: 'CANCELED' | 'EXPIRED', nowMs: number): void {
    order.status = status;
    order.updateTimeMs = nowMs;
    this.resting.get(order.symbol)?.delete(order);
    this.listener.orderUpdate(order, status, undefined, nowMs);
  }

  private mustMarket(symbol: string): SymbolMarket {
    const market = this.markets.get(symbol);
    if (!market) throw apiErrors.badSymbol();
    return market;
  }
}

export function isOpen(order: SimOrder): boolean {
  return order.status === 'NEW' || order.status === 'PARTIALLY_FILLED';
}

/** Updates size/entry of a one-way position; returns realized PnL of the part that closed. */
function applyToPosition(pos: SimPosition, signedDeltaUnits: bigint, qty: number, price: number, qtyScale: number): number {
  const before = pos.qtyUnits;
  const after = before + signedDeltaUnits;
  const sameDirection = before === 0n || before > 0n === signedDeltaUnits > 0n;
  let realized = 0;
  if (sameDirection) {
    const oldQty = unitsToNumber(absBigint(before), qtyScale);
    pos.entryPrice = (pos.entryPrice * oldQty + price * qty) / (oldQty + qty);
  } else {
    const closedUnits = minBigint(absBigint(before), absBigint(signedDeltaUnits));
    const closedQty = unitsToNumber(closedUnits, qtyScale);
    realized = (price - pos.entryPrice) * closedQty * (before > 0n ? 1 : -1);
    if (after === 0n) pos.entryPrice = 0;
    else if (after > 0n !== before > 0n) pos.entryPrice = price; // flipped: remainder opened here
  }
  pos.qtyUnits = after;
  pos.realizedPnl += realized;
  return realized;
}
