// The paper exchange's gateway: what Binance's front door does to a request before and around the matching
// engine — IP request weight per minute, order counts per account, 429 / 418 with Retry-After, and the injected
// faults (rate limits, bans, 5xx, latency per endpoint). server.ts only calls it.
//
// Limits and headers (https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info, "LIMITS"):
// - every response carries X-MBX-USED-WEIGHT-1M, the IP's weight in the current fixed minute;
// - an order response carries X-MBX-ORDER-COUNT-10S / -1M, the account's order counts;
// - over the limit: HTTP 429 (-1003 for weight, -1015 for orders) with Retry-After (seconds);
// - repeated 429s without backing off: HTTP 418, an IP ban "from 2 minutes to 3 days", with Retry-After.
// Simplification (documented): a ban starts after `banAfterRejectedRequests` requests answered 429 for weight in
// one minute, and lasts `faults.banMs` (default 2 min, Binance's shortest); Binance escalates repeat offenders.
import { apiErrors, SimApiError } from './errors.js';
import type { SimFaults } from './types.js';

export interface GatewayLimits {
  /** USDⓈ-M futures REQUEST_WEIGHT limit per IP per minute (general-info, LIMITS; exchangeInfo rateLimits). */
  weightPerMinute: number;
  /** USDⓈ-M futures ORDERS limit per account per 10 s (general-info, "Order Rate Limits"; exchangeInfo rateLimits). */
  ordersPer10s: number;
  /** USDⓈ-M futures ORDERS limit per account per minute (same page). */
  ordersPerMinute: number;
  /** 429s for weight within one minute after which the IP is banned (418). */
  banAfterRejectedRequests: number;
}

export const defaultGatewayLimits: GatewayLimits = { weightPerMinute: 2_400, ordersPer10s: 300, ordersPerMinute: 1_200, banAfterRejectedRequests: 5 };

/** Binance's shortest IP ban (general-info: "from 2 minutes to 3 days"). */
export const defaultBanMs = 2 * 60_000;
/** Retry-After of an injected 429 (rateLimit429Count). */
const injected429RetryAfterSeconds = 1;
const tenSecondsMs = 10_000;
const minuteMs = 60_000;

/** A fixed-window counter (Binance counts per calendar interval: a minute counter resets at :00). */
class WindowCounter {
  private window = -1;
  private count = 0;
  constructor(readonly windowMs: number) {}
  add(nowMs: number, n: number): number {
    const window = Math.floor(nowMs / this.windowMs);
    if (window !== this.window) {
      this.window = window;
      this.count = 0;
    }
    this.count += n;
    return this.count;
  }
  /** Seconds until this window ends, rounded up (a Retry-After). */
  secondsLeft(nowMs: number): number {
    return Math.max(1, Math.ceil(((Math.floor(nowMs / this.windowMs) + 1) * this.windowMs - nowMs) / 1000));
  }
}

interface AccountOrderCounters {
  tenSeconds: WindowCounter;
  minute: WindowCounter;
}

const bannedError = (untilMs: number): SimApiError =>
  new SimApiError(418, -1003, `Way too many requests; IP banned until ${untilMs}. Please use the websocket for live updates to avoid bans.`);
const tooManyOrders = (limit: number, interval: string): SimApiError =>
  new SimApiError(429, -1015, `Too many new orders; current limit is ${limit} orders per ${interval}.`);

export class Gateway {
  private readonly weight = new WindowCounter(minuteMs);
  private readonly rejectedThisMinute = new WindowCounter(minuteMs);
  private readonly orders = new Map<string, AccountOrderCounters>();
  private bannedUntilMs = 0;

  constructor(
    private readonly faults: SimFaults,
    private readonly limits: GatewayLimits = defaultGatewayLimits,
  ) {}

  /**
   * Before routing: a ban answers 418, injected faults fire, and the request's weight is charged to the IP
   * (Binance counts every request, refused ones too). Throws the error to answer with; sets headers.
   */
  admit(nowMs: number, weight: number, headers: Record<string, string>): void {
    if (this.faults.ban418Count > 0) {
      this.faults.ban418Count -= 1;
      this.bannedUntilMs = Math.max(this.bannedUntilMs, nowMs + this.faults.banMs);
    }
    if (nowMs < this.bannedUntilMs) {
      headers['Retry-After'] = String(Math.max(1, Math.ceil((this.bannedUntilMs - nowMs) / 1000)));
      throw bannedError(this.bannedUntilMs);
    }
    const used = this.weight.add(nowMs, weight);
    headers['X-MBX-USED-WEIGHT-1M'] = String(used);
    if (this.faults.rateLimit429Count > 0) {
      this.faults.rateLimit429Count -= 1;
      headers['Retry-After'] = String(injected429RetryAfterSeconds);
      throw apiErrors.tooManyRequests();
    }
    if (used > this.limits.weightPerMinute) {
      if (this.rejectedThisMinute.add(nowMs, 1) > this.limits.banAfterRejectedRequests) {
        this.bannedUntilMs = nowMs + this.faults.banMs;
        headers['Retry-After'] = String(Math.ceil(this.faults.banMs / 1000));
        throw bannedError(this.bannedUntilMs);
      }
      headers['Retry-After'] = String(this.weight.secondsLeft(nowMs));
      throw apiErrors.tooManyRequests();
    }
    if (this.faults.http5xxCount > 0) {
      this.faults.http5xxCount -= 1;
      throw apiErrors.serviceUnavailable();
    }
  }

  /** An order request of an authenticated account: counted, refused over the limit (429 -1015), headers set. */
  countOrder(nowMs: number, accountKey: string, headers: Record<string, string>): void {
    let counters = this.orders.get(accountKey);
    if (!counters) {
      counters = { tenSeconds: new WindowCounter(tenSecondsMs), minute: new WindowCounter(minuteMs) };
      this.orders.set(accountKey, counters);
    }
    const tenSeconds = counters.tenSeconds.add(nowMs, 1);
    const minute = counters.minute.add(nowMs, 1);
    headers['X-MBX-ORDER-COUNT-10S'] = String(tenSeconds);
    headers['X-MBX-ORDER-COUNT-1M'] = String(minute);
    if (tenSeconds > this.limits.ordersPer10s) {
      headers['Retry-After'] = String(counters.tenSeconds.secondsLeft(nowMs));
      throw tooManyOrders(this.limits.ordersPer10s, '10 SECONDS');
    }
    if (minute > this.limits.ordersPerMinute) {
      headers['Retry-After'] = String(counters.minute.secondsLeft(nowMs));
      throw tooManyOrders(this.limits.ordersPerMinute, '1 MINUTE');
    }
  }

  /** Injected latency for this path: the global one plus the endpoint's own. */
  latencyMs(path: string): number {
    return this.faults.latencyMs + (this.faults.latencyByPathMs[path] ?? 0);
  }
}

/**
 * Control API (not a Binance endpoint): POST /sim/v1/faults sets any of the numeric and on/off faults (see SimFaults)
 * and `latencyByPathMs` (JSON object path → ms); answers the faults now in force.
 */
export const faultControlPath = '/sim/v1/faults';

const numericFaults = [
  'latencyMs',
  'timeoutAfterAcceptCount',
  'http5xxCount',
  'rateLimit429Count',
  'ban418Count',
  'banMs',
  'marginInsufficientCount',
  'wsDropNextMessages',
  'wsDelayMs',
  'marketDataLagMs',
] as const;
/** Faults that may also be negative (a clock behind the wall clock). */
const signedFaults = ['clockSkewMs'] as const;
const onOffFaults = ['forcePostOnlyReject', 'rejectMarketOrders', 'systemThrottle', 'wsSilent', 'userStreamSilent'] as const;

export function applyFaultControl(faults: SimFaults, params: ReadonlyMap<string, string>): Record<string, unknown> {
  for (const name of numericFaults) {
    const text = params.get(name);
    if (text === undefined) continue;
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw apiErrors.badParamValue(name);
    faults[name] = n;
  }
  for (const name of signedFaults) {
    const text = params.get(name);
    if (text === undefined) continue;
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n)) throw apiErrors.badParamValue(name);
    faults[name] = n;
  }
  for (const name of onOffFaults) {
    const text = params.get(name);
    if (text === undefined) continue;
    if (text !== 'true' && text !== 'false') throw apiErrors.badParamValue(name);
    faults[name] = text === 'true';
  }
  const byPath = params.get('latencyByPathMs');
  if (byPath !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(byPath);
    } catch {
      throw apiErrors.badParamValue('latencyByPathMs');
    }
    if (parsed === null || typeof parsed !== 'object' || Object.values(parsed).some((v) => typeof v !== 'number' || !(v >= 0))) {
      throw apiErrors.badParamValue('latencyByPathMs');
    }
    faults.latencyByPathMs = { ...(parsed as Record<string, number>) };
  }
  const out: Record<string, unknown> = { latencyByPathMs: faults.latencyByPathMs };
  for (const name of [...numericFaults, ...signedFaults, ...onOffFaults]) out[name] = faults[name];
  return out;
}
