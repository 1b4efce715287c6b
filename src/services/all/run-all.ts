import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildCommand } from '../../contract/commands.js';
import { coreConfigFromEnv, readEnv } from '../../config/env.js';
import { createVenueConnector } from '../../exchange/venue-connector.js';
import { memoryRateBudget } from '../../exchange/rate-budget.js';
import { openLog } from '../../log/open.js';
import type { EngineLog } from '../../log/port.js';
import { startSimulator } from '../../paper-exchange/server.js';
import { paperSecretOf } from '../../engine/accounts.js';
import { openSqlitePaperState } from '../../paper-exchange/state-store.js';
import { listenForStop, parseFlags } from '../../util/args.js';
import { createConsoleLogger } from '../../util/logger.js';
import { exitOnAdapterDeath } from '../execution/adapter-death.js';
import { claimLogWriter } from '../execution/claim-writer.js';
import { claimRedisWriter } from '../execution/redis-writer.js';
import { startConsolePrinter } from '../console-printer.js';
import { createEngineMetrics } from '../../metrics/engine-metrics.js';
import { readDashboardEnv } from '../dashboard/run-dashboard.js';
import { startDashboard } from '../dashboard/server.js';
import type { ExecutionService } from '../execution/service.js';
import { startExecutionService } from '../execution/service.js';
import { startTelegramService } from '../telegram/run-telegram.js';
import { startTelegramInBackground } from './background-telegram.js';
import { startSignalsService } from '../signals/service.js';
import { liveStrategy } from '../../strategies/live-choice.js';
import { followSignalFile } from '../signals/signal-file-watch.js';

/**
 * `quant-engine all`: the whole engine in one process, paper mode, embedded SQLite unless REDIS_URL is
 * set. Starts a demo session on first run so a new user sees it trade, and prints replies and alerts.
 */
export async function runAll(argv: string[]): Promise<void> {
  parseFlags(argv);
  // Before the setup: a signal during it (a Ctrl-C while it starts) stops the engine once set up, cleanly (util/args.ts).
  const stop = listenForStop();
  const env = readEnv();
  const print = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  // Warnings and errors as readable lines among the replies and alerts (no JSON, no stack unless LOG_LEVEL=debug).
  const logger = createConsoleLogger('quant-engine', process.env.LOG_LEVEL ?? 'warn', (line) => void process.stdout.write(`${line}\n`));
  // `all` trades on its own simulator only: live sessions need the `execution` service with a live exchange.
  const config = { ...coreConfigFromEnv(env), liveTradingEnabled: false };
  if (env.LIVE_TRADING === '1') print('LIVE_TRADING=1 is ignored by `all` (paper only); run the execution service for live trading');
  // The signals' strategy first: a bad choice (QE_STRATEGY=replay without a file) is refused before anything starts.
  // A replayed signal file is read again as the model appends to it (signal-file-watch.ts).
  const stopFollowing: (() => void)[] = [];
  const { strategy, description } = await liveStrategy(
    { name: env.QE_STRATEGY, signalsFile: env.QE_SIGNALS_FILE, fast: env.QE_CROSSOVER_FAST, slow: env.QE_CROSSOVER_SLOW },
    env.QE_SIGNAL_PERIOD_MS,
    (path, signals) => {
      const followed = followSignalFile(path, signals, logger);
      stopFollowing.push(followed.stop);
      return followed.strategy;
    },
  );

  // Embedded: the paper exchange keeps its state in the engine's SQLite file (its own tables and connection), so a
  // restart continues its positions, orders and stops (issue 17). On Redis it stays in memory, as before.
  // On a fresh checkout the database's directory (data/) does not exist yet: the paper state opens the file first.
  if (!env.REDIS_URL) mkdirSync(dirname(env.QE_SQLITE_PATH), { recursive: true });
  const whereLog = { redisUrl: env.REDIS_URL, redisPrefix: env.QE_REDIS_PREFIX, sqlitePath: env.QE_SQLITE_PATH };
  // One engine per log, claimed before anything starts: a second `npm start` on the same file (or Redis prefix) is
  // refused here, naming the first, before its simulator touches the paper tables the first one's uses.
  const onLost = (error: Error): void => {
    print(`${error.message}; stopping at once`);
    process.exit(1);
  };
  const redisWriter = env.REDIS_URL ? await claimRedisWriter({ url: env.REDIS_URL, prefix: env.QE_REDIS_PREFIX, what: 'quant-engine all', onLost }) : null;
  const log = await openLog({ ...whereLog, ...(redisWriter ? { fence: redisWriter.lease } : {}) });
  const sqliteNote = await claimLogWriter(log, 'quant-engine all', env.QE_SQLITE_PATH, onLost).catch(async (error: unknown) => {
    await log.close();
    throw error;
  });
  const simState = env.REDIS_URL ? undefined : openSqlitePaperState(env.QE_SQLITE_PATH);
  const simulator = await startSimulator({
    port: env.QE_SIM_PORT,
    seed: env.QE_SIM_SEED,
    symbols: undefined,
    credentials: paperSecretOf,
    ...(simState ? { state: simState } : {}),
  });
  const simStateLine = simState ? `; state in ${env.QE_SQLITE_PATH} (${simulator.restored ? 'continued' : 'new'})` : '; state in memory';
  print(`simulator (paper exchange) at ${simulator.restBaseUrl} and ${simulator.wsBaseUrl}${simStateLine}`);
  // On Redis each reader of the outbound stream gets its own connection: a blocking read would otherwise
  // hold up the engine's command reads on the shared one. (SQLite reads poll; sharing costs nothing.)
  const readerLog = async (): Promise<EngineLog> => (env.REDIS_URL ? openLog(whereLog) : log);
  print(env.REDIS_URL ? `log: Redis Streams at ${env.REDIS_URL}` : `log: SQLite ${env.QE_SQLITE_PATH} (synchronous=FULL)`);
  const tookOver = redisWriter?.note ?? sqliteNote;
  if (tookOver) print(`log: ${tookOver}`);
  // The simulator's own budget: `all` trades paper only (one venue, one IP).
  const rateBudget = memoryRateBudget();
  const paper = createVenueConnector({
    restBaseUrl: simulator.restBaseUrl,
    wsBaseUrl: simulator.wsBaseUrl,
    restTimeoutMs: env.QE_REST_TIMEOUT_MS,
    logger,
    rateBudget,
    adapterThread: env.QE_ADAPTER_THREAD,
    onFatal: exitOnAdapterDeath(logger),
  });
  const marketData = paper.marketData();
  const printerLog = await readerLog();
  const printer = startConsolePrinter(printerLog, 'console', logger, print);
  let execution: ExecutionService | null = null;
  const metrics = createEngineMetrics({ log, state: () => execution?.engine.current ?? null, nowMs: () => Date.now() });
  execution = await startExecutionService({
    log,
    paper,
    marketData: { paper: marketData },
    config,
    logger,
    watchdogPeriodMs: env.QE_WATCHDOG_PERIOD_MS,
    rateBudgets: { paper: rateBudget },
    metrics,
  });
  print(`execution: ${execution.replayedEvents} WAL events replayed; paper mode only`);
  const signals = await startSignalsService({
    log,
    marketData,
    symbols: config.symbols,
    sourceId: config.signalSourceIds[0] ?? 'signals',
    signalPeriodMs: env.QE_SIGNAL_PERIOD_MS,
    strategy,
    logger,
  });
  // A crossover asks for nothing until it has its long window of bars: the line says when the first targets come.
  print(`signals: ${description} (QE_STRATEGY, QE_SIGNAL_PERIOD_MS)`);

  const dashboardLog = await readerLog();
  const dashboardEnv = readDashboardEnv();
  // The engine matters more than its window: a taken port is reported, not fatal.
  const dashboard = await startDashboard({
    log: dashboardLog,
    host: dashboardEnv.QE_DASHBOARD_HOST,
    port: dashboardEnv.QE_DASHBOARD_PORT,
    token: dashboardEnv.QE_DASHBOARD_TOKEN,
    adminUserId: config.adminUserIds[0] ?? 'operator',
    metrics: metrics.registry,
    logger,
  }).catch((error: unknown) => {
    print(`dashboard NOT started: ${error instanceof Error ? error.message : String(error)} (set QE_DASHBOARD_PORT)`);
    return null;
  });
  if (dashboard) print(`dashboard: ${dashboard.url} (metrics at ${dashboard.url}/metrics)`);
  const telegramLog = process.env.TELEGRAM_BOT_TOKEN ? await readerLog() : null;
  // In the background: an unreachable or refusing Bot API never holds up or takes down the engine.
  const telegram = telegramLog ? startTelegramInBackground({ start: (onFatal) => startTelegramService(telegramLog, whereLog, logger, onFatal), print }) : null;
  if (telegram) print('telegram: starting the bot in the background');

  const demo = env.QE_DEMO_USER;
  const existing = demo ? execution.engine.current.durable.sessions.get(demo) : undefined;
  if (demo && (!existing || existing.status === 'closed')) {
    const built = buildCommand('session.start', {
      id: `demo-start-${Date.now().toString(36)}`,
      userId: demo,
      mode: 'paper',
      capitalUsd: env.QE_DEMO_CAPITAL_USD,
      stopLossPct: 5,
      horizonHours: 24,
    });
    if (!built.ok) throw new Error(`demo session: ${built.reason}`);
    await log.appendCommand(built.json);
    print(`demo: started a paper session for "${demo}" with ${env.QE_DEMO_CAPITAL_USD} USD, 5% stop-loss, 24 h horizon`);
  }
  print('running; Ctrl-C to stop');

  const why = await stop.until(env.QE_RUN_SECONDS);
  print(`stopping (${why})`);
  await signals.stop();
  for (const stop of stopFollowing) stop();
  await telegram?.stop();
  await dashboard?.close();
  await execution.stop();
  metrics.stop();
  await printer.stop();
  await marketData.close();
  await paper.close();
  for (const reader of new Set([printerLog, dashboardLog, telegramLog])) if (reader && reader !== log) await reader.close();
  await log.close();
  await redisWriter?.release();
  await simulator.close();
}
