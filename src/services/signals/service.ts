import { buildCommand } from '../../contract/commands.js';
import type { MarketData, Subscription } from '../../exchange/port.js';
import type { EngineLog } from '../../log/port.js';
import type { AppendLog, PartitionLogs } from '../../log/command-router.js';
import { appendRoutedCommand, singlePartition } from '../../log/command-router.js';
import type { Logger } from '../../util/logger.js';
import type { StrategyParams } from './reference-strategy.js';
import { crossoverWeight, defaultStrategyParams } from './reference-strategy.js';

// Publishes signals.route commands from the reference strategy. Samples the mid of each symbol every
// sampling period and appends one command per signal period.

export interface SignalsServiceOptions {
  log: EngineLog;
  /** The partitions routes are fanned out to (a cluster deployment); absent: `log` is the only one. */
  partitions?: PartitionLogs<AppendLog>;
  marketData: MarketData;
  symbols: readonly string[];
  sourceId: string;
  signalPeriodMs: number;
  /** Mid samples kept per symbol. */
  maxSamplesPerSymbol?: number;
  params?: StrategyParams;
  logger: Logger;
}

export interface SignalsService {
  stop(): Promise<void>;
}

export async function startSignalsService(opts: SignalsServiceOptions): Promise<SignalsService> {
  const maxSamples = opts.maxSamplesPerSymbol ?? 200;
  const mids = new Map<string, number[]>();
  const latest = new Map<string, number>();
  const sub: Subscription = await opts.marketData.subscribeBookTicker(opts.symbols, (tick) => latest.set(tick.symbol, (tick.bid + tick.ask) / 2));
  let seq = 0;
  const sampleMs = Math.max(50, Math.floor(opts.signalPeriodMs / 5));
  const sampler = setInterval(() => {
    for (const [symbol, mid] of latest) {
      const series = mids.get(symbol) ?? [];
      series.push(mid);
      if (series.length > maxSamples) series.shift();
      mids.set(symbol, series);
    }
  }, sampleMs);
  const publisher = setInterval(() => {
    const signals = opts.symbols
      .map((symbol) => ({ symbol, weight: crossoverWeight(mids.get(symbol) ?? [], opts.params ?? defaultStrategyParams) }))
      .filter((s): s is { symbol: string; weight: number } => s.weight !== null);
    if (signals.length === 0) return;
    seq += 1;
    const built = buildCommand('signals.route', { id: `sig-${Date.now().toString(36)}-${seq}`, userId: opts.sourceId, source: 'signals', signals });
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
