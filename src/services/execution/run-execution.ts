import { coreConfigFromEnv, readEnv } from '../../config/env.js';
import { createBinanceConnector } from '../../exchange/binance/connector.js';
import { memoryRateBudget, redisRateBudget } from '../../exchange/rate-budget.js';
import { openLog } from '../../log/open.js';
import { parseFlags, untilSignal } from '../../util/args.js';
import { createLogger } from '../../util/logger.js';
import { createEngineMetrics } from '../../metrics/engine-metrics.js';
import { serveMetrics } from '../../metrics/serve-metrics.js';
import { openKeyStore } from '../../secrets/key-store.js';
import { keyVaultFromEnv } from '../../secrets/key-vault.js';
import { startCredentialCache } from './live-credentials.js';
import type { ExecutionService } from './service.js';
import { startExecutionService } from './service.js';

/** `quant-engine execution`: the execution service alone, against Redis (or SQLite) and a given exchange. */
export async function runExecution(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  const env = readEnv();
  const logger = createLogger('execution');
  const restBaseUrl = flags['exchange-url'] ?? env.QE_PAPER_REST_URL;
  const wsBaseUrl = flags['exchange-ws-url'] ?? env.QE_PAPER_WS_URL;
  if (!restBaseUrl || !wsBaseUrl)
    throw new Error(
      'paper exchange needed: --exchange-url and --exchange-ws-url (or QE_PAPER_REST_URL / QE_PAPER_WS_URL), e.g. a running `quant-engine simulator --paper-accounts`',
    );
  const config = coreConfigFromEnv(env);
  const redisUrl = flags['redis-url'] ?? env.REDIS_URL;
  if (flags['stale-feed-ms']) config.staleFeedMs = Number(flags['stale-feed-ms']);
  const log = await openLog({
    redisUrl,
    redisPrefix: flags['redis-prefix'] ?? env.QE_REDIS_PREFIX,
    sqlitePath: flags['sqlite-path'] ?? env.QE_SQLITE_PATH,
    limits: flags['reclaim-idle-ms'] ? { reclaimIdleMs: Number(flags['reclaim-idle-ms']) } : {},
  });
  // Every process trading through this IP shares one budget per venue when Redis is there to hold it; paper and
  // live never share one (their limits are counted by different servers). Scope: venue and the REST host.
  const budgetFor = async (venue: 'paper' | 'live', restUrl: string) =>
    redisUrl
      ? redisRateBudget({ url: redisUrl, prefix: flags['redis-prefix'] ?? env.QE_REDIS_PREFIX, scope: `${venue}:${new URL(restUrl).host}` })
      : memoryRateBudget();
  const paperBudget = await budgetFor('paper', restBaseUrl);
  const liveBudget = config.liveTradingEnabled ? await budgetFor('live', env.QE_LIVE_REST_URL) : undefined;
  const paper = createBinanceConnector({
    restBaseUrl,
    wsBaseUrl,
    restTimeoutMs: env.QE_REST_TIMEOUT_MS,
    logger,
    rateBudget: paperBudget,
    streamRoutes: env.QE_STREAM_ROUTES,
  });
  const live = config.liveTradingEnabled
    ? createBinanceConnector({
        restBaseUrl: env.QE_LIVE_REST_URL,
        wsBaseUrl: env.QE_LIVE_WS_URL,
        restTimeoutMs: env.QE_REST_TIMEOUT_MS,
        logger,
        rateBudget: liveBudget,
        streamRoutes: env.QE_STREAM_ROUTES,
      })
    : null;
  const marketData = paper.marketData();
  // Live sessions are sized, priced and guarded on the live exchange's own book, never on the simulator's.
  const liveMarketData = live?.marketData() ?? null;
  const keyStore = await openKeyStore({
    redisUrl,
    redisPrefix: flags['redis-prefix'] ?? env.QE_REDIS_PREFIX,
    sqlitePath: flags['sqlite-path'] ?? env.QE_SQLITE_PATH,
  });
  const credentials = await startCredentialCache(keyVaultFromEnv(keyStore), logger);
  const metrics = createEngineMetrics({ log, state: () => service?.engine.current ?? null, nowMs: () => Date.now() });
  let service: ExecutionService | null = null;
  service = await startExecutionService({
    log,
    paper,
    live,
    liveCredentials: (userId) => credentials.get(userId),
    marketData: { paper: marketData, live: liveMarketData },
    metrics,
    config,
    logger,
    watchdogPeriodMs: Number(flags['watchdog-period-ms'] ?? env.QE_WATCHDOG_PERIOD_MS),
    consumerName: flags['consumer'] ?? 'exec-1',
    rateBudgets: { paper: paperBudget, ...(liveBudget ? { live: liveBudget } : {}) },
  });
  const metricsServer = flags['metrics-port'] ? await serveMetrics(metrics.registry, Number(flags['metrics-port'])) : null;
  // Machine-readable readiness line for supervisors and tests.
  process.stdout.write(`${JSON.stringify({ ready: true, replayedEvents: service.replayedEvents, metricsPort: metricsServer?.port ?? null })}\n`);
  const why = await untilSignal(env.QE_RUN_SECONDS);
  logger.info({ why }, 'stopping');
  await service.stop();
  await metricsServer?.close();
  metrics.stop();
  credentials.stop();
  await keyStore.close();
  await marketData.close();
  await liveMarketData?.close();
  await paperBudget.close();
  await liveBudget?.close();
  await log.close();
}
