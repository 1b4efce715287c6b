import { coreConfigFromEnv, readEnv } from '../../config/env.js';
import { createVenueConnector } from '../../exchange/venue-connector.js';
import { exitOnAdapterDeath } from './adapter-death.js';
import { memoryRateBudget, redisRateBudget } from '../../exchange/rate-budget.js';
import { openLog } from '../../log/open.js';
import { claimLogWriter } from './claim-writer.js';
import { claimRedisWriter } from './redis-writer.js';
import { leaseSignGuard, workerClientId } from '../../cluster/lease-guard.js';
import type { LeaseBounds } from '../../cluster/lease-rules.js';
import type { ClusterLogChoice } from '../../log/partition-logs.js';
import { clusterChoiceOf } from '../../log/partition-logs.js';
import { listenForStop, parseFlags } from '../../util/args.js';
import { createLogger } from '../../util/logger.js';
import { createEngineMetrics } from '../../metrics/engine-metrics.js';
import { serveMetrics } from '../../metrics/serve-metrics.js';
import { createWorkerMetrics } from '../../metrics/worker-metrics.js';
import { openKeyStore } from '../../secrets/key-store.js';
import { keyVaultFromEnv } from '../../secrets/key-vault.js';
import { startCredentialCache } from './live-credentials.js';
import type { EngineLog } from '../../log/port.js';
import { defaultReplicaAckTimeoutMs } from '../../log/replica-acks.js';
import type { SignGuard } from '../../exchange/sign-guard.js';
import type { EngineMetrics } from '../../metrics/engine-metrics.js';
import type { ExecutionService, ExecutionServiceOptions } from './service.js';
import { startExecutionService } from './service.js';

/** `quant-engine execution`: the execution service alone, against Redis (or SQLite) and a given exchange. */
export async function runExecution(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  // Before the setup: a signal during it stops the service once set up, cleanly (util/args.ts).
  const stop = listenForStop();
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
  const redisPrefix = flags['redis-prefix'] ?? env.QE_REDIS_PREFIX;
  const cluster = clusterChoiceOf(flags, env, redisPrefix);
  if (flags['stale-feed-ms']) config.staleFeedMs = Number(flags['stale-feed-ms']);
  // Every process trading through this IP shares one budget per venue when Redis is there to hold it; paper and
  // live never share one (their limits are counted by different servers). Scope: venue and the REST host.
  const budgetFor = async (venue: 'paper' | 'live', restUrl: string) =>
    redisUrl ? redisRateBudget({ url: redisUrl, prefix: redisPrefix, scope: `${venue}:${new URL(restUrl).host}` }) : memoryRateBudget();
  const paperBudget = await budgetFor('paper', restBaseUrl);
  const liveBudget = config.liveTradingEnabled ? await budgetFor('live', env.QE_LIVE_REST_URL) : undefined;
  // The venues' adapters; a cluster worker makes one pair per partition, guarded by that partition's lease
  // (every signed request re-checks it) and naming the worker to the simulator (X-QE-Client, paper only). One process
  // on one log may run each adapter's accounts in their own thread (QE_ADAPTER_THREAD=worker); a cluster worker keeps
  // them in the engine's thread, since the lease guard is asked synchronously before each signature (threaded/connector.ts).
  // On Redis a single engine's requests are guarded by its writer lease as a worker's are (runSingle): the guard is
  // asked synchronously before each signature, so its adapters stay in the engine's thread too.
  const guardedByLease = cluster !== null || redisUrl !== undefined;
  const adapterThread = guardedByLease ? 'main' : env.QE_ADAPTER_THREAD;
  if (guardedByLease && env.QE_ADAPTER_THREAD === 'worker')
    logger.warn('QE_ADAPTER_THREAD=worker is not used here: the lease guard signs every request in the engine thread');
  const onFatal = exitOnAdapterDeath(logger);
  const connectors = (guard?: { signGuard: SignGuard; clientId: string }) => ({
    paper: createVenueConnector({
      restBaseUrl,
      wsBaseUrl,
      restTimeoutMs: env.QE_REST_TIMEOUT_MS,
      logger,
      rateBudget: paperBudget,
      streamRoutes: env.QE_STREAM_ROUTES,
      adapterThread,
      onFatal,
      ...(guard && { signGuard: guard.signGuard, clientId: guard.clientId }),
    }),
    live: config.liveTradingEnabled
      ? createVenueConnector({
          restBaseUrl: env.QE_LIVE_REST_URL,
          wsBaseUrl: env.QE_LIVE_WS_URL,
          restTimeoutMs: env.QE_REST_TIMEOUT_MS,
          logger,
          rateBudget: liveBudget,
          streamRoutes: env.QE_STREAM_ROUTES,
          adapterThread,
          onFatal,
          ...(guard && { signGuard: guard.signGuard }),
        })
      : null,
  });
  const { paper, live } = connectors();
  const marketData = paper.marketData();
  // Live sessions are sized, priced and guarded on the live exchange's own book, never on the simulator's.
  const liveMarketData = live?.marketData() ?? null;
  const keyStore = await openKeyStore({
    redisUrl,
    redisPrefix,
    sqlitePath: flags['sqlite-path'] ?? env.QE_SQLITE_PATH,
  });
  const credentials = await startCredentialCache(keyVaultFromEnv(keyStore), logger);
  const serviceOptions = (
    log: EngineLog,
    consumerName: string,
    metrics?: EngineMetrics,
    venues: ReturnType<typeof connectors> = { paper, live },
  ): ExecutionServiceOptions => ({
    log,
    ...venues,
    liveCredentials: (userId) => credentials.get(userId),
    marketData: { paper: marketData, live: liveMarketData },
    ...(metrics ? { metrics } : {}),
    config,
    logger,
    watchdogPeriodMs: Number(flags['watchdog-period-ms'] ?? env.QE_WATCHDOG_PERIOD_MS),
    consumerName,
    rateBudgets: { paper: paperBudget, ...(liveBudget ? { live: liveBudget } : {}) },
  });
  const running = cluster ? await runWorker(cluster, serviceOptions) : await runSingle(serviceOptions);
  const why = await stop.until(env.QE_RUN_SECONDS);
  logger.info({ why }, 'stopping');
  await running.stop();
  credentials.stop();
  await keyStore.close();
  await marketData.close();
  await liveMarketData?.close();
  await paper.close();
  await live?.close();
  await paperBudget.close();
  await liveBudget?.close();

  /** One execution service on one log: REDIS_URL or SQLite, every user (today's deployment). */
  async function runSingle(options: typeof serviceOptions): Promise<{ stop(): Promise<void> }> {
    // One engine per log. On Redis: the writer's lease on the prefix, claimed before the log is opened (its commits
    // are fenced on it); on SQLite: the file's writer claim (below).
    const onLost = (error: Error): void => {
      logger.fatal({ err: error }, 'this engine no longer holds its log; stopping at once');
      process.exit(1);
    };
    const redisWriter = redisUrl
      ? await claimRedisWriter({ url: redisUrl, prefix: redisPrefix, what: 'quant-engine execution', onLost, ...writerLeaseBoundsFlag() })
      : null;
    if (redisWriter?.note) logger.warn(redisWriter.note);
    // Every signed request re-checks the writer lease, as a cluster worker's does (lease-guard.ts): an engine frozen
    // past its lease and resumed (SIGSTOP, a stalled VM) while another took the log over sends none of the orders it
    // had committed before freezing; its later commits are refused by the fence. Named to the simulator (X-QE-Client).
    const guarded = redisWriter
      ? connectors({ signGuard: leaseSignGuard(redisWriter.lease), clientId: workerClientId(`single-${process.pid}`, 0, redisWriter.lease.token) })
      : null;
    const sqlitePath = flags['sqlite-path'] ?? env.QE_SQLITE_PATH;
    const log = await openLog({
      ...(redisWriter ? { fence: redisWriter.lease } : {}),
      redisUrl,
      redisPrefix,
      sqlitePath,
      limits: flags['reclaim-idle-ms'] ? { reclaimIdleMs: Number(flags['reclaim-idle-ms']) } : {},
      // Small parts make even a small state's snapshot a save of many commands (the chaos script kills during them).
      ...(flags['snapshot-part-chars'] ? { snapshotPartChars: Number(flags['snapshot-part-chars']) } : {}),
    });
    // One engine per log file (SQLite): a second execution service on it is refused here, naming the first.
    const sqliteNote = await claimLogWriter(log, 'quant-engine execution', sqlitePath, onLost).catch(async (error: unknown) => {
      await log.close();
      throw error;
    });
    if (sqliteNote) logger.warn({ sqlitePath }, sqliteNote);
    let service: ExecutionService | null = null;
    const metrics = createEngineMetrics({ log, state: () => service?.engine.current ?? null, nowMs: () => Date.now() });
    service = await startExecutionService(options(log, flags['consumer'] ?? 'exec-1', metrics, guarded ?? { paper, live }));
    const metricsServer = flags['metrics-port'] ? await serveMetrics(metrics.registry, Number(flags['metrics-port'])) : null;
    // Machine-readable readiness line for supervisors and tests.
    process.stdout.write(`${JSON.stringify({ ready: true, replayedEvents: service.replayedEvents, metricsPort: metricsServer?.port ?? null })}\n`);
    const started = service;
    return {
      async stop() {
        await started.stop();
        await metricsServer?.close();
        metrics.stop();
        await log.close();
        await guarded?.paper.close();
        await guarded?.live?.close();
        await redisWriter?.release();
      },
    };
  }

  /**
   * `--writer-lease-ttl-ms N`: a single-Redis engine's writer lease TTL other than 30 s (singleRedisLeaseBounds), renewed
   * ten times a TTL. For tests that freeze an engine past its lease; a deployment keeps the default.
   */
  function writerLeaseBoundsFlag(): { bounds: LeaseBounds } | Record<string, never> {
    const ttlMs = Number(flags['writer-lease-ttl-ms'] ?? NaN);
    if (!Number.isFinite(ttlMs)) return {};
    const tenthMs = Math.max(50, Math.floor(ttlMs / 10));
    return { bounds: { leaseTtlMs: ttlMs, leaseRenewEveryMs: tenthMs, leaseSafetyMarginMs: tenthMs } };
  }

  /** A worker of a partitioned log on a Redis Cluster: one service per partition it holds (src/cluster/worker.ts). */
  async function runWorker(cluster: ClusterLogChoice, options: typeof serviceOptions): Promise<{ stop(): Promise<void> }> {
    const { defaultWorkerId, startWorker } = await import('../../cluster/worker.js');
    const workerId = flags['worker-id'] ?? defaultWorkerId();
    // Lease and boot metrics (src/metrics/worker-metrics.ts); the view is bound once the worker exists.
    let started: { owned(): number[]; running(): number[] } | null = null;
    const metrics = createWorkerMetrics({ owned: () => started?.owned() ?? [], running: () => started?.running() ?? [] });
    const worker = await startWorker({
      clusterUrls: cluster.clusterUrls,
      prefix: cluster.prefix,
      partitionCount: cluster.partitionCount,
      workerId,
      ...(flags['reclaim-idle-ms'] ? { limits: { reclaimIdleMs: Number(flags['reclaim-idle-ms']) } } : {}),
      ...(flags['replica-acks'] && {
        replicaAcks: { replicas: Number(flags['replica-acks']), timeoutMs: Number(flags['replica-ack-timeout-ms'] ?? defaultReplicaAckTimeoutMs) },
      }),
      logger,
      // A partition's fatal error exits the worker (the default onFatal): its partitions move to the others.
      // The simulator's request log names the worker, partition and lease token that sent each request.
      startService: ({ partition, log, consumerName, lease }) =>
        startExecutionService(
          options(log, consumerName, undefined, connectors({ signGuard: leaseSignGuard(lease), clientId: workerClientId(workerId, partition, lease.token) })),
        ),
      // Machine-readable lines for supervisors and tests: what this worker holds and runs, on every change.
      onChange: (view) => process.stdout.write(`${JSON.stringify({ workerId, ...view })}\n`),
      onLease: (event) => metrics.onLease(event),
    });
    started = worker;
    const metricsServer = flags['metrics-port'] ? await serveMetrics(metrics.registry, Number(flags['metrics-port'])) : null;
    process.stdout.write(`${JSON.stringify({ ready: true, workerId, partitions: cluster.partitionCount, metricsPort: metricsServer?.port ?? null })}\n`);
    return {
      async stop() {
        await worker.stop();
        await metricsServer?.close();
        metrics.stop();
      },
    };
  }
}
