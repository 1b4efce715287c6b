import { createClient } from '@redis/client';
import type { Lane } from '../model/lane.js';

// One request-weight budget per exchange IP, shared by every process through Redis (or in memory for the
// single-process mode). Binance counts weight per IP per minute and answers 429, then 418 (a ban), when it
// is exceeded. Entries and their housekeeping stop well before the limit so that flatten and cancel orders
// always have room; after a 429/418 entries pause for Retry-After, exits never do.

export interface RateBudgetLimits {
  /** Binance USDⓈ-M: 2400 request weight per minute per IP. */
  weightPerMinute: number;
  /** Weight kept free for the priority lane (flatten, cancel): normal requests stop this far below the limit. */
  reservedForRiskReducingWeight: number;
  /** Back-off after a 429/418 that carried no Retry-After. */
  defaultBackoffMs: number;
}

export const defaultRateBudgetLimits: RateBudgetLimits = { weightPerMinute: 2_400, reservedForRiskReducingWeight: 400, defaultBackoffMs: 30_000 };

export type Admission = { ok: true } | { ok: false; reason: string };

export interface RateBudget {
  admit(lane: Lane, nowMs: number): Promise<Admission>;
  /** The exchange's own count (X-MBX-USED-WEIGHT-1M) replaces ours. */
  recordUsedWeight(weight1m: number, nowMs: number): Promise<void>;
  recordBackoff(retryAfterMs: number, nowMs: number): Promise<void>;
  close(): Promise<void>;
}

interface BudgetState {
  minute: number;
  used: number;
  pausedUntilMs: number;
}

const minuteOf = (nowMs: number): number => Math.floor(nowMs / 60_000);

/** The admission rule, shared by both stores: pure on (state, lane, now). */
export function decideAdmission(state: BudgetState, lane: Lane, nowMs: number, limits: RateBudgetLimits): Admission {
  if (lane === 'priority') return { ok: true };
  if (nowMs < state.pausedUntilMs) return { ok: false, reason: `exchange asked to back off until ${new Date(state.pausedUntilMs).toISOString()}` };
  const used = state.minute === minuteOf(nowMs) ? state.used : 0;
  if (used + 1 > limits.weightPerMinute - limits.reservedForRiskReducingWeight) {
    return { ok: false, reason: `request weight ${used}/${limits.weightPerMinute} this minute; the rest is kept for risk-reducing orders` };
  }
  return { ok: true };
}

export function memoryRateBudget(limits: RateBudgetLimits = defaultRateBudgetLimits): RateBudget {
  const state: BudgetState = { minute: 0, used: 0, pausedUntilMs: 0 };
  return {
    async admit(lane, nowMs) {
      const admission = decideAdmission(state, lane, nowMs, limits);
      if (admission.ok) {
        if (state.minute !== minuteOf(nowMs)) Object.assign(state, { minute: minuteOf(nowMs), used: 0 });
        state.used += 1; // until the exchange's header says better
      }
      return admission;
    },
    async recordUsedWeight(weight1m, nowMs) {
      Object.assign(state, { minute: minuteOf(nowMs), used: weight1m });
    },
    async recordBackoff(retryAfterMs, nowMs) {
      state.pausedUntilMs = Math.max(state.pausedUntilMs, nowMs + retryAfterMs);
    },
    async close() {},
  };
}

/** Shared by all processes using the same Redis and key: one budget per exchange IP (`scope`). */
export async function redisRateBudget(opts: { url: string; prefix?: string; scope?: string; limits?: RateBudgetLimits }): Promise<RateBudget> {
  const limits = opts.limits ?? defaultRateBudgetLimits;
  const key = `${opts.prefix ?? ''}rl:${opts.scope ?? 'default'}`;
  const client = createClient({ url: opts.url, disableOfflineQueue: true });
  client.on('error', () => undefined);
  await client.connect();
  const read = async (): Promise<BudgetState> => {
    const h = await client.hGetAll(key);
    return { minute: Number(h.minute ?? 0), used: Number(h.used ?? 0), pausedUntilMs: Number(h.pausedUntilMs ?? 0) };
  };
  return {
    async admit(lane, nowMs) {
      if (lane === 'priority') return { ok: true }; // never wait on Redis for a risk-reducing order
      const state = await read();
      const admission = decideAdmission(state, lane, nowMs, limits);
      if (admission.ok) {
        if (state.minute !== minuteOf(nowMs)) await client.hSet(key, { minute: minuteOf(nowMs), used: 1 });
        else await client.hIncrBy(key, 'used', 1);
      }
      return admission;
    },
    async recordUsedWeight(weight1m, nowMs) {
      await client.hSet(key, { minute: minuteOf(nowMs), used: weight1m });
    },
    async recordBackoff(retryAfterMs, nowMs) {
      const state = await read();
      await client.hSet(key, 'pausedUntilMs', Math.max(state.pausedUntilMs, nowMs + retryAfterMs));
    },
    async close() {
      await client.close();
    },
  };
}
