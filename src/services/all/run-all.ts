import { coreConfigFromEnv, readEnv } from '../../config/env.js';
import { createBinanceConnector } from '../../exchange/binance/connector.js';
import { memoryRateBudget } from '../../exchange/rate-budget.js';
import { openLog } from '../../log/open.js';
import { startSimulator } from '../../simulator/server.js';
import { parseFlags, untilSignal } from '../../util/args.js';
import { createLogger } from '../../util/logger.js';
import { startConsolePrinter } from '../console-printer.js';
import { startExecutionService } from '../execution/service.js';
import { startSignalsService } from '../signals/service.js';

/**
 * `quant-engine all`: the whole engine in one process, paper mode, embedded SQLite unless REDIS_URL is
 * set. Starts a demo session on first run so a new user sees it trade, and prints replies and alerts.
 */
export async function runAll(argv: string[]): Promise<void> {
  parseFlags(argv);
  const env = readEnv();
  const logger = createLogger('quant-engine', process.env.LOG_LEVEL ?? 'warn');
  const print = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const config = coreConfigFromEnv(env);

  const simulator = await startSimulator({ port: env.QE_SIM_PORT, seed: env.QE_SIM_SEED, symbols: undefined });
  print(`simulator (paper exchange) at ${simulator.restBaseUrl} and ${simulator.wsBaseUrl}`);
  const log = await openLog({ redisUrl: env.REDIS_URL, redisPrefix: env.QE_REDIS_PREFIX, sqlitePath: env.QE_SQLITE_PATH });
  print(env.REDIS_URL ? `log: Redis Streams at ${env.REDIS_URL}` : `log: SQLite ${env.QE_SQLITE_PATH} (synchronous=FULL)`);
  const rateBudget = memoryRateBudget();
  const paper = createBinanceConnector({
    restBaseUrl: simulator.restBaseUrl,
    wsBaseUrl: simulator.wsBaseUrl,
    restTimeoutMs: env.QE_REST_TIMEOUT_MS,
    logger,
    onUsedWeight: (weight1m) => void rateBudget.recordUsedWeight(weight1m, Date.now()),
  });
  const marketData = paper.marketData();
  const printer = startConsolePrinter(log, 'console', logger, print);
  const execution = await startExecutionService({ log, paper, marketData, config, logger, watchdogPeriodMs: env.QE_WATCHDOG_PERIOD_MS, rateBudget });
  print(`execution: ${execution.replayedEvents} WAL events replayed; paper mode; live trading ${config.liveTradingEnabled ? 'ENABLED' : 'disabled'}`);
  const signals = await startSignalsService({ log, marketData, symbols: config.symbols, sourceId: config.signalSourceIds[0] ?? 'signals', signalPeriodMs: env.QE_SIGNAL_PERIOD_MS, logger });

  const demo = env.QE_DEMO_USER;
  const existing = demo ? execution.engine.current.durable.sessions[demo] : undefined;
  if (demo && (!existing || existing.status === 'closed')) {
    const command = { id: `demo-start-${Date.now().toString(36)}`, userId: demo, type: 'session.start', mode: 'paper', capitalUsd: env.QE_DEMO_CAPITAL_USD, stopLossPct: 5, horizonHours: 24 };
    await log.appendCommand(JSON.stringify(command));
    print(`demo: started a paper session for "${demo}" with ${env.QE_DEMO_CAPITAL_USD} USD, 5% stop-loss, 24 h horizon`);
  }
  print('running; Ctrl-C to stop');

  const why = await untilSignal(env.QE_RUN_SECONDS);
  print(`stopping (${why})`);
  await signals.stop();
  await execution.stop();
  await printer.stop();
  await marketData.close();
  await log.close();
  await simulator.close();
}
