import type { BookTicker, SymbolFilters } from '../model/market.js';
import type { CancelOutcome, OrderRequest, OrderSnapshot, PlaceOutcome, QueryOutcome } from '../model/orders.js';
import type { FundingPayment, PositionSnapshot } from '../model/positions.js';
import type { AccountConfigChange, AccountMarginState, MarginType, SettingOutcome } from '../model/margin.js';
import type { AccountTrade, TradesFrom } from '../model/trades.js';
import type { IncomeRead } from '../model/income.js';
import type { ProtectiveStopRequest, ProtectiveStopSnapshot, ProtectiveStopUpdate, StopOutcome } from '../model/protective-stops.js';

export interface Subscription {
  close(): Promise<void>;
}

/** What the user-data stream tells besides order updates and funding. */
export interface UserStreamNews {
  /**
   * The stream was down, deaf or on a dead listen key for a while, and is listening again: anything it would have
   * pushed meanwhile must be read by REST (open orders, positions).
   */
  onGap?(reason: string): void;
  /** Positions that changed (ACCOUNT_UPDATE `P`), as the exchange now holds them. */
  onPositions?(positions: PositionSnapshot[]): void;
  /** A conditional order's status change (ALGO_UPDATE). */
  onStopUpdate?(update: ProtectiveStopUpdate): void;
  /**
   * An account setting changed on the exchange: a symbol's leverage, multi-assets mode (ACCOUNT_CONFIG_UPDATE), a
   * symbol's margin type (ACCOUNT_UPDATE MARGIN_TYPE_CHANGE).
   */
  onAccountConfig?(change: AccountConfigChange): void;
}

/**
 * One trading account on the exchange. Every method resolves (never rejects) with an outcome, so callers
 * cannot forget the "unknown" case: a timeout after send is reported as unknown, never as rejected.
 */
export interface ExchangeAccount {
  placeOrder(req: OrderRequest): Promise<PlaceOutcome>;
  cancelOrder(symbol: string, clientOrderId: string): Promise<CancelOutcome>;
  queryOrder(symbol: string, clientOrderId: string): Promise<QueryOutcome>;
  /**
   * An order by the exchange's id (GET /fapi/v1/order with orderId): how the engine learns the client id of an order it
   * did not place (a liquidation's `autoclose-…`) when only the trade list told of it. Optional: test fakes need not.
   */
  queryOrderByExchangeId?(symbol: string, exchangeOrderId: string): Promise<QueryOutcome>;
  /** Throws on failure: boot reconciliation must not proceed on a guess. */
  getPositions(): Promise<PositionSnapshot[]>;
  /** Open orders, of the given symbols or all; throws on failure. */
  getOpenOrders(symbols?: readonly string[]): Promise<OrderSnapshot[]>;
  /** Places a protective stop (algo order, closePosition). */
  placeProtectiveStop(req: ProtectiveStopRequest): Promise<StopOutcome>;
  cancelProtectiveStop(symbol: string, clientAlgoId: string): Promise<StopOutcome>;
  /** Open protective stops, of the given symbols or all; throws on failure (absence must be certain before re-placing). */
  listProtectiveStops(symbols?: readonly string[]): Promise<ProtectiveStopSnapshot[]>;
  /** This account's key in the venue's request budget (order counts are per account). */
  readonly rateKey?: string;
  /** User-data stream: order updates (with the trade's commission) and funding payments pushed by the exchange. */
  subscribeOrderUpdates(onUpdate: (order: OrderSnapshot) => void, onFunding?: (payment: FundingPayment) => void, news?: UserStreamNews): Promise<Subscription>;
  /**
   * Account preflight (optional: an in-process test account may not model margin). Reads position mode,
   * multi-assets mode, available balance, the symbols' leverage brackets and the open positions' liquidation
   * prices; throws on failure (a preflight must not pass on a guess).
   */
  readMarginState?(symbols: readonly string[]): Promise<AccountMarginState>;
  /**
   * The account's trades of one symbol, oldest first, at most one page (1000) from `from`: GET /fapi/v1/userTrades.
   * Throws on failure. Optional: test fakes that push every trade need not list them.
   */
  listTrades?(symbol: string, from: TradesFrom): Promise<AccountTrade[]>;
  /**
   * The account's income records of one type from `startTimeMs` (inclusive), oldest first, at most one page (1000):
   * GET /fapi/v1/income. Throws when the read fails; a malformed record is set aside in `rejected`, never guessed
   * at. Optional: test fakes that push every payment need not list them.
   */
  listIncome?(incomeType: string, startTimeMs: number): Promise<IncomeRead>;
  /** POST /fapi/v1/leverage. */
  setLeverage?(symbol: string, leverage: number): Promise<SettingOutcome>;
  /** POST /fapi/v1/marginType; "no need to change" (-4046) is success. */
  setMarginType?(symbol: string, marginType: MarginType): Promise<SettingOutcome>;
  close(): Promise<void>;
}

export interface MarketData {
  /** Throws on failure. */
  getSymbolFilters(symbols: readonly string[]): Promise<Record<string, SymbolFilters>>;
  /** bookTicker stream for the given symbols; reconnects on its own until closed. */
  subscribeBookTicker(symbols: readonly string[], onTick: (tick: BookTicker) => void): Promise<Subscription>;
  close(): Promise<void>;
}

export interface AccountCredentials {
  apiKey: string;
  apiSecret: string;
}

export interface ExchangeConnector {
  marketData(): MarketData;
  account(credentials: AccountCredentials): ExchangeAccount;
}
