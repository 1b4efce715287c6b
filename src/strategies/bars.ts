// The strategy's bars over a run of quotes: one bar of mids per symbol per period, all closed together at the first
// quote of a later period. The backtest (src/backtest/run-backtest.ts), the live signals service
// (src/services/signals/service.ts) and the live replay of a backtest's quotes (test/support/live-replay.ts) all build
// them here, so a strategy sees the same bars at the same quotes on every path.
import type { Strategy } from './strategy.js';

/** A bar of mids being built for one symbol. */
interface OpenBar {
  openTimeMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

export class StrategyBars {
  private readonly open = new Map<string, OpenBar>();
  private periodIndex: number;

  constructor(
    private readonly strategy: Strategy,
    /** The bar length (ms). */
    private readonly barMs: number,
    startMs: number,
  ) {
    this.periodIndex = Math.floor(startMs / barMs);
  }

  /**
   * A quote's mid into its symbol's bar. True when it is the first quote of a new period: every symbol's bar of the
   * last one was closed (handed to the strategy) first.
   */
  add(symbol: string, timeMs: number, mid: number): boolean {
    // A quote stamped before the current period (live, one symbol's update can arrive after another's of a later
    // time) is the newest price of its symbol all the same: it goes into the current bar, not a closed period's.
    const index = Math.max(Math.floor(timeMs / this.barMs), this.periodIndex);
    const closed = index > this.periodIndex;
    if (closed) {
      for (const [s, bar] of this.open) this.strategy.onBar({ symbol: s, ...bar, closeTimeMs: bar.openTimeMs + this.barMs });
      this.open.clear();
      this.periodIndex = index;
    }
    const bar = this.open.get(symbol);
    if (!bar) this.open.set(symbol, { openTimeMs: index * this.barMs, open: mid, high: mid, low: mid, close: mid });
    else {
      bar.high = Math.max(bar.high, mid);
      bar.low = Math.min(bar.low, mid);
      bar.close = mid;
    }
    return closed;
  }
}
