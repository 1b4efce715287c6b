import { z } from 'zod';
import { isDecimal, toUsd } from '../../model/decimal.js';
import type { OrderSnapshot, OrderStatus } from '../../model/orders.js';
import type { FundingPayment, PositionSnapshot } from '../../model/positions.js';
import type { ProtectiveStopSnapshot, ProtectiveStopUpdate } from '../../model/protective-stops.js';
import type { SymbolFilters } from '../../model/market.js';
import { bookedAsset } from '../../model/market.js';
import type { AccountConfigChange, LeverageBracketInfo, PositionRisk } from '../../model/margin.js';
import type { AccountTrade } from '../../model/trades.js';
import type { IncomeRead, IncomeRecord, IncomeRejection } from '../../model/income.js';

// Wire JSON → our types, validated with zod: a malformed answer is an error, never a guess.

const decimal = z.union([z.string(), z.number()]).transform((v) => String(v));
const orderStatus = z
  .enum(['NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'EXPIRED', 'REJECTED', 'EXPIRED_IN_MATCH'])
  .transform((s): OrderStatus => (s === 'EXPIRED_IN_MATCH' ? 'EXPIRED' : s));

export const orderJson = z.object({
  clientOrderId: z.string(),
  orderId: z.union([z.number(), z.string()]),
  symbol: z.string(),
  side: z.enum(['BUY', 'SELL']),
  status: orderStatus,
  origQty: decimal,
  executedQty: decimal,
  avgPrice: decimal.optional(),
  updateTime: z.number().optional(),
});

// Plain-shape checks, asked before a schema on the two order messages read per order (the paper exchange's and the
// simulator's own, and Binance's): each accepts only what its schema accepts and that the schema passes through
// unchanged (decimals already strings, a status other than EXPIRED_IN_MATCH), so reading it as the schema's output
// is exact; anything else is left to the schema, its transforms and its errors. A zod parse of either cost ~35 µs in
// a backtest, several per order (test/exchange/plain-order-shapes.test.ts compares the checks with the schemas).

type Fields = Record<string, unknown>;
const plainStatuses: ReadonlySet<unknown> = new Set<OrderStatus>(['NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'EXPIRED', 'REJECTED']);
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isSide = (v: unknown): boolean => v === 'BUY' || v === 'SELL';
/** An optional field: absent, or present (not undefined) and passing `check`. */
const optional = (fields: Fields, key: string, check: (v: unknown) => boolean): boolean => !(key in fields) || check(fields[key]);
const isString = (v: unknown): v is string => typeof v === 'string';

/** `raw` when it is plainly orderJson's own output, else null. */
export function plainOrderJson(raw: unknown): z.infer<typeof orderJson> | null {
  if (!isObject(raw)) return null;
  const ok =
    isString(raw.clientOrderId) &&
    (isNumber(raw.orderId) || isString(raw.orderId)) &&
    isString(raw.symbol) &&
    isSide(raw.side) &&
    plainStatuses.has(raw.status) &&
    isString(raw.origQty) &&
    isString(raw.executedQty) &&
    optional(raw, 'avgPrice', isString) &&
    optional(raw, 'updateTime', isNumber);
  return ok ? (raw as z.infer<typeof orderJson>) : null;
}

export function toOrderSnapshot(raw: unknown): OrderSnapshot {
  const o = plainOrderJson(raw) ?? orderJson.parse(raw);
  return {
    clientOrderId: o.clientOrderId,
    exchangeOrderId: String(o.orderId),
    symbol: o.symbol,
    side: o.side,
    status: o.status,
    origQty: o.origQty,
    executedQty: o.executedQty,
    avgPrice: o.avgPrice ?? '0',
    updateTime: o.updateTime ?? 0,
  };
}

const positionJson = z.object({
  symbol: z.string(),
  positionAmt: decimal,
  entryPrice: decimal,
  liquidationPrice: decimal.optional(),
  markPrice: decimal.optional(),
});

export function toPositions(raw: unknown): PositionSnapshot[] {
  return z
    .array(positionJson)
    .parse(raw)
    .filter((p) => Number(p.positionAmt) !== 0)
    .map((p) => ({
      symbol: p.symbol,
      positionAmt: p.positionAmt,
      entryPrice: p.entryPrice,
      ...(p.liquidationPrice !== undefined && p.markPrice !== undefined ? { liquidationPrice: p.liquidationPrice, markPrice: p.markPrice } : {}),
    }));
}

const positionRiskJson = z.object({ symbol: z.string(), positionAmt: decimal, liquidationPrice: decimal, markPrice: decimal });

/** GET /fapi/v3/positionRisk: open positions with their liquidation prices. */
export function toPositionRisks(raw: unknown): PositionRisk[] {
  return z
    .array(positionRiskJson)
    .parse(raw)
    .filter((p) => Number(p.positionAmt) !== 0);
}

const bracketJson = z.object({
  initialLeverage: z.number(),
  notionalFloor: decimal,
  notionalCap: decimal,
  maintMarginRatio: decimal,
  cum: decimal,
});
const symbolBracketsJson = z.object({ symbol: z.string(), brackets: z.array(bracketJson) });

/** GET /fapi/v1/leverageBracket (a list, or one object when asked for one symbol), for the wanted symbols. */
export function toBrackets(raw: unknown, wanted: readonly string[]): Record<string, LeverageBracketInfo[]> {
  const list = z.union([z.array(symbolBracketsJson), symbolBracketsJson.transform((one) => [one])]).parse(raw);
  const out: Record<string, LeverageBracketInfo[]> = {};
  for (const s of list) if (wanted.includes(s.symbol)) out[s.symbol] = s.brackets;
  return out;
}

/** USDT's available balance from GET /fapi/v3/balance. */
export function toAvailableUsdt(raw: unknown): string {
  const usdt = z
    .array(z.object({ asset: z.string(), availableBalance: decimal }))
    .parse(raw)
    .find((b) => b.asset === 'USDT');
  return usdt?.availableBalance ?? '0';
}

const filterJson = z.object({ filterType: z.string() }).catchall(z.unknown());
const symbolJson = z.object({ symbol: z.string(), status: z.string().optional(), marginAsset: z.string().optional(), filters: z.array(filterJson) });

// A symbol margined in another asset than the one the engine books (model/market.ts bookedAsset; USDⓈ-M lists
// USDC-margined contracts such as BTCUSDC: exchangeInfo's `marginAsset`,
// https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information)
// would have its fees, funding and PnL in that asset, booked as if in USDT or not at all: toSymbolFilters refuses it.

export function toSymbolFilters(raw: unknown, wanted: readonly string[]): Record<string, SymbolFilters> {
  const info = z.object({ symbols: z.array(symbolJson) }).parse(raw);
  const out: Record<string, SymbolFilters> = {};
  for (const s of info.symbols) {
    if (!wanted.includes(s.symbol)) continue;
    if (s.marginAsset !== undefined && s.marginAsset !== bookedAsset) {
      throw new Error(`${s.symbol} is margined in ${s.marginAsset}; the engine books ${bookedAsset} only: trade a ${bookedAsset}-margined symbol instead`);
    }
    const f = (type: string): Record<string, unknown> => {
      const found = s.filters.find((x) => x.filterType === type);
      if (!found) throw new Error(`${s.symbol} has no ${type} filter`);
      return found;
    };
    const str = (v: unknown): string => z.union([z.string(), z.number()]).transform(String).parse(v);
    const price = f('PRICE_FILTER');
    const lot = f('LOT_SIZE');
    const market = f('MARKET_LOT_SIZE');
    const notional = f('MIN_NOTIONAL');
    const percent = f('PERCENT_PRICE');
    out[s.symbol] = {
      symbol: s.symbol,
      // A symbol without a status is not known to trade: no entries on it (exits are still tried).
      status: s.status ?? 'UNKNOWN',
      tickSize: str(price.tickSize),
      minPrice: str(price.minPrice),
      maxPrice: str(price.maxPrice),
      stepSize: str(lot.stepSize),
      minQty: str(lot.minQty),
      maxQty: str(lot.maxQty),
      marketStepSize: str(market.stepSize),
      marketMinQty: str(market.minQty),
      marketMaxQty: str(market.maxQty),
      minNotional: str(notional.notional),
      multiplierUp: str(percent.multiplierUp),
      multiplierDown: str(percent.multiplierDown),
    };
  }
  const missing = wanted.filter((w) => !out[w]);
  if (missing.length > 0) throw new Error(`exchange does not list ${missing.join(', ')}`);
  return out;
}

// User-data stream events (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams).
// Each schema is strict about the fields we act on and tolerant of any others (zod strips unknown keys): Binance
// adds fields without notice. A message of a known type that fails its schema is reported `malformed` (the
// caller logs and drops it); it never throws.

export const userOrderUpdate = z.object({
  e: z.literal('ORDER_TRADE_UPDATE'),
  T: z.number().optional(),
  o: z.object({
    s: z.string(),
    c: z.string(),
    S: z.enum(['BUY', 'SELL']),
    X: orderStatus,
    q: decimal,
    z: decimal,
    ap: decimal,
    i: z.union([z.number(), z.string()]),
    T: z.number().optional(),
    x: z.string().optional(),
    n: decimal.optional(),
    N: z.string().nullable().optional(),
    rp: decimal.optional(),
    l: decimal.optional(),
    L: decimal.optional(),
    t: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).optional(),
    m: z.boolean().optional(),
  }),
});

const isTradeId = (v: unknown): boolean => (isNumber(v) && Number.isSafeInteger(v) && v >= 0) || (isString(v) && /^\d+$/.test(v));

/** `body` when it is plainly userOrderUpdate's own output (an ORDER_TRADE_UPDATE), else null. */
export function plainOrderUpdate(body: unknown): z.infer<typeof userOrderUpdate> | null {
  if (!isObject(body) || body.e !== 'ORDER_TRADE_UPDATE' || !optional(body, 'T', isNumber) || !isObject(body.o)) return null;
  const o = body.o;
  const ok =
    isString(o.s) &&
    isString(o.c) &&
    isSide(o.S) &&
    plainStatuses.has(o.X) &&
    isString(o.q) &&
    isString(o.z) &&
    isString(o.ap) &&
    (isNumber(o.i) || isString(o.i)) &&
    optional(o, 'T', isNumber) &&
    optional(o, 'x', isString) &&
    optional(o, 'n', isString) &&
    optional(o, 'N', (v) => isString(v) || v === null) &&
    optional(o, 'rp', isString) &&
    optional(o, 'l', isString) &&
    optional(o, 'L', isString) &&
    optional(o, 't', isTradeId) &&
    optional(o, 'm', (v) => typeof v === 'boolean');
  return ok ? (body as z.infer<typeof userOrderUpdate>) : null;
}

function toOrderUpdate(o: z.infer<typeof userOrderUpdate>['o'], eventT: number | undefined): OrderSnapshot {
  return {
    clientOrderId: o.c,
    exchangeOrderId: String(o.i),
    symbol: o.s,
    side: o.S,
    status: o.X,
    origQty: o.q,
    executedQty: o.z,
    avgPrice: o.ap,
    updateTime: o.T ?? eventT ?? 0,
    // Commission comes with TRADE executions only ("will not push if no commission": absent reads as 0).
    ...(o.x === 'TRADE'
      ? {
          trade: {
            cumQty: o.z,
            commission: o.n ?? '0',
            commissionAsset: o.N ?? 'USDT',
            realizedProfit: o.rp ?? '0',
            ...(o.l !== undefined && o.L !== undefined ? { lastQty: o.l, lastPrice: o.L } : {}),
            // 0 is what a push without a trade carries; a real trade id is positive.
            ...(o.t !== undefined && String(o.t) !== '0' ? { tradeId: String(o.t) } : {}),
            ...(o.m !== undefined ? { maker: o.m } : {}),
          },
        }
      : {}),
  };
}

/**
 * ACCOUNT_UPDATE (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Balance-and-Position-Update):
 * `a.m` the reason (ORDER, FUNDING_FEE, ADJUSTMENT, INSURANCE_CLEAR, ...), `a.B` balances with `bc` the balance
 * change except PnL and commission, `a.P` only the positions that changed (`pa` signed amount, `ep` entry price).
 * A funding fee on a cross position comes with balances only, no `P`.
 */
const accountUpdate = z.object({
  e: z.literal('ACCOUNT_UPDATE'),
  T: z.number(),
  a: z.object({
    m: z.string(),
    B: z.array(z.object({ a: z.string(), wb: decimal, bc: decimal })),
    P: z.array(z.object({ s: z.string(), pa: decimal, ep: decimal, ps: z.string().optional() })).optional(),
  }),
});

/**
 * ACCOUNT_UPDATE for a symbol's margin type changed (reason `m` MARGIN_TYPE_CHANGE, same page): its position entry's `mt`
 * is the new type, `isolated` or `cross` (as in the page's example). Read apart from the general shape: a margin type
 * changes only on a flat symbol and moves no balance, so nothing else of the event is required of it.
 */
const marginTypeChange = z.object({
  e: z.literal('ACCOUNT_UPDATE'),
  a: z.object({ m: z.literal('MARGIN_TYPE_CHANGE'), P: z.array(z.object({ s: z.string(), mt: z.enum(['isolated', 'cross']) })).min(1) }),
});

function toFundingPayments(update: z.infer<typeof accountUpdate>): FundingPayment[] {
  const { T, a } = update;
  if (a.m !== 'FUNDING_FEE') return [];
  const symbol = a.P?.length === 1 ? (a.P[0]?.s ?? null) : null;
  return a.B.filter((b) => Number(b.bc) !== 0).map((b) => ({
    asset: b.a,
    amount: b.bc,
    symbol,
    exchangeTimeMs: T,
    exchangeId: `funding:${T}:${b.a}:${b.wb}`,
  }));
}

/**
 * ALGO_UPDATE (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Algo-Order-Update):
 * `caid` client algo id, `aid` algo id, `X` algo status, `ai` the id of the order a trigger placed in the matching
 * engine (empty before the trigger).
 */
const algoStatus = z.enum(['NEW', 'CANCELED', 'TRIGGERING', 'TRIGGERED', 'FINISHED', 'REJECTED', 'EXPIRED']);
const algoUpdate = z.object({
  e: z.literal('ALGO_UPDATE'),
  T: z.number().optional(),
  E: z.number().optional(),
  o: z.object({
    caid: z.string(),
    aid: z.union([z.number(), z.string()]),
    s: z.string(),
    S: z.enum(['BUY', 'SELL']),
    X: algoStatus,
    ai: z.union([z.string(), z.number()]).optional(),
  }),
});

/** listenKeyExpired (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-User-Data-Stream-Expired): `E` is sometimes a string. */
const listenKeyExpired = z.object({ e: z.literal('listenKeyExpired'), listenKey: z.string().optional() });

/**
 * ACCOUNT_CONFIG_UPDATE (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Account-Configuration-Update-previous-Leverage-Update):
 * `ac` {`s` symbol, `l` leverage} when a symbol's leverage changed, or `ai` {`j` multi-assets mode} when that changed.
 */
const accountConfigUpdate = z.object({
  e: z.literal('ACCOUNT_CONFIG_UPDATE'),
  ac: z.object({ s: z.string(), l: z.number().int().positive() }).optional(),
  ai: z.object({ j: z.boolean() }).optional(),
});

export type UserDataEvent =
  | { kind: 'order'; order: OrderSnapshot }
  | { kind: 'account'; reason: string; funding: FundingPayment[]; positions: PositionSnapshot[]; exchangeTimeMs: number }
  | { kind: 'algo'; update: ProtectiveStopUpdate }
  | { kind: 'listen_key_expired'; listenKey: string | null }
  | { kind: 'config'; changes: AccountConfigChange[] }
  /** A type we do not act on (TRADE_LITE, MARGIN_CALL, ...). */
  | { kind: 'ignored'; type: string }
  | { kind: 'malformed'; type: string | null; reason: string };

/** One user-data message (raw or in a combined-stream `{stream, data}` wrapper) → what it tells us. Never throws. */
export function toUserDataEvent(raw: unknown): UserDataEvent {
  const body = raw !== null && typeof raw === 'object' && 'data' in raw && 'stream' in raw ? (raw as { data: unknown }).data : raw;
  const type = body !== null && typeof body === 'object' && 'e' in body && typeof body.e === 'string' ? body.e : null;
  const malformed = (error: z.ZodError): UserDataEvent => ({
    kind: 'malformed',
    type,
    reason: error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
  });
  switch (type) {
    case 'ORDER_TRADE_UPDATE': {
      const plain = plainOrderUpdate(body);
      if (plain !== null) return { kind: 'order', order: toOrderUpdate(plain.o, plain.T) };
      const parsed = userOrderUpdate.safeParse(body);
      return parsed.success ? { kind: 'order', order: toOrderUpdate(parsed.data.o, parsed.data.T) } : malformed(parsed.error);
    }
    case 'ACCOUNT_UPDATE': {
      const marginType = marginTypeChange.safeParse(body);
      if (marginType.success)
        return { kind: 'config', changes: marginType.data.a.P.map((p) => ({ kind: 'margin_type', symbol: p.s, isolated: p.mt === 'isolated' })) };
      const parsed = accountUpdate.safeParse(body);
      if (!parsed.success) return malformed(parsed.error);
      const positions = (parsed.data.a.P ?? [])
        .filter((p) => p.ps === undefined || p.ps === 'BOTH')
        .map((p) => ({ symbol: p.s, positionAmt: p.pa, entryPrice: p.ep }));
      return { kind: 'account', reason: parsed.data.a.m, funding: toFundingPayments(parsed.data), positions, exchangeTimeMs: parsed.data.T };
    }
    case 'ALGO_UPDATE': {
      const parsed = algoUpdate.safeParse(body);
      if (!parsed.success) return malformed(parsed.error);
      const o = parsed.data.o;
      const actual = o.ai === undefined ? '' : String(o.ai);
      return {
        kind: 'algo',
        update: {
          clientAlgoId: o.caid,
          algoId: String(o.aid),
          symbol: o.s,
          side: o.S,
          status: o.X,
          actualOrderId: actual === '' || actual === '0' ? null : actual,
          updateTime: parsed.data.T ?? parsed.data.E ?? 0,
        },
      };
    }
    case 'ACCOUNT_CONFIG_UPDATE': {
      const parsed = accountConfigUpdate.safeParse(body);
      if (!parsed.success) return malformed(parsed.error);
      const { ac, ai } = parsed.data;
      const changes: AccountConfigChange[] = [];
      if (ac !== undefined) changes.push({ kind: 'leverage', symbol: ac.s, leverage: ac.l });
      if (ai !== undefined) changes.push({ kind: 'multi_assets', on: ai.j });
      return changes.length > 0 ? { kind: 'config', changes } : { kind: 'malformed', type, reason: 'neither ac nor ai' };
    }
    case 'listenKeyExpired': {
      const parsed = listenKeyExpired.safeParse(body);
      return parsed.success ? { kind: 'listen_key_expired', listenKey: parsed.data.listenKey ?? null } : malformed(parsed.error);
    }
    case null:
      return { kind: 'malformed', type: null, reason: 'no event type' };
    default:
      return { kind: 'ignored', type };
  }
}

const bookTickerJson = z.object({
  e: z.literal('bookTicker').optional(),
  s: z.string(),
  b: z.coerce.number().positive(),
  a: z.coerce.number().positive(),
  E: z.number().optional(),
  T: z.number().optional(),
});

export function toBookTicker(raw: unknown): { symbol: string; bid: number; ask: number; time: number } | null {
  const body = raw !== null && typeof raw === 'object' && 'data' in raw ? (raw as { data: unknown }).data : raw;
  const parsed = bookTickerJson.safeParse(body);
  if (!parsed.success) return null;
  return { symbol: parsed.data.s, bid: parsed.data.b, ask: parsed.data.a, time: parsed.data.T ?? parsed.data.E ?? 0 };
}

const algoOrderJson = z.object({
  clientAlgoId: z.string(),
  symbol: z.string(),
  side: z.enum(['BUY', 'SELL']),
  triggerPrice: decimal.optional(),
  orderType: z.string().optional(),
});

export function toProtectiveStops(raw: unknown): ProtectiveStopSnapshot[] {
  return z
    .array(algoOrderJson)
    .parse(raw)
    .filter((o) => o.orderType === undefined || o.orderType === 'STOP_MARKET')
    .map((o) => ({ clientAlgoId: o.clientAlgoId, symbol: o.symbol, side: o.side, triggerPrice: o.triggerPrice ?? '0' }));
}

// One GET /fapi/v1/income record: src/model/income.ts (the core books funding from it).
export type { IncomeRecord, IncomeRejection } from '../../model/income.js';

const incomeRecordJson = z.object({
  symbol: z.string(),
  incomeType: z.string().min(1),
  income: z.string().refine(isDecimal, 'income is not a decimal string'),
  asset: z.string().min(1),
  info: z.string(),
  time: z.number().int().nonnegative(),
  tranId: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(String),
  tradeId: z.union([z.string(), z.number().int()]).transform(String),
});

/**
 * GET /fapi/v1/income → the records it holds, each malformed one set aside with its reason; never throws, so one
 * bad record cannot hide the others (issue 10). A body that is not an array is one rejection at index -1.
 */
export function toIncomeRecords(raw: unknown): IncomeRead {
  if (!Array.isArray(raw)) return { records: [], rejected: [{ index: -1, reason: 'income history is not an array' }] };
  const records: IncomeRecord[] = [];
  const rejected: IncomeRejection[] = [];
  raw.forEach((entry: unknown, index) => {
    const parsed = incomeRecordJson.safeParse(entry);
    if (!parsed.success) {
      rejected.push({ index, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ') });
      return;
    }
    records.push({ ...parsed.data, income: toUsd(parsed.data.income) });
  });
  return { records, rejected };
}

const accountTradeJson = z.object({
  id: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(String),
  orderId: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(String),
  symbol: z.string(),
  side: z.enum(['BUY', 'SELL']),
  price: decimal,
  qty: decimal,
  realizedPnl: decimal,
  commission: decimal,
  commissionAsset: z.string(),
  time: z.number().int().nonnegative(),
});

/**
 * GET /fapi/v1/userTrades (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Account-Trade-List)
 * → the account's trades; throws on a body it cannot read (a trade misread could be booked wrongly).
 */
export function toAccountTrades(raw: unknown): AccountTrade[] {
  return z
    .array(accountTradeJson)
    .parse(raw)
    .map((t) => ({
      tradeId: t.id,
      exchangeOrderId: t.orderId,
      symbol: t.symbol,
      side: t.side,
      price: t.price,
      qty: t.qty,
      realizedPnl: t.realizedPnl,
      commission: t.commission,
      commissionAsset: t.commissionAsset,
      timeMs: t.time,
    }));
}
