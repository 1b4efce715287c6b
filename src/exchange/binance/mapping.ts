import { z } from 'zod';
import type { OrderSnapshot, OrderStatus } from '../../model/orders.js';
import type { FundingPayment, PositionSnapshot } from '../../model/positions.js';
import type { ProtectiveStopSnapshot } from '../../model/protective-stops.js';
import type { SymbolFilters } from '../../model/market.js';
import type { LeverageBracketInfo, PositionRisk } from '../../model/margin.js';

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

export function toOrderSnapshot(raw: unknown): OrderSnapshot {
  const o = orderJson.parse(raw);
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
const symbolJson = z.object({ symbol: z.string(), filters: z.array(filterJson) });

export function toSymbolFilters(raw: unknown, wanted: readonly string[]): Record<string, SymbolFilters> {
  const info = z.object({ symbols: z.array(symbolJson) }).parse(raw);
  const out: Record<string, SymbolFilters> = {};
  for (const s of info.symbols) {
    if (!wanted.includes(s.symbol)) continue;
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
    out[s.symbol] = {
      symbol: s.symbol,
      tickSize: str(price.tickSize),
      minPrice: str(price.minPrice),
      maxPrice: str(price.maxPrice),
      stepSize: str(lot.stepSize),
      minQty: str(lot.minQty),
      maxQty: str(lot.maxQty),
      marketStepSize: str(market.stepSize),
      marketMaxQty: str(market.maxQty),
      minNotional: str(notional.notional),
    };
  }
  const missing = wanted.filter((w) => !out[w]);
  if (missing.length > 0) throw new Error(`exchange does not list ${missing.join(', ')}`);
  return out;
}

const userOrderUpdate = z.object({
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
  }),
});

/** A user-data message → order snapshot, or null for other event types and malformed messages. */
export function toOrderUpdate(raw: unknown): OrderSnapshot | null {
  const body = raw !== null && typeof raw === 'object' && 'data' in raw && 'stream' in raw ? (raw as { data: unknown }).data : raw;
  const parsed = userOrderUpdate.safeParse(body);
  if (!parsed.success) return null;
  const o = parsed.data.o;
  return {
    clientOrderId: o.c,
    exchangeOrderId: String(o.i),
    symbol: o.s,
    side: o.S,
    status: o.X,
    origQty: o.q,
    executedQty: o.z,
    avgPrice: o.ap,
    updateTime: o.T ?? parsed.data.T ?? 0,
    // Commission comes with TRADE executions only ("will not push if no commission": absent reads as 0).
    ...(o.x === 'TRADE'
      ? {
          trade: {
            cumQty: o.z,
            commission: o.n ?? '0',
            commissionAsset: o.N ?? 'USDT',
            realizedProfit: o.rp ?? '0',
            ...(o.l !== undefined && o.L !== undefined ? { lastQty: o.l, lastPrice: o.L } : {}),
          },
        }
      : {}),
  };
}

const fundingUpdate = z.object({
  e: z.literal('ACCOUNT_UPDATE'),
  T: z.number(),
  a: z.object({
    m: z.literal('FUNDING_FEE'),
    B: z.array(z.object({ a: z.string(), wb: decimal, bc: decimal })),
    P: z.array(z.object({ s: z.string() })).optional(),
  }),
});

/** A user-data message → the funding payments it reports (ACCOUNT_UPDATE, reason FUNDING_FEE); [] otherwise. */
export function toFundingPayments(raw: unknown): FundingPayment[] {
  const body = raw !== null && typeof raw === 'object' && 'data' in raw && 'stream' in raw ? (raw as { data: unknown }).data : raw;
  const parsed = fundingUpdate.safeParse(body);
  if (!parsed.success) return [];
  const { T, a } = parsed.data;
  const symbol = a.P?.length === 1 ? (a.P[0]?.s ?? null) : null;
  return a.B.filter((b) => Number(b.bc) !== 0).map((b) => ({
    asset: b.a,
    amount: b.bc,
    symbol,
    exchangeTimeMs: T,
    exchangeId: `funding:${T}:${b.a}:${b.wb}`,
  }));
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
