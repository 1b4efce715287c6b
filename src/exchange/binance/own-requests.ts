import type { Lane } from '../../model/lane.js';
import type { RateBudget, RequestCost } from '../rate-budget.js';

// Requests the adapter makes on its own, with no effect behind them (the executor charges effects): each is charged
// to the request budget here, or not sent. Uncharged, a thousand-session boot sent a thousand of each at once and
// kept retrying through the ban that followed.
// - The exchange clock's offset, measured once for a whole venue connection and shared by every account on it.
//   Signing needs it (a timestamp outside recvWindow is refused, -1021), but it is a property of the link to the
//   venue, not of an account: measured per account, a thousand sessions sent a thousand GET /fapi/v1/time at boot.
// - The user streams' listen keys (account.ts asks admitOwnRequest before each).

/** GET /fapi/v1/time: weight 1 (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Check-Server-Time). */
export const serverTimeCost: RequestCost = { weight: 1, orders: 0 };

/** The budget refused a request the adapter makes on its own: nothing was sent; try again after retryAfterMs. */
export class BudgetRefusal extends Error {
  override name = 'BudgetRefusal';
  constructor(
    reason: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`not sent, request budget: ${reason}`);
  }
}

/** Charges a request the adapter makes on its own (no effect behind it) to the budget, or throws BudgetRefusal. */
export async function admitOwnRequest(budget: RateBudget | undefined, cost: RequestCost, lane: Lane): Promise<void> {
  if (!budget) return;
  const admission = await budget.admit(lane, Date.now(), cost);
  if (!admission.ok) throw new BudgetRefusal(admission.reason, admission.retryAfterMs);
}

/**
 * A -1021 this soon after the offset was measured does not send the clock to be measured again (ms). Clocks do not
 * drift seconds in seconds: such a -1021 means the request aged on its way (a loaded process or link), which a new
 * offset cannot fix. A 10 000-session bench answered hundreds of -1021 a minute that way, and each one sent the next
 * signer for the time: up to 1 379 GET /fapi/v1/time a minute, on the priority lane.
 */
export const minClockRemeasureMs = 10_000;

export class SharedClock {
  private offset: Promise<number> | null = null;
  /** When the current offset was measured (our clock, ms); null while none is. */
  private measuredAtMs: number | null = null;

  /** `measure` asks the exchange for its time and returns the offset to add to ours (ms). */
  constructor(
    private readonly measure: () => Promise<number>,
    private readonly budget: RateBudget | undefined,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The offset, measured on first use (one measurement in flight however many ask); a failure is measured again next time. */
  offsetMs(): Promise<number> {
    // Priority lane: no signed request, a flatten included, can go without it.
    this.offset ??= admitOwnRequest(this.budget, serverTimeCost, 'priority')
      .then(() => this.measure())
      .then((offset) => {
        this.measuredAtMs = this.nowMs();
        return offset;
      })
      .catch((error: unknown) => {
        this.offset = null;
        throw error;
      });
    return this.offset;
  }

  /** The exchange said our timestamp was off (-1021): the next signer measures again, unless it was just measured. */
  invalidate(): void {
    if (this.measuredAtMs !== null && this.nowMs() - this.measuredAtMs < minClockRemeasureMs) return;
    this.offset = null;
    this.measuredAtMs = null;
  }
}
