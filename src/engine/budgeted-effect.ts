import type { Input } from '../core/decide.js';
import type { Effect } from '../core/outputs.js';
import type { ExchangeAccount } from '../exchange/port.js';
import type { RateBudget } from '../exchange/rate-budget.js';
import { defaultRateBudgetLimits } from '../exchange/rate-budget.js';
import type { Lane } from '../model/lane.js';
import { performEffect } from './perform-effect.js';
import { requestCostOf } from './request-costs.js';

// One effect through its venue's request budget, as the executor sends it and the deterministic simulation
// replays it: the budget is asked first on every lane (the priority lane may use the reserve, never more, and
// waits out a ban like everything else), and a 429/418 answer's Retry-After goes back into the budget.

/** Binance's code for "too many requests" (with HTTP 429, or 418 once banned). */
const rateLimitedCode = -1003;
/** Our own code for an order the local rate budget did not let out: it never reached the exchange. */
export const localRateBudgetCode = -1;

/** Reads are never exits: only flatten, cancel and the protective stops' placement use the priority lane. */
export function laneOf(effect: Effect): Lane {
  return effect.kind === 'reconcile' ? 'normal' : effect.lane;
}

/**
 * The effect's outcome as an input for decide(), or null when there is nothing to report. Held back by the budget,
 * it is not sent: a place comes back rejected (localRateBudgetCode) so the core re-plans it; queries, cancels and
 * reads come back as nothing, and the watchdog's level-triggered rules ask again. Throws where performEffect does.
 */
export async function performWithinBudget(
  account: ExchangeAccount,
  budget: RateBudget,
  effect: Effect,
  nowMs: () => number,
  onHeldBack: (reason: string) => void,
): Promise<Input | null> {
  const admission = await budget.admit(laneOf(effect), nowMs(), requestCostOf(effect, account.rateKey ?? effect.userId));
  if (!admission.ok) {
    onHeldBack(admission.reason);
    if (effect.kind !== 'place') return null;
    return {
      kind: 'place_result',
      clientOrderId: effect.order.clientOrderId,
      // When the budget frees: the core retries then, not after a back-off that the wait has built up.
      outcome: {
        kind: 'rejected',
        code: localRateBudgetCode,
        message: `not sent: ${admission.reason}`,
        ...(admission.retryAfterMs !== undefined ? { retryAfterMs: admission.retryAfterMs, retryAtMs: nowMs() + admission.retryAfterMs } : {}),
      },
    };
  }
  const result = await performEffect(account, effect, nowMs());
  if (
    result?.kind === 'place_result' &&
    result.outcome.kind === 'rejected' &&
    (result.outcome.code === rateLimitedCode || result.outcome.retryAfterMs !== undefined)
  ) {
    await budget.recordBackoff(result.outcome.retryAfterMs ?? defaultRateBudgetLimits.defaultBackoffMs, nowMs());
    if (result.outcome.retryAfterMs !== undefined) return { ...result, outcome: { ...result.outcome, retryAtMs: nowMs() + result.outcome.retryAfterMs } };
  }
  return result;
}
