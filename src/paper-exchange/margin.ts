// Margin and liquidation, as Binance USDⓈ-M runs a cross-margin, one-way, single-asset (USDT) account:
// - per account: position mode (one-way / hedge) and the multi-assets flag; per symbol: leverage (default 20,
//   as Binance gives a new account) and margin type (CROSSED default);
// - initial margin = notional / leverage; maintenance margin = notional × mmr − cum from the bracket table;
// - available balance = wallet + unrealized PnL − position initial margin − open-order initial margin; an
//   order that would add exposure beyond it is refused -2019 "Margin is insufficient.", one that would take
//   the position past the leverage's notional cap -2027;
// - liquidation: when the margin balance (wallet + unrealized at mark) falls to the total maintenance margin,
//   the exchange cancels the account's open orders and closes every position with a MARKET order whose client
//   id starts with `autoclose-` (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Order-Update:
//   "If user gets liquidated due to insufficient margin balance: c shows as autoclose-XXX").
// Mark price is the mid of the synthetic touch. Simplifications: ISOLATED is accepted and reported but margined
// as cross; no liquidation clearance fee; the bracket of a position is taken at its current notional.
// Error codes: https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code
import type { AccountConfigChange } from '../model/margin.js';
import { absBigint, unitsToNumber } from '../model/decimal.js';
import { bracketFor, defaultBrackets, maintenanceMargin, maxLeverageOf, maxNotionalAt, type LeverageBracket } from './brackets.js';
import { BreachBands } from './breach-bands.js';
import { SimApiError } from './errors.js';
import type { MatchingEngine, NewOrderInput, SimAccount } from './matching.js';
import type { SymbolMarket } from './price-process.js';

export type MarginType = 'CROSSED' | 'ISOLATED';

/**
 * Whom a book change's liquidation check looks at: the accounts whose price band the new mark left (breach-bands.ts),
 * or every holder of the symbol (the full pass: the reference the bands are tested against). Both liquidate the same.
 */
export type LiquidationCheck = 'bands' | 'everyHolder';

/** Binance gives every symbol of a new account 20× leverage. */
export const defaultLeverage = 20;

const bad = (code: number, msg: string): SimApiError => new SimApiError(400, code, msg);
export const marginErrors = {
  insufficient: () => bad(-2019, 'Margin is insufficient.'),
  overMaxNotional: () => bad(-2027, 'Exceeded the maximum allowable position at current leverage.'),
  badLeverage: (text: string) => bad(-4028, `Leverage ${text} is not valid`),
  noNeedMarginType: () => bad(-4046, 'No need to change margin type.'),
  marginTypeOpenOrders: () => bad(-4047, 'Margin type cannot be changed if there exists open orders.'),
  marginTypeWithPosition: () => bad(-4048, 'Margin type cannot be changed if there exists position.'),
  noNeedPositionSide: () => bad(-4059, 'No need to change position side.'),
  positionSideMismatch: () => bad(-4061, "Order's position side does not match user's setting."),
  positionSideOpenOrders: () => bad(-4067, 'Position side cannot be changed if there exists open orders.'),
  positionSideWithPosition: () => bad(-4068, 'Position side cannot be changed if there exists position.'),
  badMarginType: () => bad(-1130, "Data sent for parameter 'marginType' is not valid."),
  badBool: (param: string) => bad(-1130, `Data sent for parameter '${param}' is not valid.`),
};

export interface AccountSettings {
  dualSidePosition: boolean;
  multiAssetsMargin: boolean;
  /**
   * BNB fee discount (POST /fapi/v1/feeBurn). Only the flag: the paper exchange holds no BNB, so its commissions stay in
   * USDT, as Binance's do when the futures wallet has no BNB to pay them with.
   */
  feeBurn: boolean;
  leverage: Map<string, number>;
  marginType: Map<string, MarginType>;
}

/** One position's margin figures at the current mark. */
export interface PositionMargin {
  leverage: number;
  marginType: MarginType;
  markPrice: number;
  notional: number; // signed, at mark
  unrealized: number;
  initialMargin: number;
  openOrderInitialMargin: number;
  maintMargin: number;
  maxNotional: number;
  /** 0 when the position cannot be liquidated (flat, or the wallet covers any move). */
  liquidationPrice: number;
}

/** The account's totals at the current marks (USDT). */
export interface MarginTotals {
  wallet: number;
  unrealized: number;
  marginBalance: number;
  positionInitialMargin: number;
  openOrderInitialMargin: number;
  initialMargin: number;
  maintMargin: number;
  available: number;
}

export class MarginBook {
  private readonly settings = new Map<string, AccountSettings>();
  private nextAutoclose = 1;
  private readonly bands: BreachBands | undefined;

  /**
   * Told of a setting changed by a call (leverage, multi-assets mode: the server pushes it as ACCOUNT_CONFIG_UPDATE;
   * a margin type: as ACCOUNT_UPDATE MARGIN_TYPE_CHANGE).
   * Set after a restore, so restored settings push nothing.
   */
  onConfigChange: ((accountKey: string, change: AccountConfigChange) => void) | null = null;

  constructor(
    private readonly engine: MatchingEngine,
    private readonly markets: ReadonlyMap<string, SymbolMarket>,
    readonly brackets: readonly LeverageBracket[] = defaultBrackets,
    check: LiquidationCheck = 'bands',
  ) {
    if (check === 'bands') {
      this.bands = new BreachBands(markets, brackets, (account) => engine.rank(account));
      engine.watchAccounts(this.bands);
    }
  }

  private of(accountKey: string): AccountSettings {
    let s = this.settings.get(accountKey);
    if (!s) {
      s = { dualSidePosition: false, multiAssetsMargin: false, feeBurn: false, leverage: new Map(), marginType: new Map() };
      this.settings.set(accountKey, s);
    }
    return s;
  }

  /** One account's settings (state-store persistence); undefined when it never changed any. */
  settingsOf(accountKey: string): AccountSettings | undefined {
    return this.settings.get(accountKey);
  }

  restoreSettings(accountKey: string, s: AccountSettings): void {
    this.settings.set(accountKey, s);
  }

  /** The counter in `autoclose-` client ids (state-store persistence). */
  get autocloseCounter(): number {
    return this.nextAutoclose;
  }

  set autocloseCounter(n: number) {
    this.nextAutoclose = n;
  }

  /** A paper account reset: back to a new account's settings. */
  dropAccount(accountKey: string): void {
    this.settings.delete(accountKey);
  }

  leverageOf(accountKey: string, symbol: string): number {
    return this.settings.get(accountKey)?.leverage.get(symbol) ?? defaultLeverage;
  }

  marginTypeOf(accountKey: string, symbol: string): MarginType {
    return this.settings.get(accountKey)?.marginType.get(symbol) ?? 'CROSSED';
  }

  dualSidePosition(accountKey: string): boolean {
    return this.settings.get(accountKey)?.dualSidePosition ?? false;
  }

  multiAssetsMargin(accountKey: string): boolean {
    return this.settings.get(accountKey)?.multiAssetsMargin ?? false;
  }

  feeBurn(accountKey: string): boolean {
    return this.settings.get(accountKey)?.feeBurn ?? false;
  }

  maxNotional(accountKey: string, symbol: string): number {
    return maxNotionalAt(this.leverageOf(accountKey, symbol), this.brackets);
  }

  /** POST /fapi/v1/leverage: an integer 1..the symbol's highest bracket leverage, else -4028. */
  setLeverage(accountKey: string, symbol: string, text: string): number {
    const leverage = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isInteger(leverage) || leverage < 1 || leverage > maxLeverageOf(this.brackets)) {
      throw marginErrors.badLeverage(text);
    }
    const held = Math.abs(this.positionMargin(accountKey, symbol).notional);
    if (held > maxNotionalAt(leverage, this.brackets)) throw marginErrors.overMaxNotional();
    const before = this.leverageOf(accountKey, symbol);
    this.of(accountKey).leverage.set(symbol, leverage);
    if (leverage !== before) this.onConfigChange?.(accountKey, { kind: 'leverage', symbol, leverage });
    return leverage;
  }

  /** POST /fapi/v1/marginType: refused while the symbol has a position (-4048) or open orders (-4047). */
  setMarginType(accountKey: string, symbol: string, text: string): void {
    if (text !== 'CROSSED' && text !== 'ISOLATED') throw marginErrors.badMarginType();
    if (this.marginTypeOf(accountKey, symbol) === text) throw marginErrors.noNeedMarginType();
    if (this.engine.position(accountKey, symbol).qtyUnits !== 0n) throw marginErrors.marginTypeWithPosition();
    if (this.engine.openOrders(accountKey, symbol).length > 0) throw marginErrors.marginTypeOpenOrders();
    this.of(accountKey).marginType.set(symbol, text);
    this.onConfigChange?.(accountKey, { kind: 'margin_type', symbol, isolated: text === 'ISOLATED' });
  }

  /** POST /fapi/v1/positionSide/dual: refused with any position (-4068) or open order (-4067) on the account. */
  setDualSidePosition(accountKey: string, text: string): void {
    const value = parseBool(text, 'dualSidePosition');
    if (this.dualSidePosition(accountKey) === value) throw marginErrors.noNeedPositionSide();
    for (const symbol of this.markets.keys()) {
      if (this.engine.position(accountKey, symbol).qtyUnits !== 0n) throw marginErrors.positionSideWithPosition();
    }
    if (this.engine.openOrders(accountKey).length > 0) throw marginErrors.positionSideOpenOrders();
    this.of(accountKey).dualSidePosition = value;
  }

  /** POST /fapi/v1/multiAssetsMargin. */
  setMultiAssetsMargin(accountKey: string, text: string): void {
    const on = parseBool(text, 'multiAssetsMargin');
    const before = this.multiAssetsMargin(accountKey);
    this.of(accountKey).multiAssetsMargin = on;
    if (on !== before) this.onConfigChange?.(accountKey, { kind: 'multi_assets', on });
  }

  /** POST /fapi/v1/feeBurn ("true" or "false", on every symbol). */
  setFeeBurn(accountKey: string, text: string): void {
    this.of(accountKey).feeBurn = parseBool(text, 'feeBurn');
  }

  positionMargin(accountKey: string, symbol: string): PositionMargin {
    const basics = this.basics(accountKey, symbol);
    if (basics.notional === 0) return { ...basics, liquidationPrice: 0 };
    return { ...basics, liquidationPrice: this.liquidationPrice(accountKey, symbol) };
  }

  /** Everything but the liquidation price (which needs the other positions' figures). */
  private basics(accountKey: string, symbol: string): Omit<PositionMargin, 'liquidationPrice'> {
    const market = this.markets.get(symbol);
    const pos = this.engine.hasAccount(accountKey) ? this.engine.account(accountKey).positions.get(symbol) : undefined;
    const leverage = this.leverageOf(accountKey, symbol);
    const markPrice = market?.midPrice ?? 0;
    const base = {
      leverage,
      marginType: this.marginTypeOf(accountKey, symbol),
      markPrice,
      maxNotional: maxNotionalAt(leverage, this.brackets),
      openOrderInitialMargin: market ? this.openOrderMargin(accountKey, symbol, market) : 0,
    };
    if (!market || !pos || pos.qtyUnits === 0n) {
      return { ...base, notional: 0, unrealized: 0, initialMargin: 0, maintMargin: 0 };
    }
    const qty = unitsToNumber(pos.qtyUnits, market.rules.qtyScale);
    const notional = qty * markPrice;
    const abs = Math.abs(notional);
    return {
      ...base,
      notional,
      unrealized: (markPrice - pos.entryPrice) * qty,
      initialMargin: abs / leverage,
      maintMargin: maintenanceMargin(abs, this.brackets),
    };
  }

  totals(accountKey: string): MarginTotals {
    // A new account starts with the simulator's starting balance (created on first use, as everywhere).
    const wallet = this.engine.account(accountKey).walletBalance;
    let unrealized = 0;
    let positionInitialMargin = 0;
    let openOrderInitialMargin = 0;
    let maintMargin = 0;
    for (const symbol of this.markets.keys()) {
      const m = this.basics(accountKey, symbol);
      unrealized += m.unrealized;
      positionInitialMargin += m.initialMargin;
      openOrderInitialMargin += m.openOrderInitialMargin;
      maintMargin += m.maintMargin;
    }
    const marginBalance = wallet + unrealized;
    const initialMargin = positionInitialMargin + openOrderInitialMargin;
    return {
      wallet,
      unrealized,
      marginBalance,
      positionInitialMargin,
      openOrderInitialMargin,
      initialMargin,
      maintMargin,
      available: marginBalance - initialMargin,
    };
  }

  /**
   * Refuses an order the account cannot margin: hedge mode wants a LONG/SHORT position side (-4061); the part
   * of the order that adds exposure needs notional / leverage of available balance (-2019) and must keep the
   * position within the leverage's notional cap (-2027). Reduce-only orders always pass.
   */
  checkOrder(accountKey: string, input: NewOrderInput, market: SymbolMarket): void {
    if (this.dualSidePosition(accountKey)) throw marginErrors.positionSideMismatch();
    if (input.reduceOnly) return;
    const rules = market.rules;
    const held = this.engine.hasAccount(accountKey) ? (this.engine.account(accountKey).positions.get(input.symbol)?.qtyUnits ?? 0n) : 0n;
    const after = held + (input.side === 'BUY' ? input.qtyUnits : -input.qtyUnits);
    const addedUnits = absBigint(after) - absBigint(held);
    if (addedUnits <= 0n) return;
    const price = unitsToNumber(input.priceUnits ?? (input.side === 'BUY' ? market.top.askUnits : market.top.bidUnits), rules.priceScale);
    const leverage = this.leverageOf(accountKey, input.symbol);
    if (Math.abs(unitsToNumber(after, rules.qtyScale)) * price > maxNotionalAt(leverage, this.brackets)) throw marginErrors.overMaxNotional();
    const needed = (unitsToNumber(addedUnits, rules.qtyScale) * price) / leverage;
    if (needed > this.totals(accountKey).available) throw marginErrors.insufficient();
  }

  /**
   * After a price move on `symbol`: every account holding it whose margin balance no longer covers its
   * maintenance margin is liquidated (open orders cancelled, every position closed at market, `autoclose-` ids),
   * in account order. A liquidation moves only its own account (its market orders take the synthetic depth, which
   * leaves the marks alone), so checking the candidates the bands give, in that order, liquidates what the full pass
   * over every holder does.
   */
  liquidateBreached(symbol: string, nowMs: number): void {
    const candidates = this.bands ? this.bands.mayBeBreached(symbol) : this.engine.holders(symbol).map((h) => h.account);
    for (const account of candidates) {
      if (this.aboveMaintenance(account)) continue;
      this.liquidate(account, nowMs);
    }
  }

  /**
   * totals()'s marginBalance > maintMargin, from the account's open positions alone: totals() also values every
   * market's open-order margin, leverage and bracket, which the check does not read. Run for every holder at every
   * price step, the full totals were most of the simulator's time at 1 000 accounts (bench:sweep).
   */
  private aboveMaintenance(account: SimAccount): boolean {
    // Summed in totals()'s order and way (markets in order, then wallet + unrealized): the same floats, the same answer.
    let unrealized = 0;
    let maintMargin = 0;
    for (const [symbol, market] of this.markets) {
      const pos = account.positions.get(symbol);
      if (!pos || pos.qtyUnits === 0n) continue;
      const markPrice = market.midPrice;
      const qty = unitsToNumber(pos.qtyUnits, market.rules.qtyScale);
      unrealized += (markPrice - pos.entryPrice) * qty;
      maintMargin += maintenanceMargin(Math.abs(qty * markPrice), this.brackets);
    }
    return account.walletBalance + unrealized > maintMargin;
  }

  private liquidate(account: SimAccount, nowMs: number): void {
    for (const order of this.engine.openOrders(account.key)) this.engine.cancel(account.key, order.symbol, { orderId: order.orderId }, nowMs);
    for (const [symbol, pos] of account.positions) {
      if (pos.qtyUnits === 0n) continue;
      this.engine.place(
        account.key,
        {
          symbol,
          side: pos.qtyUnits > 0n ? 'SELL' : 'BUY',
          type: 'MARKET',
          qtyUnits: absBigint(pos.qtyUnits),
          reduceOnly: true,
          clientOrderId: `autoclose-${nowMs}${this.nextAutoclose++}`,
        },
        { forcePostOnlyReject: false, receivedAt: nowMs, nowMs },
      );
    }
  }

  /** Initial margin held by resting orders that add exposure: their remaining notional / leverage. */
  private openOrderMargin(accountKey: string, symbol: string, market: SymbolMarket): number {
    let margin = 0;
    const leverage = this.leverageOf(accountKey, symbol);
    for (const order of this.engine.openOrders(accountKey, symbol)) {
      if (order.reduceOnly) continue;
      const remaining = unitsToNumber(order.origQtyUnits - order.executedQtyUnits, market.rules.qtyScale);
      margin += (remaining * unitsToNumber(order.priceUnits, market.rules.priceScale)) / leverage;
    }
    return margin;
  }

  /**
   * Binance's cross-margin liquidation price of a one-way position
   * (https://www.binance.com/en/support/faq/how-to-calculate-liquidation-price-of-usd%E2%93%A2-m-futures-contracts-b3c689c1f50a44cabb3a84e663b81d93):
   * LP = (WB − TMM₁ + UPNL₁ + cum − side × size × EP) / (size × MMR − side × size), where TMM₁ and UPNL₁ are the
   * maintenance margin and unrealized PnL of the account's other positions.
   */
  private liquidationPrice(accountKey: string, symbol: string): number {
    const account = this.engine.account(accountKey);
    const pos = account.positions.get(symbol);
    const market = this.markets.get(symbol);
    if (!pos || !market) return 0;
    const qty = unitsToNumber(pos.qtyUnits, market.rules.qtyScale);
    const wallet = account.walletBalance;
    let othersMaint = 0;
    let othersUnrealized = 0;
    for (const other of this.markets.keys()) {
      if (other === symbol) continue;
      const m = this.basics(accountKey, other);
      othersMaint += m.maintMargin;
      othersUnrealized += m.unrealized;
    }
    const b = bracketFor(Math.abs(qty) * market.midPrice, this.brackets);
    const side = qty > 0 ? 1 : -1;
    const size = Math.abs(qty);
    const lp = (wallet - othersMaint + othersUnrealized + b.cum - side * size * pos.entryPrice) / (size * b.maintMarginRatio - side * size);
    return Number.isFinite(lp) && lp > 0 ? lp : 0;
  }

  /** The symbol's brackets as GET /fapi/v1/leverageBracket prints them. */
  bracketJson(symbol: string): Record<string, unknown> {
    return { symbol, brackets: this.brackets.map((b) => ({ ...b })) };
  }
}

function parseBool(text: string, param: string): boolean {
  if (text === 'true' || text === 'TRUE') return true;
  if (text === 'false' || text === 'FALSE') return false;
  throw marginErrors.badBool(param);
}
