import { buildCommand } from '../../contract/commands.js';
import type { MarketData, Subscription } from '../../exchange/port.js';
import type { EngineLog } from '../../log/port.js';
import type { AppendLog, PartitionLogs } from '../../log/command-router.js';
import { appendRoutedCommand, singlePartition } from '../../log/command-router.js';
import { crossoverStrategy } from '../../strategies/crossover.js';
import type { Strategy } from '../../strategies/strategy.js';
import type { Logger } from '../../util/logger.js';

// Publishes signals.route commands from a strategy (src/strategies, the reference crossover unless told otherwise):
// samples the mid of each symbol every sampling period as a bar, and appends one command per signal period with the
// strategy's target weights. The backtest runs the same strategy objects over history.

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

/** Shortest sampling period (ms): a fifth of the signal period, but no faster than this. */
const minSampleMs = 50;

export async function startSignalsService(opts: SignalsServiceOptions): Promise<SignalsService> {
  const strategy = opts.strategy ?? crossoverStrategy();
  const latest = new Map<string, number>();
  const sub: Subscription = await opts.marketData.subscribeBookTicker(opts.symbols, (tick) => latest.set(tick.symbol, (tick.bid + tick.ask) / 2));
  let seq = 0;
  const sampleMs = Math.max(minSampleMs, Math.floor(opts.signalPeriodMs / 5));
  const sampler = setInterval(() => {
    const nowMs = Date.now();
    // One sample is a bar whose four prices are the mid at the sampling time.
    for (const [symbol, mid] of latest)
      strategy.onBar({ symbol, openTimeMs: nowMs - sampleMs, closeTimeMs: nowMs, open: mid, high: mid, low: mid, close: mid });
  }, sampleMs);
  const publisher = setInterval(() => {
    const targets = strategy.targets(Date.now());
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
  }, opts.signalPeriodMs);
  return {
    async stop() {
      clearInterval(sampler);
      clearInterval(publisher);
      await sub.close();
    },
  };
}
