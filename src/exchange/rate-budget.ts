import { createClient } from '@redis/client';
import type { Lane } from '../model/lane.js';

// One request budget per venue and exchange IP (paper and live never share one), shared by every process
// through Redis (or in memory for the single-process mode). Binance counts request weight per IP per minute
// and orders per account per 10 s and per minute; over a limit it answers 429, and a client that keeps going
// gets 418, an IP ban that blocks flattens too. So every lane is budgeted: the normal lane (entries, reads,
// housekeeping) stops `reserved…` short of each limit, the priority lane (flatten, cancel) may use that reserve
// but never goes past the limit. After a 429 the normal lane waits for Retry-After; after a 418 everything does.
//
// Limits and headers: https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info ("LIMITS":
// 2 400 REQUEST_WEIGHT per minute per IP; ORDERS 300 per 10 s and 1 200 per minute per account; X-MBX-USED-WEIGHT-1M
// on every response, X-MBX-ORDER-COUNT-10S / -1M on order responses; Retry-After on 429 and 418; bans of 2 min to 3 days).

export interface RateBudgetLimits {
  /** Binance USDⓈ-M: 2400 request weight per minute per IP. */
  weightPerMinute: number;
  /** Weight kept free for the priority lane (flatten, cancel): normal requests stop this far below the limit. */
  reservedForRiskReducingWeight: number;
  /** Back-off after a 429/418 that carried no Retry-After. */
  defaultBackoffMs: number;
  /** Binance USDⓈ-M: 300 orders per 10 s per account. */
  ordersPer10s?: number;
  /** Orders per 10 s kept for exits: entries stop this far below the limit. */
  reservedForRiskReducingOrders10s?: number;
  /** Binance USDⓈ-M: 1 200 orders per minute per account. */
  ordersPerMinute?: number;
  /** Orders per minute kept for exits. */
  reservedForRiskReducingOrders1m?: number;
}

export const defaultRateBudgetLimits: Required<RateBudgetLimits> = {
  weightPerMinute: 2_400,
  reservedForRiskReducingWeight: 400,
  defaultBackoffMs: 30_000,
  ordersPer10s: 300,
  reservedForRiskReducingOrders10s: 50,
  ordersPerMinute: 1_200,
  reservedForRiskReducingOrders1m: 200,
};

/** What one request costs: its documented IP weight, and how many orders it counts (per account). */
export interface RequestCost {
  weight: number;
  orders: number;
  /** The exchange account the orders count against (order limits are per account). */
  account?: string;
}

const oneWeight: RequestCost = { weight: 1, orders: 0 };

/** The exchange's own counts, read from a response's headers. */
export interface RateHeaders {
  usedWeight1m?: number;
  orderCount10s?: number;
  orderCount1m?: number;
}

/** 429: slow down (normal lane waits); 418: the IP is banned (every lane waits). */
export type BackoffKind = 'rate_limited' | 'banned';

/** retryAfterMs: when the budget will let the same request out again, if nothing else is spent meanwhile. */
export type Admission = { ok: true } | { ok: false; reason: string; retryAfterMs?: number };

export interface RateBudget {
  admit(lane: Lane, nowMs: number, cost?: RequestCost): Promise<Admission>;
  /** The exchange's own count (X-MBX-USED-WEIGHT-1M) replaces ours. */
  recordUsedWeight(weight1m: number, nowMs: number): Promise<void>;
  /** Every response's rate headers (success and error) replace our estimates. */
  recordHeaders(account: string, headers: RateHeaders, nowMs: number): Promise<void>;
  recordBackoff(retryAfterMs: number, nowMs: number, kind?: BackoffKind): Promise<void>;
  close(): Promise<void>;
}

export interface OrderCounts {
  tenSeconds: number;
  count10s: number;
  minute: number;
  count1m: number;
}

export interface BudgetState {
  minute: number;
  used: number;
  /** Normal lane waits until then (429). */
  pausedUntilMs: number;
  /** Every lane waits until then (418). */
  bannedUntilMs: number;
}

const minuteOf = (nowMs: number): number => Math.floor(nowMs / 60_000);
const tenSecondsOf = (nowMs: number): number => Math.floor(nowMs / 10_000);
const noOrders: OrderCounts = { tenSeconds: 0, count10s: 0, minute: 0, count1m: 0 };
const iso = (ms: number): string => new Date(ms).toISOString();

/** The admission rule, shared by both stores: pure on (state, lane, cost, now). */
export function decideAdmission(
  state: BudgetState,
  orders: OrderCounts,
  lane: Lane,
  nowMs: number,
  limits: RateBudgetLimits,
  cost: RequestCost = oneWeight,
): Admission {
  const l = { ...defaultRateBudgetLimits, ...limits };
  const priority = lane === 'priority';
  if (nowMs < state.bannedUntilMs)
    return {
      ok: false,
      reason: `the exchange banned this IP until ${iso(state.bannedUntilMs)} (418); every request waits`,
      retryAfterMs: state.bannedUntilMs - nowMs,
    };
  if (!priority && nowMs < state.pausedUntilMs)
    return { ok: false, reason: `exchange asked to back off until ${iso(state.pausedUntilMs)}`, retryAfterMs: state.pausedUntilMs - nowMs };
  const nextMinuteInMs = (minuteOf(nowMs) + 1) * 60_000 - nowMs;
  const used = state.minute === minuteOf(nowMs) ? state.used : 0;
  const weightCap = priority ? l.weightPerMinute : l.weightPerMinute - l.reservedForRiskReducingWeight;
  if (used + cost.weight > weightCap) {
    return {
      ok: false,
      reason: priority
        ? `request weight ${used}/${l.weightPerMinute} this minute; the exchange's limit is reached`
        : `request weight ${used}/${l.weightPerMinute} this minute; the rest is kept for risk-reducing orders`,
      retryAfterMs: nextMinuteInMs,
    };
  }
  if (cost.orders > 0) {
    const count10s = orders.tenSeconds === tenSecondsOf(nowMs) ? orders.count10s : 0;
    const count1m = orders.minute === minuteOf(nowMs) ? orders.count1m : 0;
    const cap10s = priority ? l.ordersPer10s : l.ordersPer10s - l.reservedForRiskReducingOrders10s;
    const cap1m = priority ? l.ordersPerMinute : l.ordersPerMinute - l.reservedForRiskReducingOrders1m;
    if (count10s + cost.orders > cap10s)
      return {
        ok: false,
        reason: `order count ${count10s}/${l.ordersPer10s} in these 10 s for this account${priority ? '' : '; the rest is kept for exits'}`,
        retryAfterMs: (tenSecondsOf(nowMs) + 1) * 10_000 - nowMs,
      };
    if (count1m + cost.orders > cap1m)
      return {
        ok: false,
        reason: `order count ${count1m}/${l.ordersPerMinute} this minute for this account${priority ? '' : '; the rest is kept for exits'}`,
        retryAfterMs: nextMinuteInMs,
      };
  }
  return { ok: true };
}

/** The state after an admitted request (our estimate, until the exchange's headers say better). */
function charge(state: BudgetState, orders: OrderCounts, nowMs: number, cost: RequestCost): { state: BudgetState; orders: OrderCounts } {
  const minute = minuteOf(nowMs);
  const tenSeconds = tenSecondsOf(nowMs);
  return {
    state: { ...state, minute, used: (state.minute === minute ? state.used : 0) + cost.weight },
    orders:
      cost.orders > 0
        ? {
            tenSeconds,
            count10s: (orders.tenSeconds === tenSeconds ? orders.count10s : 0) + cost.orders,
            minute,
            count1m: (orders.minute === minute ? orders.count1m : 0) + cost.orders,
          }
        : orders,
  };
}

// A header is the exchange's count when that response left it; answers to requests still in flight arrive
// later with counts that miss our newer requests. So within one window the larger of ours and theirs holds.
function withHeaders(orders: OrderCounts, headers: RateHeaders, nowMs: number): OrderCounts {
  const tenSeconds = tenSecondsOf(nowMs);
  const minute = minuteOf(nowMs);
  return {
    tenSeconds: headers.orderCount10s !== undefined ? tenSeconds : orders.tenSeconds,
    count10s: headers.orderCount10s === undefined ? orders.count10s : Math.max(headers.orderCount10s, orders.tenSeconds === tenSeconds ? orders.count10s : 0),
    minute: headers.orderCount1m !== undefined ? minute : orders.minute,
    count1m: headers.orderCount1m === undefined ? orders.count1m : Math.max(headers.orderCount1m, orders.minute === minute ? orders.count1m : 0),
  };
}

function withUsedWeight(state: BudgetState, usedWeight1m: number, nowMs: number): BudgetState {
  const minute = minuteOf(nowMs);
  return { ...state, minute, used: Math.max(usedWeight1m, state.minute === minute ? state.used : 0) };
}

function withBackoff(state: BudgetState, retryAfterMs: number, nowMs: number, kind: BackoffKind): BudgetState {
  const until = nowMs + retryAfterMs;
  return kind === 'banned'
    ? { ...state, bannedUntilMs: Math.max(state.bannedUntilMs, until), pausedUntilMs: Math.max(state.pausedUntilMs, until) }
    : { ...state, pausedUntilMs: Math.max(state.pausedUntilMs, until) };
}

export function memoryRateBudget(limits: RateBudgetLimits = defaultRateBudgetLimits): RateBudget {
  let state: BudgetState = { minute: 0, used: 0, pausedUntilMs: 0, bannedUntilMs: 0 };
  const orders = new Map<string, OrderCounts>();
  return {
    async admit(lane, nowMs, cost = oneWeight) {
      const account = cost.account ?? '';
      const admission = decideAdmission(state, orders.get(account) ?? noOrders, lane, nowMs, limits, cost);
      if (admission.ok) {
        const next = charge(state, orders.get(account) ?? noOrders, nowMs, cost);
        state = next.state;
        orders.set(account, next.orders);
      }
      return admission;
    },
    async recordUsedWeight(weight1m, nowMs) {
      state = { ...state, minute: minuteOf(nowMs), used: weight1m };
    },
    async recordHeaders(account, headers, nowMs) {
      if (headers.usedWeight1m !== undefined) state = withUsedWeight(state, headers.usedWeight1m, nowMs);
      if (headers.orderCount10s !== undefined || headers.orderCount1m !== undefined)
        orders.set(account, withHeaders(orders.get(account) ?? noOrders, headers, nowMs));
    },
    async recordBackoff(retryAfterMs, nowMs, kind = 'rate_limited') {
      state = withBackoff(state, retryAfterMs, nowMs, kind);
    },
    async close() {},
  };
}

/**
 * Shared by all processes using the same Redis and scope: one budget per venue and exchange IP (`scope`,
 * e.g. `paper:127.0.0.1` and `live:fapi.binance.com`, never one for both).
 */
export async function redisRateBudget(opts: { url: string; prefix?: string; scope?: string; limits?: RateBudgetLimits }): Promise<RateBudget> {
  const limits = opts.limits ?? defaultRateBudgetLimits;
  const key = `${opts.prefix ?? ''}rl:${opts.scope ?? 'default'}`;
  const ordersKey = (account: string): string => `${key}:orders:${account}`;
  const client = createClient({ url: opts.url, disableOfflineQueue: true });
  client.on('error', () => undefined);
  await client.connect();
  const num = (h: Record<string, string>, field: string): number => Number(h[field] ?? 0);
  const read = async (account: string): Promise<{ state: BudgetState; orders: OrderCounts }> => {
    const [h, o] = await Promise.all([client.hGetAll(key), client.hGetAll(ordersKey(account))]);
    return {
      state: { minute: num(h, 'minute'), used: num(h, 'used'), pausedUntilMs: num(h, 'pausedUntilMs'), bannedUntilMs: num(h, 'bannedUntilMs') },
      orders: { tenSeconds: num(o, 'tenSeconds'), count10s: num(o, 'count10s'), minute: num(o, 'minute'), count1m: num(o, 'count1m') },
    };
  };
  const writeOrders = async (account: string, orders: OrderCounts): Promise<void> => {
    await client.hSet(ordersKey(account), { ...orders });
    await client.expire(ordersKey(account), 120);
  };
  return {
    async admit(lane, nowMs, cost = oneWeight) {
      const account = cost.account ?? '';
      let current: { state: BudgetState; orders: OrderCounts };
      try {
        current = await read(account);
      } catch (error) {
        // Without the shared count an exit still goes (the exchange's own 429 then protects us); entries wait.
        if (lane === 'priority') return { ok: true };
        return { ok: false, reason: `rate budget unavailable: ${String(error)}` };
      }
      const admission = decideAdmission(current.state, current.orders, lane, nowMs, limits, cost);
      if (admission.ok) {
        if (current.state.minute !== minuteOf(nowMs)) await client.hSet(key, { minute: minuteOf(nowMs), used: cost.weight });
        else await client.hIncrBy(key, 'used', cost.weight);
        if (cost.orders > 0) await writeOrders(account, charge(current.state, current.orders, nowMs, cost).orders);
      }
      return admission;
    },
    async recordUsedWeight(weight1m, nowMs) {
      await client.hSet(key, { minute: minuteOf(nowMs), used: weight1m });
    },
    async recordHeaders(account, headers, nowMs) {
      const current = await read(account);
      if (headers.usedWeight1m !== undefined) {
        const next = withUsedWeight(current.state, headers.usedWeight1m, nowMs);
        await client.hSet(key, { minute: next.minute, used: next.used });
      }
      if (headers.orderCount10s !== undefined || headers.orderCount1m !== undefined) await writeOrders(account, withHeaders(current.orders, headers, nowMs));
    },
    async recordBackoff(retryAfterMs, nowMs, kind = 'rate_limited') {
      const { state } = await read('');
      const next = withBackoff(state, retryAfterMs, nowMs, kind);
      await client.hSet(key, { pausedUntilMs: next.pausedUntilMs, bannedUntilMs: next.bannedUntilMs });
    },
    async close() {
      await client.close();
    },
  };
}

/** Reads Binance's rate headers (names are case-insensitive; axios lower-cases them). */
export function rateHeadersOf(headers: unknown): RateHeaders {
  if (headers === null || typeof headers !== 'object') return {};
  const record = headers as Record<string, unknown>;
  const read = (name: string): number | undefined => {
    const value = record[name] ?? record[name.toUpperCase()];
    const n = typeof value === 'string' || typeof value === 'number' ? Number(value) : NaN;
    return Number.isFinite(n) ? n : undefined;
  };
  const out: RateHeaders = {};
  const usedWeight1m = read('x-mbx-used-weight-1m');
  const orderCount10s = read('x-mbx-order-count-10s');
  const orderCount1m = read('x-mbx-order-count-1m');
  if (usedWeight1m !== undefined) out.usedWeight1m = usedWeight1m;
  if (orderCount10s !== undefined) out.orderCount10s = orderCount10s;
  if (orderCount1m !== undefined) out.orderCount1m = orderCount1m;
  return out;
}
