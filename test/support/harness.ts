import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { BinanceConnectorOptions } from '../../src/exchange/binance/connector.js';
import type { ExchangeConnector, MarketData } from '../../src/exchange/port.js';
import type { RateBudget } from '../../src/exchange/rate-budget.js';
import type { EngineLog } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import { openSqliteLog } from '../../src/log/sqlite-log.js';
import type { EngineLimits } from '../../src/engine/engine.js';
import type { ExecutorLimits } from '../../src/engine/effect-executor.js';
import type { Clock } from '../../src/engine/clock.js';
import type { ExecutionService } from '../../src/services/execution/service.js';
import { startExecutionService } from '../../src/services/execution/service.js';
import type { EngineMetrics } from '../../src/metrics/engine-metrics.js';
import { createEngineMetrics } from '../../src/metrics/engine-metrics.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { silentLogger } from '../../src/util/logger.js';
import { allOutbound } from './outbound.js';
import { deletePrefix, redisUrl, uniquePrefix } from './redis.js';
import { waitFor } from './wait.js';

// An engine wired for real: Redis Streams log, the simulator over HTTP/WS, the binance SDK adapter.

export interface HarnessOptions {
  label: string;
  clock?: Clock;
  timer?: 'interval' | 'manual';
  watchdogPeriodMs?: number;
  config?: Partial<CoreConfig>;
  sim?: SimulatorHandle;
  restTimeoutMs?: number;
  /** Adapter options beyond the venue URLs (user-stream timings, say). */
  connector?: Partial<BinanceConnectorOptions>;
  /** Feed Prometheus metrics (harness.metrics). */
  metrics?: boolean;
  /** The log in this SQLite file instead of Redis (the embedded default). */
  sqlitePath?: string;
  /** How often the engine snapshots (and so trims the WAL). */
  engineLimits?: EngineLimits;
  /** Run the account preflight for paper sessions too (service option paperPreflight). */
  paperPreflight?: boolean;
  /** Wraps the Redis log the service uses (to inject an outage, say); cleanup still uses the real one. */
  wrapLog?: (log: EngineLog) => EngineLog;
  /** The paper venue's request budget, given to both the connector (headers) and the service (admission). */
  rateBudget?: RateBudget;
  /** Wraps the paper connector the service trades through (to hold its requests, say); market data stays the real one's. */
  wrapConnector?: (connector: ExchangeConnector) => ExchangeConnector;
  /** The executor's lanes (service option executorLimits). */
  executorLimits?: ExecutorLimits;
}

export interface Harness {
  sim: SimulatorHandle;
  log: EngineLog;
  prefix: string;
  connector: ExchangeConnector;
  marketData: MarketData;
  service: ExecutionService;
  config: CoreConfig;
  metrics: EngineMetrics | null;
  send(command: Record<string, unknown>): Promise<string>;
  reply(commandId: string, status?: 'accepted' | 'rejected' | 'done'): Promise<Extract<OutboundEvent, { type: 'reply' }>>;
  close(): Promise<void>;
}

export function commandId(label: string): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const sim = opts.sim ?? (await startSimulator({ port: 0, seed: 11, priceStepMs: 50 }));
  const prefix = uniquePrefix(opts.label);
  const log = opts.sqlitePath
    ? openSqliteLog({ path: opts.sqlitePath, limits: { reclaimIdleMs: 1_000 } })
    : await openRedisLog({ url: redisUrl, prefix, limits: { reclaimIdleMs: 1_000 } });
  const connector = createBinanceConnector({
    ...opts.connector,
    restBaseUrl: sim.restBaseUrl,
    wsBaseUrl: sim.wsBaseUrl,
    restTimeoutMs: opts.restTimeoutMs ?? 5_000,
    ...(opts.rateBudget ? { rateBudget: opts.rateBudget } : {}),
  });
  const marketData = connector.marketData();
  const config: CoreConfig = { ...defaultCoreConfig, ...opts.config };
  const logger = silentLogger();
  let service: ExecutionService | null = null;
  const metrics = opts.metrics ? createEngineMetrics({ log, state: () => service?.engine.current ?? null, nowMs: () => Date.now() }) : null;
  service = await startExecutionService({
    log: opts.wrapLog ? opts.wrapLog(log) : log,
    paper: opts.wrapConnector ? opts.wrapConnector(connector) : connector,
    marketData: { paper: marketData },
    config,
    logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
    timer: opts.timer ?? 'interval',
    watchdogPeriodMs: opts.watchdogPeriodMs ?? 200,
    commandBlockMs: 100,
    ...(opts.engineLimits ? { engineLimits: opts.engineLimits } : {}),
    ...(opts.executorLimits ? { executorLimits: opts.executorLimits } : {}),
    ...(opts.paperPreflight ? { paperPreflight: true } : {}),
    ...(metrics ? { metrics } : {}),
    ...(opts.rateBudget ? { rateBudgets: { paper: opts.rateBudget } } : {}),
    onFatal: (error) => {
      throw error;
    },
  });
  const harness: Harness = {
    sim,
    log,
    prefix,
    connector,
    marketData,
    service,
    config,
    metrics,
    async send(command) {
      await log.appendCommand(JSON.stringify(command));
      return String(command.id);
    },
    async reply(id, status) {
      return waitFor(`reply ${status ?? 'any'} to ${id}`, async () =>
        (await allOutbound(log)).find(
          (e): e is Extract<OutboundEvent, { type: 'reply' }> => e.type === 'reply' && e.commandId === id && (status === undefined || e.status === status),
        ),
      );
    },
    async close() {
      await service.stop();
      metrics?.stop();
      await marketData.close();
      await log.close();
      if (!opts.sim) await sim.close();
      await deletePrefix(prefix);
    },
  };
  return harness;
}

/** Starts a harness before the suite and closes it after; call the accessor inside tests. */
export function useHarness(opts: HarnessOptions): () => Harness {
  let harness: Harness | null = null;
  beforeAll(async () => {
    harness = await startHarness(opts);
  });
  afterAll(async () => {
    await harness?.close();
  });
  return () => {
    if (!harness) throw new Error('harness not started');
    return harness;
  };
}
