// The exchange's clock offset, measured once per venue and shared by every account trading on it: the server's
// clock does not differ by account, and a GET /fapi/v1/time per account (weight 1 each) is a thousand requests
// when a thousand sessions start at once, enough with their listen keys to push the IP past its request weight.

export class VenueClock {
  private offset: Promise<number> | null = null;

  /** `measure`: one round trip to the exchange's time endpoint, resolving with its offset from ours (ms). */
  constructor(private readonly measure: () => Promise<number>) {}

  /** The offset, measured on first use (again after a failed measurement, or after `remeasure`). */
  offsetMs(): Promise<number> {
    const measuring = (this.offset ??= this.measure());
    measuring.catch(() => {
      if (this.offset === measuring) this.offset = null; // the next caller measures again
    });
    return measuring;
  }

  /**
   * The exchange refused a signature's timestamp (-1021) stamped with `stale`: measure again. Accounts that saw the
   * same stale offset together share one new measurement.
   */
  remeasure(stale: Promise<number>): void {
    if (this.offset === stale) this.offset = null;
  }
}
