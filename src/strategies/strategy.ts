// A strategy, as the backtest and the live signals service both run it: closed bars in, target weights out. It never
// reads a clock or a socket: the caller hands it bars and asks for targets at a time, so the same object runs over
// history (src/backtest) and live (src/services/signals) unchanged. A weight is the target exposure as a fraction of
// the session's capital (signals.route: weight × capital per symbol), signed: long above zero, short below.

/** One symbol's prices over [openTimeMs, closeTimeMs): mids of the best bid and ask. */
export interface Bar {
  symbol: string;
  openTimeMs: number;
  closeTimeMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

export interface TargetWeight {
  symbol: string;
  weight: number;
}

export interface Strategy {
  readonly name: string;
  /** A bar of one symbol has closed. */
  onBar(bar: Bar): void;
  /** The target weights at `nowMs` for the symbols it has a view on (symbols left out are left as they are). */
  targets(nowMs: number): TargetWeight[];
}
