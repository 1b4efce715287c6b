// `quant-engine <service> [flags]`: one entry point for every service. `all` (what `npm start` runs)
// starts the simulator, the execution service on embedded SQLite and the reference signals in one process.
// Each service is imported only when asked for: a `cli` call must not load (and compile) the bot, the dashboard
// and the simulator, which took seconds per call.

import { endQuietlyOnClosedPipe } from './util/closed-pipe.js';

const usage = `usage: quant-engine <service> [flags]
services:
  all                       simulator + execution (SQLite, paper) + reference signals + dashboard in one process
                            (+ the Telegram bot when TELEGRAM_BOT_TOKEN is set)
  execution [--redis-url U] [--exchange-url U --exchange-ws-url U]
                            the execution service alone; with --cluster-urls U,U.. --partitions P a worker
                            of a partitioned log on a Redis Cluster (claims partitions through leases)
  simulator [--port N] [--seed N] [--state PATH] [--api-key K --api-secret S | --paper-accounts | --no-auth]
                            the exchange simulator (Binance USD-M subset over HTTP + WebSocket); with --state
                            it keeps its accounts, orders and prices in that SQLite file across restarts
  simulator reset --state PATH [--yes]
                            a blank paper account: erases the accounts in that file (with the simulator stopped)
  telegram                  the Telegram bot (TELEGRAM_BOT_TOKEN, QE_TELEGRAM_USER_IDS, QE_TELEGRAM_ADMIN_IDS)
  dashboard                 the local web dashboard, JSON API and /metrics (QE_DASHBOARD_HOST/PORT/TOKEN)
  cli <command> ...         operator commands and log inspection (quant-engine cli help)
  doctor [--live] [--rest U --ws U]
                            read-only account checks before trading: ok | warn | fail, with what to fix
  backtest [--data DIR] [--symbols S,S] [--from D --to D] [--strategy NAME] [--capital USD] [--out DIR] [--rules FILE]
                            a strategy over Binance archive data through the same engine (default: the shipped sample;
                            any symbol with --rules, Binance's exchangeInfo; quant-engine backtest --help for all)
configuration: environment variables, see README.md`;

/** Services that answer --help themselves (with their own usage); the others would start on it. */
const ownHelp = new Set(['cli', 'backtest']);

async function main(argv: string[]): Promise<void> {
  const [service, ...rest] = argv;
  // `quant-engine simulator --help` must print the usage, not bind a port (nor the execution service start trading).
  const helpAsked = argv.includes('--help') || argv.includes('-h');
  if (helpAsked && !ownHelp.has(service ?? '')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  switch (service) {
    case 'all':
      await (await import('./services/all/run-all.js')).runAll(rest);
      return;
    case 'execution':
      await (await import('./services/execution/run-execution.js')).runExecution(rest);
      return;
    case 'simulator':
      await (await import('./paper-exchange/main.js')).runSimulatorCli(rest);
      return;
    case 'telegram':
      await (await import('./services/telegram/run-telegram.js')).runTelegram(rest);
      return;
    case 'dashboard':
      await (await import('./services/dashboard/run-dashboard.js')).runDashboard(rest);
      return;
    case 'cli':
      process.exitCode = await (await import('./services/cli/run-cli.js')).runCli(rest);
      return;
    case 'doctor':
      endQuietlyOnClosedPipe();
      process.exitCode = await (await import('./services/doctor/run-doctor.js')).runDoctor(rest);
      return;
    case 'backtest':
      endQuietlyOnClosedPipe();
      process.exitCode = await (await import('./backtest/cli.js')).runBacktestCli(rest);
      return;
    default:
      process.stderr.write(`${usage}\n`);
      process.exitCode = service === undefined ? 0 : 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
