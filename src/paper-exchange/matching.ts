// Matching and accounting: one-way position mode, one account per API key, fills against the depth of
// order-book.ts: takers walk its levels (one trade per level), resting orders queue behind the size that was
// at their price and fill from the tape at the touch, or in full once the market trades through them.
import { ForgettingQueue } from './order-forgetting.js';
import { isOpen } from './order-open.js';
import { foundByQuery } from './order-retention.js';
import { partitionPoint } from '../model/partition.js';
import { absBigint, formatUnits, minBigint, unitsToNumber } from '../model/decimal.js';
import { apiErrors } from './errors.js';
import type { TouchSizes } from './order-book.js';
import { withinLimit } from './order-book.js';
import { percentPriceBound } from './percent-price.js';
import type { SymbolMarket } from './price-process.js';
import type { SymbolRules } from './symbols.js';
import type { SimTrade } from './trade-history.js';
import { keepTrade } from './trade-history.js';
import { keepIncome } from './income-history.js';

export type SimSide = 'BUY' | 'SELL';
export type SimTimeInForce = 'GTC' | 'IOC' | 'FOK' | 'GTX' | 'GTD';
/** EXPIRED_IN_MATCH: expired by self-trade prevention (https://developers.binance.com/docs/derivatives/usds-margined-futures/faq/stp-faq). */
export type SimOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'EXPIRED_IN_MATCH';
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
  /** GTD only: when the order expires, ms (whole seconds). */
  goodTillDateMs?: number;
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
  /** GTD: expiry time in ms; 0 for every other time in force. */
  goodTillDateMs: number;
  /** Resting only: book size still ahead of this order at its price (it fills after the tape has eaten that). */
  queueAheadUnits: bigint;
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
  /** Every client id used by this account -> its latest order (an id is unique among open orders only). */
  byClientId: Map<string, SimOrder>;
  /**
   * The orders of `orders` still open (NEW, PARTIALLY_FILLED), in the order they were placed: what openOrders lists and
   * the margin of resting orders sums. Scanning `orders`, every order the account ever placed, made each order's margin
   * check cost more the longer the account traded (a month of an order a minute: 43 000 orders scanned per order).
   */
  open: Set<SimOrder>;
  /** What GET /fapi/v1/income lists: commissions, realized PnL and funding, oldest first (bounded: income-history.ts). */
  income: IncomeRecord[];
  /** What GET /fapi/v1/userTrades lists: this account's trades, oldest first (bounded: trade-history.ts). */
  trades: SimTrade[];
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
  /** Final orders forgotten: Binance no longer finds them (order-forgetting.ts); an exchange that keeps all never says. */
  ordersForgotten?(orders: readonly SimOrder[]): void;
}

/**
 * Told of every change to what an account's maintenance check reads besides the marks (its wallet, its positions'
 * quantities and entries) and of the account's removal: the margin book's liquidation bands (breach-bands.ts),
 * which must re-band an account after each such change or miss its liquidation.
 */
export interface AccountWatcher {
  changed(account: SimAccount): void;
  dropped(account: SimAccount): void;
}

export interface MatchingCounters {
  nextOrderId: number;
  nextTradeId: number;
  nextTranId: number;
}

/** One trade the market printed: at one price, taken by one aggressor (an aggTrades row on the symbol's grids). */
export interface MarketTrade {
  priceUnits: bigint;
  qtyUnits: bigint;
  /** The buyer was the resting side: the aggressor sold (it traded against the bids). */
  buyerIsMaker: boolean;
}

// Binance's default VIP0 USDⓈ-M fee rates; only used to make wallet balance move plausibly.
export const makerFeeRate = 0.0002;
export const takerFeeRate = 0.0005;

export class MatchingEngine {
  private readonly accounts = new Map<string, SimAccount>();
  /**
   * Per symbol, the accounts that may hold it, in account order: every account a position record of the symbol was
   * made or read for (position(), the only way a fill reaches one) or restored with (notePositions). holders() reads
   * these, not every account: at 10 000 accounts its pass over all of them on every price step of every symbol was
   * the simulator's biggest cost. Accounts found flat leave the list as holders() passes them; dropped ones at once.
   */
  private readonly mayHold = new Map<string, { list: SimAccount[]; members: Set<SimAccount> }>();
  /** Each account's place in `accounts` (creation order): the lists above keep it. */
  private readonly rankOf = new WeakMap<SimAccount, number>();
  private nextRank = 0;
  private watcher: AccountWatcher | undefined;
  private readonly resting = new Map<string, Set<SimOrder>>();
  /**
   * Every accepted order in arrival order, for a run that reports them all (a backtest, the simulation's checks); null
   * for an exchange that forgets orders (the simulator server): allOrders then reads the accounts.
   */
  private readonly log: SimOrder[] | null;
  /** The orders still to be forgotten once Binance would no longer find them (order-forgetting.ts); null: none are. */
  private readonly forgetting: ForgettingQueue<SimOrder> | null;
  private nextOrderId = 4_000_000_001; // Binance ids are large; makes "small id" bugs visible
  private nextTradeId = 100_001;
  private nextTranId = 9_000_000_001;

  constructor(
    private readonly markets: ReadonlyMap<string, SymbolMarket>,
    private readonly startingBalanceUsd: number,
    private readonly listener: ExchangeListener,
    opts: { forgetsOrders?: boolean } = {},
  ) {
    for (const symbol of markets.keys()) this.resting.set(symbol, new Set());
    this.forgetting = opts.forgetsOrders === true ? new ForgettingQueue<SimOrder>({ isOpen, found: foundByQuery, createdAtMs: (o) => o.timeMs }) : null;
    this.log = this.forgetting === null ? [] : null;
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
        open: new Set(),
        income: [],
        trades: [],
      };
      this.accounts.set(key, acct);
      this.rankOf.set(acct, this.nextRank++);
    }
    return acct;
  }

  /** An account's positions (and wallet) were set as a whole (a restore): each of its symbols is one it may hold. */
  notePositions(account: SimAccount): void {
    for (const symbol of account.positions.keys()) this.noteMayHold(account, symbol);
    this.noteChanged(account);
  }

  /** The one watcher of account changes (the margin book's liquidation bands). */
  watchAccounts(watcher: AccountWatcher): void {
    if (this.watcher) throw new Error('MatchingEngine: account changes already watched');
    this.watcher = watcher;
  }

  /** Tells the watcher of a change to a live account (a dropped one's record is no one's to liquidate). */
  private noteChanged(account: SimAccount): void {
    if (this.watcher && this.accounts.get(account.key) === account) this.watcher.changed(account);
  }

  /** The account's place in creation order: the order of holders() and of liquidation checks. */
  rank(account: SimAccount): number {
    const rank = this.rankOf.get(account);
    if (rank === undefined) throw new Error(`MatchingEngine: account ${account.key} is not one of this engine's`);
    return rank;
  }

  private noteMayHold(account: SimAccount, symbol: string): void {
    let holding = this.mayHold.get(symbol);
    if (holding?.members.has(account)) return;
    if (!holding) this.mayHold.set(symbol, (holding = { list: [], members: new Set() }));
    holding.members.add(account);
    const { list } = holding;
    const rank = this.rankOf.get(account) ?? Number.MAX_SAFE_INTEGER;
    const at = partitionPoint(list.length, (i) => (this.rankOf.get(list[i] as SimAccount) ?? Number.MAX_SAFE_INTEGER) < rank);
    list.splice(at, 0, account);
  }

  /** The id counters (state-store persistence: restored so ids never repeat after a restart). */
  counters(): MatchingCounters {
    return { nextOrderId: this.nextOrderId, nextTradeId: this.nextTradeId, nextTranId: this.nextTranId };
  }

  restoreCounters(c: MatchingCounters): void {
    this.nextOrderId = c.nextOrderId;
    this.nextTradeId = c.nextTradeId;
    this.nextTranId = c.nextTranId;
  }

  /** Restores one stored order, oldest first: into its account, as its client id's latest, the log, the book if open. */
  restoreOrder(order: SimOrder): void {
    const acct = this.account(order.accountKey);
    acct.orders.set(order.orderId, order);
    acct.byClientId.set(order.clientOrderId, order);
    if (isOpen(order)) acct.open.add(order);
    this.log?.push(order);
    this.forgetting?.add(order);
    if (isOpen(order) && order.type === 'LIMIT') this.resting.get(order.symbol)?.add(order);
  }

  /** A paper account reset: the account and its orders are forgotten (its next request starts a blank one). */
  dropAccount(key: string): void {
    const acct = this.accounts.get(key);
    if (!acct) return;
    for (const order of acct.orders.values()) this.resting.get(order.symbol)?.delete(order);
    this.accounts.delete(key);
    this.watcher?.dropped(acct);
    for (const holding of this.mayHold.values()) {
      if (holding.members.delete(acct)) holding.list = holding.list.filter((a) => a !== acct);
    }
    if (this.log !== null) {
      const kept = this.log.filter((o) => o.accountKey !== key);
      this.log.length = 0;
      this.log.push(...kept);
    }
  }

  /** Every account key (a reset of the whole exchange). */
  accountKeys(): string[] {
    return [...this.accounts.keys()];
  }

  hasAccount(key: string): boolean {
    return this.accounts.has(key);
  }

  /**
   * Every account with a position in `symbol` (signed quantity units at the symbol's qtyScale), in account order, for
   * funding and the margin book's full liquidation pass (the reference its bands are tested against).
   */
  holders(symbol: string): { account: SimAccount; qtyUnits: bigint }[] {
    const out: { account: SimAccount; qtyUnits: bigint }[] = [];
    const holding = this.mayHold.get(symbol);
    if (!holding) return out;
    const { list, members } = holding;
    let kept = 0;
    for (const account of list) {
      const qtyUnits = account.positions.get(symbol)?.qtyUnits ?? 0n;
      if (qtyUnits === 0n) {
        members.delete(account); // flat: back on the list with its next position
        continue;
      }
      list[kept++] = account;
      out.push({ account, qtyUnits });
    }
    list.length = kept;
    return out;
  }

  /** Books one funding payment (signed decimal USDT, received positive) into the wallet and the income history. */
  bookFunding(account: SimAccount, symbol: string, amountUsd: string, nowMs: number): void {
    account.walletBalance += Number(amountUsd);
    this.noteChanged(account);
    this.recordIncome(account, { symbol, incomeType: 'FUNDING_FEE', income: amountUsd, info: 'FUNDING_FEE', time: nowMs, tradeId: '' });
    this.listener.fundingUpdate(account, symbol, amountUsd, nowMs);
  }

  private recordIncome(account: SimAccount, entry: Omit<IncomeRecord, 'tranId' | 'asset'>): void {
    // A literal, not `{ ...entry, … }`: a spread with keys added takes V8's slow copy, two of them every fill.
    const { symbol, incomeType, income, info, time, tradeId } = entry;
    keepIncome(account.income, { symbol, incomeType, income, info, time, tradeId, asset: 'USDT', tranId: this.nextTranId++ });
  }

  /** Every accepted order (not yet forgotten), in arrival order. */
  allOrders(): readonly SimOrder[] {
    if (this.log !== null) return this.log;
    const all: SimOrder[] = [];
    for (const acct of this.accounts.values()) for (const order of acct.orders.values()) all.push(order);
    // Ids are given in arrival order.
    return all.sort((a, b) => a.orderId - b.orderId);
  }

  /** Forgets the orders Binance would no longer find at `nowMs` (a bounded number of them), and says which. */
  private forgetUnfound(nowMs: number): void {
    const due = this.forgetting?.due(nowMs);
    if (due === undefined || due.length === 0) return;
    for (const order of due) {
      if (isOpen(order)) throw new Error(`paper exchange: order ${order.orderId} is ${order.status} and was to be forgotten`);
      const acct = this.accounts.get(order.accountKey);
      // A dropped account's orders went with it (a new account under its key has other ids).
      if (acct?.orders.get(order.orderId) !== order) continue;
      acct.orders.delete(order.orderId);
      if (acct.byClientId.get(order.clientOrderId) === order) acct.byClientId.delete(order.clientOrderId);
    }
    this.listener.ordersForgotten?.(due);
  }

  position(accountKey: string, symbol: string): SimPosition {
    const acct = this.account(accountKey);
    let pos = acct.positions.get(symbol);
    if (!pos) {
      pos = { qtyUnits: 0n, entryPrice: 0, realizedPnl: 0, updateTimeMs: 0 };
      acct.positions.set(symbol, pos);
    }
    // Whoever gets the record may change it (a fill): the account may hold the symbol from now on.
    this.noteMayHold(acct, symbol);
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
    // One order in, up to a bound out: what the exchange holds stays what Binance would still find.
    this.forgetUnfound(opts.nowMs);
    const acct = this.account(accountKey);
    // newClientOrderId is "a unique id among open orders"
    // (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api): an id whose order
    // has ended may be used again, and a query by it then finds the newest order.
    const sameId = acct.byClientId.get(input.clientOrderId);
    if (sameId && isOpen(sameId)) throw apiErrors.duplicateClientId();

    const limit = input.priceUnits ?? 0n;
    // A MARKET order walks the book no further than the PERCENT_PRICE bound on its side.
    const reach = input.type === 'MARKET' ? percentPriceBound(market, input.side) : limit;
    const crosses = market.depth.bestFor(input.side, reach) !== undefined;
    if (input.type === 'LIMIT' && input.timeInForce === 'GTX' && (opts.forcePostOnlyReject || crosses)) {
      throw apiErrors.postOnlyRejected();
    }

    let qtyUnits = input.qtyUnits;
    if (input.reduceOnly) {
      const reducible = this.reducibleQty(accountKey, input.symbol, input.side);
      if (reducible === 0n) throw apiErrors.reduceOnlyRejected();
      qtyUnits = minBigint(qtyUnits, reducible);
    }
    // FOK: all of it now or nothing; Binance refuses the order (-5021) rather than accepting and expiring it.
    if (input.timeInForce === 'FOK' && market.depth.available(input.side, reach) < qtyUnits) throw apiErrors.fokRejected();

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
      goodTillDateMs: input.goodTillDateMs ?? 0,
      queueAheadUnits: 0n,
      timeMs: opts.nowMs,
      updateTimeMs: opts.nowMs,
      receivedAt: opts.receivedAt,
    };
    acct.orders.set(order.orderId, order);
    acct.byClientId.set(order.clientOrderId, order);
    acct.open.add(order);
    this.log?.push(order);
    this.forgetting?.add(order);
    const accepted = { ...order };
    this.listener.orderUpdate(order, 'NEW', undefined, opts.nowMs);

    if (crosses) this.take(order, market, reach, opts.nowMs);
    if (!isOpen(order)) return { accepted, order };
    if (order.type === 'MARKET' || order.timeInForce === 'IOC' || order.timeInForce === 'FOK') {
      // What the book could not give within the limit (or the PERCENT_PRICE bound) expires.
      this.finish(order, 'EXPIRED', opts.nowMs);
    } else {
      // Rests: behind the size already at its price; inside the spread, or after taking, nothing is ahead.
      order.queueAheadUnits = market.depth.sizeAt(order.side, order.priceUnits);
      this.resting.get(order.symbol)?.add(order);
    }
    return { accepted, order };
  }

  /**
   * Taker: walks the opposite levels best first while they are within `reach`, one trade per level (each an
   * ORDER_TRADE_UPDATE, PARTIALLY_FILLED until the last). Own resting orders it would meet are expired first
   * (self-trade prevention, EXPIRE_MAKER: the default on Binance).
   */
  private take(order: SimOrder, market: SymbolMarket, reach: bigint, nowMs: number): void {
    for (let level = market.depth.bestFor(order.side, reach); level && isOpen(order); level = market.depth.bestFor(order.side, reach)) {
      this.expireOwnMakers(order, level.priceUnits, nowMs);
      const before = order.executedQtyUnits;
      this.fill(order, level.priceUnits, false, nowMs, level.qtyUnits);
      const took = order.executedQtyUnits - before;
      if (took === 0n) break;
      market.depth.consume(order.side, took);
    }
    market.depthChanged(nowMs);
  }

  /** Expires this account's resting orders on the other side that a taker reaching `priceUnits` would trade with. */
  private expireOwnMakers(taker: SimOrder, priceUnits: bigint, nowMs: number): void {
    for (const maker of this.resting.get(taker.symbol) ?? []) {
      if (maker.accountKey !== taker.accountKey || maker.side === taker.side) continue;
      if (withinLimit(taker.side, maker.priceUnits, priceUnits)) this.finish(maker, 'EXPIRED_IN_MATCH', nowMs);
    }
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
    const out: SimOrder[] = [];
    for (const o of acct.open) {
      if (!isOpen(o)) throw new Error(`paper exchange: order ${o.orderId} is ${o.status} but still indexed as open`);
      if (symbol === undefined || o.symbol === symbol) out.push(o);
    }
    return out;
  }

  cancelAll(accountKey: string, symbol: string, nowMs: number): void {
    for (const order of this.openOrders(accountKey, symbol)) this.finish(order, 'CANCELED', nowMs);
  }

  /**
   * After every price step and setMid: GTD orders past their time expire; an order the new touch has traded
   * through (a buy at or above the ask) fills in full at its limit; an order at (or inside) its own touch
   * fills from this step's tape once the size queued ahead of it is gone, oldest order first.
   */
  onBookChange(symbol: string, nowMs: number): void {
    const market = this.mustMarket(symbol);
    const book = this.resting.get(symbol);
    // Nothing resting (most of a backtest's quotes): the book's sizes and tape need not be read.
    if (!book || book.size === 0) return;
    const { bidUnits, askUnits } = market.top;
    const tape = { BUY: market.depth.tradedAgainst('BUY'), SELL: market.depth.tradedAgainst('SELL') };
    for (const order of [...book]) {
      if (order.goodTillDateMs !== 0 && nowMs >= order.goodTillDateMs) {
        this.finish(order, 'EXPIRED', nowMs);
        continue;
      }
      const tradedThrough = order.side === 'BUY' ? askUnits <= order.priceUnits : bidUnits >= order.priceUnits;
      if (tradedThrough) {
        this.fill(order, order.priceUnits, true, nowMs);
        continue;
      }
      const touch = order.side === 'BUY' ? bidUnits : askUnits;
      if (!withinLimit(order.side, touch, order.priceUnits)) continue; // behind the touch: nothing trades here
      if (touch !== order.priceUnits) order.queueAheadUnits = 0n; // better than the touch: first in line
      const queueEaten = minBigint(order.queueAheadUnits, tape[order.side]);
      order.queueAheadUnits -= queueEaten;
      tape[order.side] -= queueEaten;
      const share = minBigint(tape[order.side], order.origQtyUnits - order.executedQtyUnits);
      if (share === 0n) continue;
      tape[order.side] -= share;
      this.fill(order, order.priceUnits, true, nowMs, share);
    }
  }

  /**
   * A trade the market printed (a backtest's aggTrades row), for the resting orders it reaches, oldest first. The
   * aggressor is the seller when the buyer was the maker: it swept the bids down to `priceUnits`, so a resting buy
   * above that price was reached before it and fills in full at its limit; one at exactly that price fills only from
   * what is left of the print's quantity once the size queued ahead of it is gone (the print eats that queue first;
   * older own orders at the price take their share before younger ones). Symmetric for sells and buying aggressors.
   * A print of either aggressor strictly beyond an order's price traded through it: it fills in full. Returns the
   * number of fills it made.
   */
  onMarketTrade(symbol: string, print: MarketTrade, nowMs: number): number {
    const book = this.resting.get(symbol);
    if (!book || book.size === 0 || print.qtyUnits <= 0n) return 0;
    // The side of the book the aggressor trades against: a selling aggressor (buyer the maker) meets the bids.
    const metSide: SimSide = print.buyerIsMaker ? 'BUY' : 'SELL';
    /** Of the print's quantity at its price, what our older orders there already took (ahead of the younger ones). */
    let takenAtPrice = 0n;
    let fills = 0;
    // The set holds orders in the order they came to rest: oldest first.
    for (const order of [...book]) {
      if (order.goodTillDateMs !== 0 && nowMs >= order.goodTillDateMs) {
        this.finish(order, 'EXPIRED', nowMs);
        continue;
      }
      const through = order.side === 'BUY' ? print.priceUnits < order.priceUnits : print.priceUnits > order.priceUnits;
      if (through) {
        this.fill(order, order.priceUnits, true, nowMs);
        fills += 1;
        continue;
      }
      if (order.priceUnits !== print.priceUnits || order.side !== metSide) continue;
      const reaching = print.qtyUnits - takenAtPrice;
      const queueEaten = minBigint(order.queueAheadUnits, reaching);
      order.queueAheadUnits -= queueEaten;
      const share = minBigint(reaching - queueEaten, order.origQtyUnits - order.executedQtyUnits);
      if (share <= 0n) continue;
      takenAtPrice += share;
      this.fill(order, order.priceUnits, true, nowMs, share);
      fills += 1;
    }
    return fills;
  }

  /**
   * The touch's sizes as the market shows them (a backtest's bookTicker): a resting order at the touch has at most
   * that size ahead of it (what left the level was traded, which prints report, or cancelled); never a larger queue.
   * A size of 0 says nothing (order-book.ts, setTouchSizes, keeps the level as it was).
   */
  capQueuesAtTouch(symbol: string, touch: TouchSizes): void {
    const { bidUnits, bidQtyUnits, askUnits, askQtyUnits } = touch;
    for (const order of this.resting.get(symbol) ?? []) {
      const [price, shown] = order.side === 'BUY' ? [bidUnits, bidQtyUnits] : [askUnits, askQtyUnits];
      if (order.priceUnits === price && shown > 0n && order.queueAheadUnits > shown) order.queueAheadUnits = shown;
    }
  }

  /** How much of `side` would only reduce the current position (0 if it would open or add). */
  private reducibleQty(accountKey: string, symbol: string, side: SimSide): bigint {
    const pos = this.position(accountKey, symbol).qtyUnits;
    if (side === 'SELL') return pos > 0n ? pos : 0n;
    return pos < 0n ? -pos : 0n;
  }

  /** One trade of `order` at `priceUnits`: its remaining quantity, or at most `upToUnits` of it. */
  private fill(order: SimOrder, priceUnits: bigint, maker: boolean, nowMs: number, upToUnits?: bigint): void {
    const remaining = order.origQtyUnits - order.executedQtyUnits;
    let qtyUnits = upToUnits === undefined ? remaining : minBigint(remaining, upToUnits);
    let cappedByPosition = false;
    if (order.reduceOnly) {
      // The position may have shrunk since placement; a reduce-only order never flips it.
      const reducible = this.reducibleQty(order.accountKey, order.symbol, order.side);
      cappedByPosition = reducible < qtyUnits;
      qtyUnits = minBigint(qtyUnits, reducible);
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
    this.noteChanged(acct);

    order.executedQtyUnits += qtyUnits;
    order.cumQuoteUnits += qtyUnits * priceUnits;
    order.updateTimeMs = nowMs;
    const complete = order.executedQtyUnits === order.origQtyUnits;
    order.status = complete ? 'FILLED' : 'PARTIALLY_FILLED';
    if (complete) {
      this.resting.get(order.symbol)?.delete(order);
      acct.open.delete(order);
    }

    const trade: TradeInfo = { tradeId: this.nextTradeId++, qtyUnits, priceUnits, maker, fee, realizedPnl };
    // Income history as Binance books a trade: the commission as a negative COMMISSION entry, a closing
    // trade's PnL as REALIZED_PNL (amounts at 8 decimals, as the user stream prints them).
    const tradeId = String(trade.tradeId);
    this.recordIncome(acct, { symbol: order.symbol, incomeType: 'COMMISSION', income: (-fee).toFixed(8), info: 'COMMISSION', time: nowMs, tradeId });
    if (realizedPnl !== 0) {
      this.recordIncome(acct, { symbol: order.symbol, incomeType: 'REALIZED_PNL', income: realizedPnl.toFixed(8), info: 'REALIZED_PNL', time: nowMs, tradeId });
    }
    keepTrade(acct.trades, {
      id: trade.tradeId,
      orderId: order.orderId,
      symbol: order.symbol,
      side: order.side,
      price: formatUnits(priceUnits, rules.priceScale),
      qty: formatUnits(qtyUnits, rules.qtyScale),
      quoteQty: formatUnits(qtyUnits * priceUnits, rules.priceScale + rules.qtyScale),
      realizedPnl: realizedPnl.toFixed(8),
      commission: fee.toFixed(8),
      commissionAsset: 'USDT',
      time: nowMs,
      buyer: order.side === 'BUY',
      maker,
      positionSide: 'BOTH',
    });
    this.listener.orderUpdate(order, 'TRADE', trade, nowMs);
    this.listener.positionUpdate(acct, order.symbol, nowMs);
    // A reduce-only order capped by the position has nothing left to do.
    if (!complete && cappedByPosition) this.finish(order, 'EXPIRED', nowMs);
  }

  private finish(order: SimOrder, status: 'CANCELED' | 'EXPIRED' | 'EXPIRED_IN_MATCH', nowMs: number): void {
    order.status = status;
    order.updateTimeMs = nowMs;
    this.resting.get(order.symbol)?.delete(order);
    this.accounts.get(order.accountKey)?.open.delete(order);
    // An STP expiry reports execution type EXPIRED with status EXPIRED_IN_MATCH.
    this.listener.orderUpdate(order, status === 'EXPIRED_IN_MATCH' ? 'EXPIRED' : status, undefined, nowMs);
  }

  private mustMarket(symbol: string): SymbolMarket {
    const market = this.markets.get(symbol);
    if (!market) throw apiErrors.badSymbol();
    return market;
  }
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
