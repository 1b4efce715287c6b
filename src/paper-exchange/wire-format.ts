// Binance USDⓈ-M JSON shapes: decimals as strings, field names as the real API spells them.
import { formatUnits } from '../model/decimal.js';
import type { ExecutionType, IncomeRecord, SimAccount, SimOrder, SimPosition, TradeInfo } from './matching.js';
import type { SymbolMarket } from './price-process.js';
import type { SymbolRules } from './symbols.js';
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
    goodTillDate: 0,
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
      gtd: 0,
    },
  };
}

function unrealized(pos: SimPosition, rules: SymbolRules, markPrice: number): number {
  const qty = Number(formatUnits(pos.qtyUnits, rules.qtyScale));
  return qty === 0 ? 0 : (markPrice - pos.entryPrice) * qty;
}

export function accountUpdate(account: SimAccount, symbol: string, pos: SimPosition, market: SymbolMarket, nowMs: number): Record<string, unknown> {
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
          mt: 'cross',
          iw: '0',
          ps: 'BOTH',
        },
      ],
    },
  };
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
  margin: Pick<MarginBook, 'positionMargin' | 'totals' | 'multiAssetsMargin'>,
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

export function bookTickerEvent(market: SymbolMarket, nowMs: number): Record<string, unknown> {
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
    T: top.timeMs,
    E: nowMs,
  };
}

export function depthJson(market: SymbolMarket, levels: number, nowMs: number): Record<string, unknown> {
  const r = market.rules;
  const top = market.top;
  const side = (start: bigint, dir: 1n | -1n, qty: bigint): [string, string][] => {
    const out: [string, string][] = [];
    for (let i = 0n; i < BigInt(levels); i++) {
      const price = start + dir * i * r.tickUnits;
      if (price <= 0n) break;
      // Deeper levels show more size so the book looks roughly like a real one.
      out.push([formatUnits(price, r.priceScale), formatUnits(qty * (i + 1n), r.qtyScale)]);
    }
    return out;
  };
  return {
    lastUpdateId: top.updateId,
    E: nowMs,
    T: top.timeMs,
    bids: side(top.bidUnits, -1n, top.bidQtyUnits),
    asks: side(top.askUnits, 1n, top.askQtyUnits),
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
      status: 'TRADING',
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
        { filterType: 'MARKET_LOT_SIZE', minQty: r.spec.minQty, maxQty: r.spec.maxQty, stepSize: r.spec.stepSize },
        { filterType: 'MAX_NUM_ORDERS', limit: 200 },
        { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
        { filterType: 'MIN_NOTIONAL', notional: r.spec.minNotional },
      ],
      orderTypes: ['LIMIT', 'MARKET'],
      timeInForce: ['GTC', 'IOC', 'GTX'],
    })),
  };
}
