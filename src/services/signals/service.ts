import { buildCommand } from '../../contract/commands.js';
import type { MarketData, Subscription } from '../../exchange/port.js';
import type { EngineLog } from '../../log/port.js';
import type { AppendLog, PartitionLogs } from '../../log/command-router.js';
import { appendRoutedCommand, singlePartition } from '../../log/command-router.js';
import { crossoverStrategy } from '../../strategies/crossover.js';
import type { Strategy } from '../../strategies/strategy.js';
import { StrategyBars } from '../../strategies/bars.js';
import type { Logger } from '../../util/logger.js';

// Publishes signals.route commands from a strategy (src/strategies, the reference crossover unless told otherwise),
// as the backtest runs it: every quote's mid goes into its symbol's bar of `signalPeriodMs` (StrategyBars), and at the
// first quote of a new period the closed bars go to the strategy and its target weights are appended as one route.
// The same bars at the same quotes as over history, so a strategy backtested with `--bar-seconds N` is the one that
// runs live with QE_SIGNAL_PERIOD_MS = N × 1000. (Before, a bar was a sample of the mid every fifth of the period,
// open = high = low = close, and routes went out on a timer: a crossover of 5 and 20 bars live was one of 1 and 4
// bars of the backtest.)

export interface SignalsServiceOptions {
  log: EngineLog;
  /** The partitions routes are fanned out to (a cluster deployment); absent: `log` is the only one. */
  partitions?: PartitionLogs<AppendLog>;
  marketData: MarketData;
  symbols: readonly string[];
  sourceId: string;
  signalPeriodMs: number;
  strategy?: Strategy;
  logger: Logger;
}

export interface SignalsService {
  stop(): Promise<void>;
}

export async function startSignalsService(opts: SignalsServiceOptions): Promise<SignalsService> {
  const strategy = opts.strategy ?? crossoverStrategy();
  /** Made at the first quote: bars count periods from the epoch, as the backtest's do. */
  let bars: StrategyBars | null = null;
  let seq = 0;
  const publish = (atMs: number): void => {
    const targets = strategy.targets(atMs);
    const signals = opts.symbols.flatMap((symbol) => targets.filter((t) => t.symbol === symbol));
    if (signals.length === 0) return;
    seq += 1;
    // Stamped: a route that waits in the stream longer than the engine's maxSignalAgeMs (it was down) is not traded.
    const issuedAtMs = Date.now();
    const built = buildCommand('signals.route', { id: `sig-${issuedAtMs.toString(36)}-${seq}`, userId: opts.sourceId, source: 'signals', issuedAtMs, signals });
    if (!built.ok) {
      opts.logger.error({ reason: built.reason }, 'signals not published: the command is invalid');
      return;
    }
    appendRoutedCommand(opts.partitions ?? singlePartition(opts.log), built.command)
      .then(() => opts.logger.info({ signals }, 'signals published'))
      .catch((error: unknown) => opts.logger.error({ err: error }, 'could not publish signals'));
  };
  const sub: Subscription = await opts.marketData.subscribeBookTicker(opts.symbols, (tick) => {
    // The exchange's time of the book state, as the backtest's quotes carry it (a stream without one: now).
    const atMs = tick.time > 0 ? tick.time : Date.now();
    bars ??= new StrategyBars(strategy, opts.signalPeriodMs, atMs);
    if (bars.add(tick.symbol, atMs, (tick.bid + tick.ask) / 2)) publish(atMs);
  });
  return {
    async stop() {
      await sub.close();
    },
  };
}
