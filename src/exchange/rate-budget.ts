import { createClient } from '@redis/client';
import { runScript, script } from '../log/redis-fence.js';
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
  /**
   * Every response's rate headers (success and error) raise our counts, but only of the windows the answer belongs
   * to: `sentAtMs` is when its request was sent (default `nowMs`); a count is taken only for a window (minute, 10 s)
   * in which the request was both sent and read, since one read after a window turned may be the old window's.
   */
  recordHeaders(account: string, headers: RateHeaders, nowMs: number, sentAtMs?: number): Promise<void>;
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

// A header is the exchange's count of the window in which it counted the request: X-MBX-USED-WEIGHT-(intervalNum)
// (intervalLetter) "has the current used weight for the IP for all request rate limiters defined" (Binance's LIMITS
// text, https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits; the USDⓈ-M page, general-info
// above, names the same headers), and the windows are fixed: "a 1 MINUTE interval starts every minute ... Once the
// 00:02:00 minute starts, the count will reset to zero again"
// (https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/rate-limits). Neither dates the answer
// (no documented time header): the request was counted somewhere between our sending and our reading. So an answer
// may carry a window that has ended: a request sent at 12:00:59.8 and read at 12:01:00.2 carries 12:00's count, and
// booked into 12:01 it made a fresh minute look full (a 2 000-session run spent 7 weight in the minute after a full
// one). Only when sending and reading lie in the current window is the header surely that window's; otherwise it is
// left out (its window is over, or cannot be told) and our own count of what we admitted stands.
// Within one window the larger of ours and theirs holds: answers to requests still in flight arrive later with counts
// that miss our newer requests, so a header never lowers what we admitted.
const sameWindow = (windowOf: (ms: number) => number, sentAtMs: number, nowMs: number): boolean => windowOf(sentAtMs) === windowOf(nowMs);

function withHeaders(orders: OrderCounts, headers: RateHeaders, nowMs: number, sentAtMs: number): OrderCounts {
  const tenSeconds = tenSecondsOf(nowMs);
  const minute = minuteOf(nowMs);
  const take10s = headers.orderCount10s !== undefined && sameWindow(tenSecondsOf, sentAtMs, nowMs);
  const take1m = headers.orderCount1m !== undefined && sameWindow(minuteOf, sentAtMs, nowMs);
  return {
    tenSeconds: take10s ? tenSeconds : orders.tenSeconds,
    count10s: take10s ? Math.max(headers.orderCount10s ?? 0, orders.tenSeconds === tenSeconds ? orders.count10s : 0) : orders.count10s,
    minute: take1m ? minute : orders.minute,
    count1m: take1m ? Math.max(headers.orderCount1m ?? 0, orders.minute === minute ? orders.count1m : 0) : orders.count1m,
  };
}

function withUsedWeight(state: BudgetState, usedWeight1m: number, nowMs: number, sentAtMs: number): BudgetState {
  if (!sameWindow(minuteOf, sentAtMs, nowMs)) return state;
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
    async recordHeaders(account, headers, nowMs, sentAtMs = nowMs) {
      if (headers.usedWeight1m !== undefined) state = withUsedWeight(state, headers.usedWeight1m, nowMs, sentAtMs);
      if (headers.orderCount10s !== undefined || headers.orderCount1m !== undefined)
        orders.set(account, withHeaders(orders.get(account) ?? noOrders, headers, nowMs, sentAtMs));
    },
    async recordBackoff(retryAfterMs, nowMs, kind = 'rate_limited') {
      state = withBackoff(state, retryAfterMs, nowMs, kind);
    },
    async close() {},
  };
}

// One fixed-window counter (a window field and a count field of one hash) changed in one step, so that processes
// sharing the budget never overwrite each other's charges: read-then-HSET lost the admissions another process made
// between the two, and a header could so lower the count below what was admitted.
// ARGV: window field, count field, window, value, mode. 'add' (our charge): added to the stored window's count, or
// starts a new window (a stored later window, another process's clock being ahead, is charged too: the request
// reaches the exchange about then). 'max' (a header of the given window): raises that window's count, starts it if
// the stored one is older, and leaves a later one alone.
const windowCounterScript = script(`
local window = tonumber(ARGV[3])
local value = tonumber(ARGV[4])
local stored = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
if ARGV[5] == 'add' then
  if stored >= window then return redis.call('HINCRBY', KEYS[1], ARGV[2], value) end
elseif stored == window then
  local count = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
  if value > count then redis.call('HSET', KEYS[1], ARGV[2], value) end
  return 0
elseif stored > window then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], window, ARGV[2], value)
return value
`);

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
  const counter = async (hash: string, windowField: string, countField: string, window: number, value: number, mode: 'add' | 'max'): Promise<void> => {
    await runScript(client, windowCounterScript, [hash], [windowField, countField, String(window), String(value), mode]);
  };
  /** Order counts of one account: charged (`add`) or raised to a header's (`max`), each in its window. */
  const writeOrders = async (account: string, mode: 'add' | 'max', nowMs: number, count10s: number | undefined, count1m: number | undefined): Promise<void> => {
    if (count10s !== undefined) await counter(ordersKey(account), 'tenSeconds', 'count10s', tenSecondsOf(nowMs), count10s, mode);
    if (count1m !== undefined) await counter(ordersKey(account), 'minute', 'count1m', minuteOf(nowMs), count1m, mode);
    if (count10s !== undefined || count1m !== undefined) await client.expire(ordersKey(account), 120);
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
        await counter(key, 'minute', 'used', minuteOf(nowMs), cost.weight, 'add');
        if (cost.orders > 0) await writeOrders(account, 'add', nowMs, cost.orders, cost.orders);
      }
      return admission;
    },
    async recordUsedWeight(weight1m, nowMs) {
      await client.hSet(key, { minute: minuteOf(nowMs), used: weight1m });
    },
    async recordHeaders(account, headers, nowMs, sentAtMs = nowMs) {
      // Only a header of the window its request was sent in counts (see withHeaders).
      const placed = (value: number | undefined, windowOf: (ms: number) => number): number | undefined =>
        value !== undefined && sameWindow(windowOf, sentAtMs, nowMs) ? value : undefined;
      const usedWeight1m = placed(headers.usedWeight1m, minuteOf);
      if (usedWeight1m !== undefined) await counter(key, 'minute', 'used', minuteOf(nowMs), usedWeight1m, 'max');
      await writeOrders(account, 'max', nowMs, placed(headers.orderCount10s, tenSecondsOf), placed(headers.orderCount1m, minuteOf));
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
