import type { SharedDict } from './shared-dict.js';
import type { CoreConfig } from './config.js';
import type { DurableState, Order, OrderPurpose } from './state.js';
import { newestOrderOf, ordersOf, planSeq } from './state-index.js';

// Rejections that recur. An order the exchange keeps refusing for the same reason (-4131 on a thin book, -2019
// margin, a revoked key) must not be re-sent and re-alerted every retry period: the user hears it once, then
// once more that it recurs and that the engine backs off, and retries come at doubling intervals up to a bound.

/** Rejections that are part of normal routing, not failures: a post-only that would take goes to the bounded fallback. */
const routineRejectionCodes: ReadonlySet<number> = new Set([-5022]);

export interface RejectionStreak {
  /** How many of the newest orders in a row were rejected with the same code (0 = the newest was not). */
  count: number;
  code: number | null;
  /** When the newest of them was rejected, and its id. */
  lastAtMs: number;
  newestId: string | null;
}

/** Key of MarketState.retryAt. */
export function retryKey(userId: string, symbol: string, purpose: OrderPurpose): string {
  return `${userId}:${symbol}:${purpose}`;
}

/** The exchange code a rejected order was refused with (its reason starts with it), or null. */
export function rejectionCode(order: Order): number | null {
  const match = order.rejectReason === null ? null : /^(-?\d+) /.exec(order.rejectReason);
  return match ? Number(match[1]) : null;
}

const noStreak = (): RejectionStreak => ({ count: 0, code: null, lastAtMs: 0, newestId: null });

/**
 * True when the newest order of this kind (the greatest plan sequence, kept by the state's index) alone says there is
 * no streak: there is none, or it was not refused, or refused as routine. False when the full walk is needed: it was
 * refused, or the sequences do not give one newest (a tie, an id without a number), where the sort's own order decides.
 */
function noStreakByNewest(state: DurableState, userId: string, symbol: string, purpose: OrderPurpose): boolean {
  const newest = newestOrderOf(state, userId, symbol, purpose);
  if (newest === null) return true;
  if (newest === 'walk') return false;
  const code = newest.status === 'REJECTED' ? rejectionCode(newest) : null;
  return code === null || routineRejectionCodes.has(code);
}

/** The streak of same-code rejections among the user's newest orders for this symbol and purpose. */
export function rejectionStreak(state: DurableState, userId: string, symbol: string, purpose: OrderPurpose): RejectionStreak {
  // Nearly always the newest order was not refused: one pass finds it, instead of ranking and sorting every
  // retained order of the pair (up to maxTerminalOrdersKept) on each routed signal and each flatten check.
  if (noStreakByNewest(state, userId, symbol, purpose)) return noStreak();
  const orders = ordersOf(state, userId, symbol)
    .filter((o) => o.purpose === purpose)
    .sort((a, b) => planSeq(b.clientOrderId) - planSeq(a.clientOrderId));
  const streak = noStreak();
  for (const order of orders) {
    const code = order.status === 'REJECTED' ? rejectionCode(order) : null;
    if (code === null || routineRejectionCodes.has(code)) break;
    if (streak.code === null) Object.assign(streak, { code, lastAtMs: order.updatedAtMs, newestId: order.clientOrderId });
    else if (code !== streak.code) break;
    streak.count += 1;
  }
  return streak;
}

/** How long after the newest rejection of a streak the next attempt waits: doubling from the retry period, bounded. */
export function rejectionBackoffMs(streak: RejectionStreak, config: Pick<CoreConfig, 'flattenRetryMs' | 'maxRejectionBackoffMs'>): number {
  if (streak.count === 0) return 0;
  return Math.min(config.flattenRetryMs * 2 ** Math.min(streak.count - 1, 30), config.maxRejectionBackoffMs);
}

/**
 * True while the streak's back-off has not run out: no new order of that kind for that symbol yet. Where the newest
 * rejection said when to try again (`retryAt`, a 429/418's Retry-After or the local budget's wait), that time
 * replaces the doubling: an order refused all through a ban goes out when the ban ends, not up to
 * maxRejectionBackoffMs later. Never sooner than flattenRetryMs after the rejection.
 */
export function backingOff(
  state: DurableState,
  config: CoreConfig,
  nowMs: number,
  userId: string,
  symbol: string,
  purpose: OrderPurpose,
  retryAt?: SharedDict<{ clientOrderId: string; retryAtMs: number }>,
): boolean {
  const streak = rejectionStreak(state, userId, symbol, purpose);
  if (streak.count === 0) return false;
  const said = retryAt?.get(retryKey(userId, symbol, purpose));
  if (said !== undefined && said.clientOrderId === streak.newestId) return nowMs < Math.max(said.retryAtMs, streak.lastAtMs + config.flattenRetryMs);
  return nowMs - streak.lastAtMs < rejectionBackoffMs(streak, config);
}

/**
 * Refusals that say the engine's copy of the symbol's trading rules may be out of date (a tick, step, minimum,
 * PERCENT_PRICE multiplier or contract status changed): the shell reads the venue's exchangeInfo again at once
 * rather than at the next hourly refresh. From https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code:
 * -1111 precision, -1013 a filter failure, -4003/-4004/-4005 quantity ≤ 0 / below min / above max, -4014 price not on
 * the tick, -4023 quantity not on the step, -4016 / -4024 beyond the multiplier cap / floor, -4131 a MARKET order
 * beyond PERCENT_PRICE, -4140 symbol status does not allow opening, -4141 symbol closed, -4164 MIN_NOTIONAL.
 */
export const filterRejectionCodes: ReadonlySet<number> = new Set([-1111, -1013, -4003, -4004, -4005, -4014, -4016, -4023, -4024, -4131, -4140, -4141, -4164]);
