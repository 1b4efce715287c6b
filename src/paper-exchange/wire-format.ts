// Binance USDⓈ-M JSON shapes: decimals as strings, field names as the real API spells them.
import { formatUnits } from '../model/decimal.js';
import type { AccountConfigChange } from '../model/margin.js';
import type { ExecutionType, IncomeRecord, SimAccount, SimOrder, SimPosition, TradeInfo } from './matching.js';
import type { SymbolMarket } from './price-process.js';
import type { AlgoOrder } from './algo-orders.js';
import { percentPriceDecimal, type SymbolRules } from './symbols.js';
import type { MarginBook, MarginTotals, PositionMargin } from './margin.js';

// Binance prints avgPrice with 5 decimals regardless of the symbol ("0.00000" before any fill).
const avgPriceScale = 5;
const usdScale = 8;

export function avgPriceOf(order: SimOrder, rules: SymbolRules): string {
  if (order.executedQtyUnits === 0n) return formatUnits(0n, avgPriceScale);
  // cumQuote is at priceScale+qtyScale; dividing by qty units leaves priceScale, rescaled to 5 dp.
  const scaled = (order.cumQuoteUnits * 10n ** BigInt(avgPriceScale)) / (order.executedQtyUnits * 10n ** BigInt(rules.priceScale));
  return formatUnits(scaled, avgPriceScale);
}

export function priceOf(order: SimOrder, rules: SymbolRules): string {
  return order.type === 'MARKET' ? '0' : formatUnits(order.priceUnits, rules.priceScale);
}

export function orderJson(order: SimOrder, rules: SymbolRules): Record<string, unknown> {
  return {
    orderId: order.orderId,
    symbol: order.symbol,
    status: order.status,
    clientOrderId: order.clientOrderId,
    price: priceOf(order, rules),
    avgPrice: avgPriceOf(order, rules),
    origQty: formatUnits(order.origQtyUnits, rules.qtyScale),
    executedQty: formatUnits(order.executedQtyUnits, rules.qtyScale),
    cumQty: formatUnits(order.executedQtyUnits, rules.qtyScale),
    cumQuote: formatUnits(order.cumQuoteUnits, rules.priceScale + rules.qtyScale),
    timeInForce: order.timeInForce,
    type: order.type,
    reduceOnly: order.reduceOnly,
    closePosition: false,
    side: order.side,
    positionSide: 'BOTH',
    stopPrice: '0',
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: order.type,
    priceMatch: 'NONE',
    selfTradePreventionMode: 'EXPIRE_MAKER',
    goodTillDate: order.goodTillDateMs,
    time: order.timeMs,
    updateTime: order.updateTimeMs,
  };
}

export function orderTradeUpdate(
  order: SimOrder,
  rules: SymbolRules,
  execType: ExecutionType,
  trade: TradeInfo | undefined,
  nowMs: number,
): Record<string, unknown> {
  return {
    e: 'ORDER_TRADE_UPDATE',
    E: nowMs,
    T: order.updateTimeMs,
    o: {
      s: order.symbol,
      c: order.clientOrderId,
      S: order.side,
      o: order.type,
      f: order.timeInForce,
      q: formatUnits(order.origQtyUnits, rules.qtyScale),
      p: priceOf(order, rules),
      ap: avgPriceOf(order, rules),
      sp: '0',
      x: execType,
      X: order.status,
      i: order.orderId,
      l: formatUnits(trade?.qtyUnits ?? 0n, rules.qtyScale),
      z: formatUnits(order.executedQtyUnits, rules.qtyScale),
      L: formatUnits(trade?.priceUnits ?? 0n, rules.priceScale),
      N: 'USDT',
      n: (trade?.fee ?? 0).toFixed(usdScale),
      T: order.updateTimeMs,
      t: trade?.tradeId ?? 0,
      b: '0',
      a: '0',
      m: trade?.maker ?? false,
      R: order.reduceOnly,
      wt: 'CONTRACT_PRICE',
      ot: order.type,
      ps: 'BOTH',
      cp: false,
      rp: (trade?.realizedPnl ?? 0).toFixed(usdScale),
      pP: false,
      si: 0,
      ss: 0,
      V: 'EXPIRE_MAKER',
      pm: 'NONE',
      gtd: order.goodTillDateMs,
      er: expiryReason(order, execType),
    },
  };
}

/**
 * ORDER_TRADE_UPDATE `er`, why an order expired, as the codes listed on
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Order-Update:
 * "0" none; "2" an IOC order could not be filled completely; "4" a reduce-only order knocked out, as it would
 * reverse the position (the paper exchange's two ways to expire an order).
 */
function expiryReason(order: SimOrder, execType: ExecutionType): string {
  if (execType !== 'EXPIRED') return '0';
  if (order.timeInForce === 'IOC') return '2';
  return order.reduceOnly ? '4' : '0';
}

function unrealized(pos: SimPosition, rules: SymbolRules, markPrice: number): number {
  const qty = Number(formatUnits(pos.qtyUnits, rules.qtyScale));
  return qty === 0 ? 0 : (markPrice - pos.entryPrice) * qty;
}

export function accountUpdate(
  account: SimAccount,
  symbol: string,
  pos: SimPosition,
  market: SymbolMarket,
  nowMs: number,
  /** The symbol's margin type is ISOLATED (`mt`). */
  isolated = false,
): Record<string, unknown> {
  const rules = market.rules;
  return {
    e: 'ACCOUNT_UPDATE',
    E: nowMs,
    T: nowMs,
    a: {
      m: 'ORDER',
      B: [{ a: 'USDT', wb: account.walletBalance.toFixed(usdScale), cw: account.walletBalance.toFixed(usdScale), bc: '0' }],
      P: [
        {
          s: symbol,
          pa: formatUnits(pos.qtyUnits, rules.qtyScale),
          ep: pos.entryPrice.toFixed(usdScale),
          bep: pos.entryPrice.toFixed(usdScale),
          cr: pos.realizedPnl.toFixed(usdScale),
          up: unrealized(pos, rules, market.midPrice).toFixed(usdScale),
          mt: isolated ? 'isolated' : 'cross',
          iw: '0',
          ps: 'BOTH',
        },
      ],
    },
  };
}

/**
 * ACCOUNT_CONFIG_UPDATE (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Account-Configuration-Update-previous-Leverage-Update):
 * `ac` {s, l} for a symbol's leverage, `ai` {j} for the multi-assets mode.
 */
export function accountConfigUpdate(change: Exclude<AccountConfigChange, { kind: 'margin_type' }>, nowMs: number): Record<string, unknown> {
  const body = change.kind === 'leverage' ? { ac: { s: change.symbol, l: change.leverage } } : { ai: { j: change.on } };
  return { e: 'ACCOUNT_CONFIG_UPDATE', E: nowMs, T: nowMs, ...body };
}

/**
 * The ACCOUNT_UPDATE for a symbol's margin type changed (reason `m` MARGIN_TYPE_CHANGE,
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Balance-and-Position-Update):
 * the symbol's position entry, flat (the change is refused otherwise), with the new `mt`; no balance moved.
 */
export function marginTypeAccountUpdate(symbol: string, isolated: boolean, nowMs: number): Record<string, unknown> {
  const position = { s: symbol, pa: '0', ep: '0.0', bep: '0.0', cr: '0', up: '0', mt: isolated ? 'isolated' : 'cross', iw: '0', ps: 'BOTH' };
  return { e: 'ACCOUNT_UPDATE', E: nowMs, T: nowMs, a: { m: 'MARGIN_TYPE_CHANGE', B: [], P: [position] } };
}

/** What the user stream pushes for an account setting changed by a call: its ACCOUNT_CONFIG_UPDATE, or a margin type's ACCOUNT_UPDATE. */
export function configChangePush(change: AccountConfigChange, nowMs: number): Record<string, unknown> {
  return change.kind === 'margin_type' ? marginTypeAccountUpdate(change.symbol, change.isolated, nowMs) : accountConfigUpdate(change, nowMs);
}

/**
 * The user-stream ACCOUNT_UPDATE Binance pushes for funding on a cross position: reason `m` FUNDING_FEE, only
 * the balance (no position entry), `bc` the balance change
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Balance-and-Position-Update).
 */
export function fundingAccountUpdate(account: SimAccount, amountUsd: string, nowMs: number): Record<string, unknown> {
  const wallet = account.walletBalance.toFixed(usdScale);
  return { e: 'ACCOUNT_UPDATE', E: nowMs, T: nowMs, a: { m: 'FUNDING_FEE', B: [{ a: 'USDT', wb: wallet, cw: wallet, bc: amountUsd }], P: [] } };
}

/**
 * The user-stream ALGO_UPDATE for a conditional order's status change
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Algo-Order-Update):
 * `caid` client algo id, `aid` algo id, `X` algo status, `ai` the id of the order the trigger placed in the matching
 * engine (empty until TRIGGERED), `tp` trigger price, `tt` trigger time.
 */
export function algoUpdate(order: AlgoOrder, rules: SymbolRules, nowMs: number): Record<string, unknown> {
  return {
    e: 'ALGO_UPDATE',
    T: order.updateTime,
    E: nowMs,
    o: {
      caid: order.clientAlgoId,
      aid: order.algoId,
      at: 'CONDITIONAL',
      o: order.orderType,
      s: order.symbol,
      S: order.side,
      ps: 'BOTH',
      f: order.timeInForce,
      q: formatUnits(order.qtyUnits, rules.qtyScale),
      X: order.status,
      ai: order.actualOrderId !== undefined ? String(order.actualOrderId) : '',
      // Average price and quantity executed by the triggered order, and the "act" field the page shows as "0":
      // not tracked on the algo order here (the triggered order's own ORDER_TRADE_UPDATEs carry its fills).
      ap: '0',
      aq: '0',
      act: '0',
      tp: formatUnits(order.triggerUnits, rules.priceScale),
      p: formatUnits(order.priceUnits, rules.priceScale),
      V: 'EXPIRE_MAKER',
      wt: 'CONTRACT_PRICE',
      pm: 'NONE',
      cp: order.closePosition,
      pP: false,
      R: order.reduceOnly,
      tt: order.status === 'TRIGGERED' || order.status === 'FINISHED' ? order.updateTime : 0,
      gtd: 0,
      // Why the exchange rejected or expired it; empty while nothing went wrong.
      rm: '',
    },
  };
}

/** GET /fapi/v1/income entries (see IncomeRecord). */
export function incomeJson(record: IncomeRecord): Record<string, unknown> {
  return { ...record };
}

interface PositionFigures {
  positionAmt: string;
  entryPrice: string;
  markPrice: string;
  unRealizedProfit: string;
  notional: string;
  initialMargin: string;
  maintMargin: string;
  openOrderInitialMargin: string;
  liquidationPrice: string;
  leverage: string;
  maxNotional: string;
}

/** A position as the account endpoints print it, with its margin figures from the margin model (margin.ts). */
function positionFigures(pos: SimPosition, market: SymbolMarket, m: PositionMargin): PositionFigures {
  const money = (n: number): string => n.toFixed(usdScale);
  return {
    positionAmt: formatUnits(pos.qtyUnits, market.rules.qtyScale),
    entryPrice: pos.entryPrice.toFixed(usdScale),
    markPrice: money(m.markPrice),
    unRealizedProfit: money(m.unrealized),
    notional: money(m.notional),
    initialMargin: money(m.initialMargin),
    maintMargin: money(m.maintMargin),
    openOrderInitialMargin: money(m.openOrderInitialMargin),
    // Binance prints "0" for a position that cannot be liquidated.
    liquidationPrice: m.liquidationPrice === 0 ? '0' : m.liquidationPrice.toFixed(market.rules.priceScale),
    leverage: String(m.leverage),
    maxNotional: String(m.maxNotional),
  };
}

export function positionRiskV2(symbol: string, pos: SimPosition, market: SymbolMarket, m: PositionMargin): Record<string, unknown> {
  const f = positionFigures(pos, market, m);
  return {
    symbol,
    positionAmt: f.positionAmt,
    entryPrice: f.entryPrice,
    breakEvenPrice: f.entryPrice,
    markPrice: f.markPrice,
    unRealizedProfit: f.unRealizedProfit,
    liquidationPrice: f.liquidationPrice,
    leverage: f.leverage,
    maxNotionalValue: f.maxNotional,
    marginType: m.marginType === 'CROSSED' ? 'cross' : 'isolated',
    isolatedMargin: '0.00000000',
    isAutoAddMargin: 'false',
    positionSide: 'BOTH',
    notional: f.notional,
    isolatedWallet: '0',
    updateTime: pos.updateTimeMs,
  };
}

export function positionRiskV3(symbol: string, pos: SimPosition, market: SymbolMarket, m: PositionMargin): Record<string, unknown> {
  const f = positionFigures(pos, market, m);
  return {
    symbol,
    positionSide: 'BOTH',
    positionAmt: f.positionAmt,
    entryPrice: f.entryPrice,
    breakEvenPrice: f.entryPrice,
    markPrice: f.markPrice,
    unRealizedProfit: f.unRealizedProfit,
    liquidationPrice: f.liquidationPrice,
    isolatedMargin: '0',
    notional: f.notional,
    marginAsset: 'USDT',
    isolatedWallet: '0',
    initialMargin: f.initialMargin,
    maintMargin: f.maintMargin,
    positionInitialMargin: f.initialMargin,
    openOrderInitialMargin: f.openOrderInitialMargin,
    adl: 0,
    bidNotional: '0',
    askNotional: '0',
    updateTime: pos.updateTimeMs,
  };
}

export function balanceEntry(totals: MarginTotals, nowMs: number): Record<string, unknown> {
  return {
    accountAlias: 'SgsR',
    asset: 'USDT',
    balance: totals.wallet.toFixed(usdScale),
    crossWalletBalance: totals.wallet.toFixed(usdScale),
    crossUnPnl: totals.unrealized.toFixed(usdScale),
    availableBalance: totals.available.toFixed(usdScale),
    maxWithdrawAmount: Math.max(0, totals.available).toFixed(usdScale),
    marginAvailable: true,
    updateTime: nowMs,
  };
}

export function accountJson(
  account: SimAccount,
  markets: ReadonlyMap<string, SymbolMarket>,
  margin: Pick<MarginBook, 'positionMargin' | 'totals' | 'multiAssetsMargin' | 'feeBurn'>,
  version: 2 | 3,
  nowMs: number,
): Record<string, unknown> {
  const t = margin.totals(account.key);
  const money = (n: number): string => n.toFixed(usdScale);
  const positions = [...account.positions]
    .filter(([symbol, pos]) => markets.has(symbol) && (version === 2 || pos.qtyUnits !== 0n))
    .map(([symbol, pos]) => {
      const market = markets.get(symbol) as SymbolMarket;
      const m = margin.positionMargin(account.key, symbol);
      const f = positionFigures(pos, market, m);
      return {
        symbol,
        positionSide: 'BOTH',
        positionAmt: f.positionAmt,
        unrealizedProfit: f.unRealizedProfit,
        isolatedMargin: '0',
        notional: f.notional,
        isolatedWallet: '0',
        initialMargin: f.initialMargin,
        maintMargin: f.maintMargin,
        updateTime: pos.updateTimeMs,
        ...(version === 2
          ? {
              entryPrice: f.entryPrice,
              leverage: f.leverage,
              isolated: m.marginType === 'ISOLATED',
              openOrderInitialMargin: f.openOrderInitialMargin,
              positionInitialMargin: f.initialMargin,
              maxNotional: f.maxNotional,
              bidNotional: '0',
              askNotional: '0',
            }
          : {}),
      };
    });
  return {
    ...(version === 2
      ? {
          feeTier: 0,
          feeBurn: margin.feeBurn(account.key), // the BNB fee discount's flag (fees stay in USDT: margin.ts AccountSettings)
          canTrade: true,
          canDeposit: true,
          canWithdraw: true,
          updateTime: 0,
          multiAssetsMargin: margin.multiAssetsMargin(account.key),
          tradeGroupId: -1,
        }
      : {}),
    totalInitialMargin: money(t.initialMargin),
    totalMaintMargin: money(t.maintMargin),
    totalWalletBalance: money(t.wallet),
    totalUnrealizedProfit: money(t.unrealized),
    totalMarginBalance: money(t.marginBalance),
    totalPositionInitialMargin: money(t.positionInitialMargin),
    totalOpenOrderInitialMargin: money(t.openOrderInitialMargin),
    totalCrossWalletBalance: money(t.wallet),
    totalCrossUnPnl: money(t.unrealized),
    availableBalance: money(t.available),
    maxWithdrawAmount: money(Math.max(0, t.available)),
    assets: [
      {
        asset: 'USDT',
        walletBalance: money(t.wallet),
        unrealizedProfit: money(t.unrealized),
        marginBalance: money(t.marginBalance),
        maintMargin: money(t.maintMargin),
        initialMargin: money(t.initialMargin),
        positionInitialMargin: money(t.positionInitialMargin),
        openOrderInitialMargin: money(t.openOrderInitialMargin),
        crossWalletBalance: money(t.wallet),
        crossUnPnl: money(t.unrealized),
        availableBalance: money(t.available),
        maxWithdrawAmount: money(Math.max(0, t.available)),
        ...(version === 2 ? { marginAvailable: true } : {}),
        updateTime: nowMs,
      },
    ],
    positions,
  };
}

export function bookTickerRest(market: SymbolMarket): Record<string, unknown> {
  const r = market.rules;
  const top = market.top;
  return {
    symbol: r.symbol,
    bidPrice: formatUnits(top.bidUnits, r.priceScale),
    bidQty: formatUnits(top.bidQtyUnits, r.qtyScale),
    askPrice: formatUnits(top.askUnits, r.priceScale),
    askQty: formatUnits(top.askQtyUnits, r.qtyScale),
    time: top.timeMs,
    lastUpdateId: top.updateId,
  };
}

/** `lagMs`: the event carries times this far in the past (the fault marketDataLagMs). */
export function bookTickerEvent(market: SymbolMarket, nowMs: number, lagMs = 0): Record<string, unknown> {
  const r = market.rules;
  const top = market.top;
  return {
    e: 'bookTicker',
    u: top.updateId,
    s: r.symbol,
    b: formatUnits(top.bidUnits, r.priceScale),
    B: formatUnits(top.bidQtyUnits, r.qtyScale),
    a: formatUnits(top.askUnits, r.priceScale),
    A: formatUnits(top.askQtyUnits, r.qtyScale),
    T: top.timeMs - lagMs,
    E: nowMs - lagMs,
  };
}

function levelsJson(market: SymbolMarket, side: 'bids' | 'asks', levels: number): [string, string][] {
  const r = market.rules;
  return market.depth.levelsOf(side, levels).map((l) => [formatUnits(l.priceUnits, r.priceScale), formatUnits(l.qtyUnits, r.qtyScale)]);
}

/** GET /fapi/v1/depth: the book's levels, at most `levels` a side (the book has bookLevels of them). */
export function depthJson(market: SymbolMarket, levels: number, nowMs: number): Record<string, unknown> {
  const top = market.top;
  return {
    lastUpdateId: top.updateId,
    E: nowMs,
    T: top.timeMs,
    bids: levelsJson(market, 'bids', levels),
    asks: levelsJson(market, 'asks', levels),
  };
}

/**
 * `<symbol>@depth<levels>` partial book depth event
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Partial-Book-Depth-Streams):
 * the top `levels` of each side; U/u the first and last update id in the event, pu the previous event's u.
 */
export function partialDepthEvent(market: SymbolMarket, levels: number, previousUpdateId: number, nowMs: number): Record<string, unknown> {
  const top = market.top;
  return {
    e: 'depthUpdate',
    E: nowMs,
    T: top.timeMs,
    s: market.rules.symbol,
    U: previousUpdateId + 1,
    u: top.updateId,
    pu: previousUpdateId,
    b: levelsJson(market, 'bids', levels),
    a: levelsJson(market, 'asks', levels),
  };
}

export function exchangeInfoJson(rulesList: readonly SymbolRules[], nowMs: number): Record<string, unknown> {
  return {
    timezone: 'UTC',
    serverTime: nowMs,
    futuresType: 'U_MARGINED',
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
    ],
    exchangeFilters: [],
    assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
    symbols: rulesList.map((r) => ({
      symbol: r.symbol,
      pair: r.symbol,
      contractType: 'PERPETUAL',
      deliveryDate: 4133404800000,
      onboardDate: 1569398400000,
      status: r.status,
      maintMarginPercent: '2.5000',
      requiredMarginPercent: '5.0000',
      baseAsset: r.baseAsset,
      quoteAsset: 'USDT',
      marginAsset: 'USDT',
      pricePrecision: r.priceScale,
      quantityPrecision: r.qtyScale,
      baseAssetPrecision: 8,
      quotePrecision: 8,
      underlyingType: 'COIN',
      underlyingSubType: [],
      settlePlan: 0, // printed by the Exchange-Information example; 0 for a perpetual
      triggerProtect: '0.0500',
      liquidationFee: '0.012500',
      marketTakeBound: '0.05',
      maxMoveOrderLimit: 10000,
      filters: [
        {
          filterType: 'PRICE_FILTER',
          minPrice: formatUnits(r.minPriceUnits, r.priceScale),
          maxPrice: formatUnits(r.maxPriceUnits, r.priceScale),
          tickSize: r.spec.tickSize,
        },
        { filterType: 'LOT_SIZE', minQty: r.spec.minQty, maxQty: r.spec.maxQty, stepSize: r.spec.stepSize },
        {
          filterType: 'MARKET_LOT_SIZE',
          minQty: r.spec.marketMinQty ?? r.spec.minQty,
          maxQty: r.spec.marketMaxQty ?? r.spec.maxQty,
          stepSize: r.spec.marketStepSize ?? r.spec.stepSize,
        },
        { filterType: 'MAX_NUM_ORDERS', limit: 200 },
        { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
        { filterType: 'MIN_NOTIONAL', notional: r.spec.minNotional },
        {
          filterType: 'PERCENT_PRICE',
          multiplierUp: formatUnits(r.multiplierUpUnits, percentPriceDecimal),
          multiplierDown: formatUnits(r.multiplierDownUnits, percentPriceDecimal),
          multiplierDecimal: String(percentPriceDecimal),
        },
      ],
      // Binance lists LIMIT, MARKET, STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET
      // (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information);
      // the conditional ones go through POST /fapi/v1/algoOrder (algo-orders.ts). Trailing stops are not modelled: not listed.
      orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET'],
      timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
    })),
  };
}
