import { defaultRecvWindowMs } from '../../exchange/binance/connector.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreConfig } from '../../core/config.js';
import type { Input } from '../../core/decide.js';
import type { AccountCredentials, ExchangeConnector } from '../../exchange/port.js';
import type { EngineLog } from '../../log/port.js';
import type { RateBudget } from '../../exchange/rate-budget.js';
import { memoryRateBudget } from '../../exchange/rate-budget.js';
import type { EngineMetrics } from '../../metrics/engine-metrics.js';
import type { Logger } from '../../util/logger.js';
import { AccountRegistry } from '../../engine/accounts.js';
import type { VenueMarketData } from './market-feeds.js';
import type { FilterRefreshTimings } from './market-feeds.js';
import { defaultFilterRefreshTimings, loadVenueFilters, retryMissingFilters, startFilterRefresh, subscribeVenueFeeds, venueFeeds } from './market-feeds.js';
import { filterRejectionCodes } from '../../core/rejections.js';
import { venueOfUser } from '../../core/venues.js';
import { startBoot } from '../../engine/boot.js';
import { CommandGate } from './command-gate.js';
import { createCommandLoop } from './command-loop.js';
import type { UncommittedInputLimits } from './uncommitted-inputs.js';
import { UncommittedInputs } from './uncommitted-inputs.js';
import type { Clock } from '../../engine/clock.js';
import { systemClock } from '../../engine/clock.js';
import type { ExecutorLimits } from '../../engine/effect-executor.js';
import { defaultExecutorLimits, EffectExecutor } from '../../engine/effect-executor.js';
import type { Engine, EngineLimits } from '../../engine/engine.js';
import { AccountChecks, defaultPreflightTimeoutMs, recheckAtBoot, withPreflight } from './account-preflight.js';

// The execution service: the kernel's boot() (snapshot + WAL replay → reconcile with the exchange), and
// only then market data and commands. Commands, ticks, timer beats and exchange results all become inputs to
// one serialized engine; exchange calls run in the executor's lanes and never block the event loop or the
// decision path.

export interface ExecutionServiceOptions {
  log: EngineLog;
  paper: ExchangeConnector;
  live?: ExchangeConnector | null;
  liveCredentials?: (userId: string) => AccountCredentials | null;
  /** Market data per venue: a session is sized, priced and guarded on its own venue's feed. */
  marketData: VenueMarketData;
  config: CoreConfig;
  logger: Logger;
  clock?: Clock;
  /** 'manual': tests drive the watchdog with timerBeat() on a simulated clock. */
  timer?: 'interval' | 'manual';
  watchdogPeriodMs?: number;
  consumerName?: string;
  commandBatchEntries?: number;
  commandBlockMs?: number;
  /** Command batches handed to the engine and not yet committed before the loop stops reading (command-loop.ts). */
  maxCommandBatchesInFlight?: number;
  /** How often pending commands of dead consumers are looked for. */
  reclaimEveryMs?: number;
  /** Longest wait at boot for the first quote of every symbol on every venue before consuming commands. */
  firstQuotesWaitMs?: number;
  /** Attempts per unresolved order / account during boot reconciliation before carrying on. */
  bootReconcileAttempts?: number;
  /** Sessions (and unresolved orders) reconciled at the same time at boot (default defaultBootReconcileConcurrency). */
  bootReconcileConcurrency?: number;
  /** Commands held for sessions still reconciling before the command loop stops reading (default defaultHeldCommandsMax). */
  heldCommandsMax?: number;
  executorLimits?: ExecutorLimits;
  /**
   * Request budgets, one per venue (and IP), shared with other processes trading through the same IP (memory if
   * absent). Paper and live never share one: the paper exchange's limits say nothing about Binance's. The same
   * budget must be given to that venue's connector, which feeds it every response's rate headers.
   */
  rateBudgets?: VenueRateBudgets;
  engineLimits?: EngineLimits;
  /** Prometheus metrics to feed (command latency, orders by outcome); none when absent. */
  metrics?: EngineMetrics;
  /** Bounds of the queue that keeps exchange news while the log refuses commits. */
  uncommittedInputLimits?: UncommittedInputLimits;
  /**
   * Run the account preflight (hedge mode, margin, leverage, liquidation; account-preflight.ts) for paper
   * sessions too, not only live ones (default false: it draws ~70 request weight per start).
   */
  paperPreflight?: boolean;
  /** Re-reading the venues' trading rules: hourly, and soon after a filter rejection (market-feeds.ts). */
  filterRefresh?: FilterRefreshTimings;
  /** Longest wait for one session's account preflight (ms). */
  preflightTimeoutMs?: number;
  /** Called on corruption or a throwing decision; the default exits the process. */
  onFatal?: (error: unknown) => void;
}

export interface VenueRateBudgets {
  paper: RateBudget;
  live?: RateBudget;
}

export interface ExecutionService {
  engine: Engine;
  executor: EffectExecutor;
  /** One watchdog beat (manual timer mode); resolves when decided and committed. */
  timerBeat(): Promise<void>;
  /** Resolves when engine inputs and exchange effects have settled (false: still coming after maxSettleRounds). */
  settle(): Promise<boolean>;
  /** Resolves once boot has reconciled every session (commands are taken before, per session as it is ready). */
  reconciled: Promise<void>;
  /** Stops reading, settles (see settle), then closes the accounts; a second call waits for the first. */
  stop(): Promise<void>;
  replayedEvents: number;
}

/** Wait after a failed account read during boot reconciliation, times the attempt's number (ms). */
const bootReadDelayMs = 300;
/** Rounds of drain-then-idle that settle (and stop) wait at most for the engine's queue to stay empty. */
const maxSettleRounds = 20;

export async function startExecutionService(opts: ExecutionServiceOptions): Promise<ExecutionService> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger;
  const watchdogPeriodMs = opts.watchdogPeriodMs ?? 1_000;
  const consumerName = opts.consumerName ?? 'exec-1';
  const commandBatchEntries = opts.commandBatchEntries ?? 100;
  const commandBlockMs = opts.commandBlockMs ?? 500;
  const reclaimEveryMs = opts.reclaimEveryMs ?? 1_000;
  const bootReconcileAttempts = opts.bootReconcileAttempts ?? 3;
  const { orderSendWindowMs, orderNotFoundGraceMs } = opts.config;
  if (orderSendWindowMs + defaultRecvWindowMs > orderNotFoundGraceMs)
    // An order sent late in its window must be refused by the exchange (recvWindow) before the core may call it never sent.
    throw new Error(`orderSendWindowMs ${orderSendWindowMs} + recvWindow ${defaultRecvWindowMs} must not exceed orderNotFoundGraceMs ${orderNotFoundGraceMs}`);
  const onFatal =
    opts.onFatal ??
    ((error: unknown) => {
      logger.fatal({ err: error }, 'engine state cannot be trusted; exiting');
      process.exit(1);
    });

  await opts.log.init();

  // Late-bound so the registry and executor can feed results into the engine boot() creates.
  let engine!: Engine;
  // Exchange news is sent once: if the log refuses it, it waits here until the log is back.
  const uncommitted = new UncommittedInputs(() => engine, logger, sleep, opts.uncommittedInputLimits);
  let submit: (input: Input) => void = () => undefined;
  const accounts = new AccountRegistry({
    paper: opts.paper,
    live: opts.live ?? null,
    liveCredentials: opts.liveCredentials ?? (() => null),
    modeOf: (userId) => engine.current.durable.sessions.get(userId)?.mode ?? null,
    onInput: (input) => submit(input),
    logger,
  });
  const paperBudget = opts.rateBudgets?.paper ?? memoryRateBudget();
  const liveBudget = opts.rateBudgets?.live ?? memoryRateBudget();
  const budgetOf = (userId: string): RateBudget => ((engine.current.durable.sessions.get(userId)?.mode ?? 'paper') === 'live' ? liveBudget : paperBudget);
  const executor = new EffectExecutor(
    (userId) => accounts.resolve(userId),
    (input) => submit(input),
    opts.executorLimits ?? defaultExecutorLimits,
    logger,
    budgetOf,
    () => clock.nowMs(),
  );
  const metrics = opts.metrics;
  /** Why boot could not read the live trading rules: the engine is told once it is up (before any command is read). */
  let liveRulesUnreadable: string | null = null;
  // Reconciles before consuming commands every order whose outcome we do not know and every busy session;
  // idle sessions are reconciled in the background, and their commands wait for them (command-gate.ts).
  const started = await startBoot({
    log: opts.log,
    config: opts.config,
    clock,
    logger,
    limits: opts.engineLimits,
    loadFilters: () =>
      loadVenueFilters(opts.marketData, opts.config.symbols, logger, (reason) => {
        liveRulesUnreadable = reason;
      }),
    accountOf: (userId) => accounts.resolve(userId),
    onEffects: (decision) => {
      for (const effect of decision.effects) executor.submit(effect);
      // A route's next step, or a beat's next sessions (core/config.ts maxSessionVisitsPerBeat), queued behind what
      // arrived meanwhile (control commands go in between). If it cannot be committed, the route's command stays
      // unacknowledged and is delivered again (reclaimed) to go on; a beat's sessions stay queued for the next beat.
      if (decision.continuation)
        engine
          .submitContinuation(decision.continuation)
          .catch((error: unknown) => logger.warn({ err: error, input: decision.continuation?.kind }, 'a continued step was not committed; it resumes later'));
    },
    onFatal,
    onEngine: (created) => {
      engine = created;
      if (metrics) engine.observe((input, decision) => metrics.decided(input, decision), { stateOfEachDecision: false });
      submit = (input) => uncommitted.submit(input);
    },
    retry: { attempts: bootReconcileAttempts, readDelayMs: bootReadDelayMs, sleep },
    budget: budgetOf,
    // Someone may have changed the account while the engine was down: each running session's account is checked
    // again, as at its start (issue 10 item 5, "at every boot").
    recheckAccount: recheckAtBoot({ config: opts.config, paper: opts.paperPreflight ?? false }),
    ...(opts.bootReconcileConcurrency !== undefined ? { reconcileConcurrency: opts.bootReconcileConcurrency } : {}),
  });
  const { replay } = started;
  const reconciled = started.reconciled.then(() => logger.info('boot reconciliation finished for every session'));

  // A live start refused for want of rules says why (venues.ts feedProblem), not only that they are missing.
  if (liveRulesUnreadable !== null) await engine.submit({ kind: 'rules_unreadable', venue: 'live', reason: liveRulesUnreadable });
  const subscriptions = await subscribeVenueFeeds(engine, opts.marketData, opts.config.symbols, logger);
  const filterRetry = retryMissingFilters(engine, opts.marketData, opts.config.symbols, logger);
  const filterRefresh = startFilterRefresh(engine, opts.marketData, opts.config.symbols, logger, opts.filterRefresh ?? defaultFilterRefreshTimings);
  engine.observe(
    (input, decision) => {
      // An order refused for a filter: the rules the engine sized it on may be out of date; read them again now.
      if (input.kind !== 'place_result' || input.outcome.kind !== 'rejected' || !filterRejectionCodes.has(input.outcome.code)) return;
      const order = decision.state.durable.orders.get(input.clientOrderId);
      if (order) filterRefresh.refreshSoon(venueOfUser(decision.state.durable, order.userId));
    },
    { stateOfEachDecision: false }, // an order's user and a session's venue stay what they were
  );
  // Commands that need prices (signals) would only be skipped before the first quotes arrive: wait for
  // them, boundedly, so a fresh engine does not answer its first commands with "no fresh quote".
  const firstQuotesDeadlineMs = Date.now() + (opts.firstQuotesWaitMs ?? 5_000);
  const quoted = (): boolean =>
    venueFeeds(opts.marketData).every(([venue]) => opts.config.symbols.every((s) => engine.current.market.venues[venue].quotes[s] !== undefined));
  while (Date.now() < firstQuotesDeadlineMs && !quoted()) {
    await sleep(10);
  }

  const preflightDeps = {
    config: opts.config,
    accountFor: (userId: string, mode: 'paper' | 'live') => accounts.resolve(userId, mode),
    budgetFor: (mode: 'paper' | 'live') => (mode === 'live' ? liveBudget : paperBudget),
    nowMs: () => clock.nowMs(),
    logger,
    paper: opts.paperPreflight ?? false,
    timeoutMs: opts.preflightTimeoutMs ?? defaultPreflightTimeoutMs,
  };
  let timerQueued = false;
  const timerBeat = async (): Promise<void> => {
    await engine.submit({ kind: 'timer' });
  };
  const interval =
    (opts.timer ?? 'interval') === 'interval'
      ? setInterval(() => {
          if (timerQueued) return; // never pile up beats behind a slow commit
          timerQueued = true;
          timerBeat()
            .catch((error: unknown) => logger.error({ err: error }, 'watchdog beat failed'))
            .finally(() => {
              timerQueued = false;
            });
        }, watchdogPeriodMs)
      : null;

  let lastReclaimAtMs = 0;
  // The gate hands the commands it held to the loop, which hands them to the engine in turn.
  const accountChecks = new AccountChecks(() => engine.current, preflightDeps);
  const gate = new CommandGate(
    started.readiness,
    (deliveries, readAtMs) => commandLoop.handOff(deliveries, readAtMs),
    opts.config.maxCommandBytes,
    logger,
    opts.heldCommandsMax,
    accountChecks,
  );
  const commandLoop = createCommandLoop({
    roomToRead: () => gate.roomToRead(),
    read: async () => {
      const deliveries = [];
      if (Date.now() - lastReclaimAtMs >= reclaimEveryMs) {
        lastReclaimAtMs = Date.now();
        deliveries.push(...(await opts.log.reclaimStaleCommands(consumerName, commandBatchEntries)));
      }
      deliveries.push(...(await opts.log.readCommands(consumerName, commandBatchEntries, commandBlockMs)));
      return deliveries;
    },
    route: (deliveries, readAtMs) => gate.route(deliveries, readAtMs),
    prepare: (deliveries) => withPreflight(deliveries, engine.current, preflightDeps, accountChecks),
    submit: (inputs) => engine.submitCommands(inputs),
    committed: (deliveries, readAtMs) =>
      metrics?.commandsCommitted(
        deliveries.map((d) => d.entryId),
        readAtMs,
        Date.now(),
      ),
    nowMs: () => Date.now(),
    logger,
    ...(opts.maxCommandBatchesInFlight !== undefined ? { maxBatchesInFlight: opts.maxCommandBatchesInFlight } : {}),
  });
  commandLoop.start();

  logger.info({ consumerName, symbols: opts.config.symbols, watchdogPeriodMs, staleFeedMs: opts.config.staleFeedMs }, 'execution service consuming commands');

  /**
   * Until the engine has nothing queued once the executor is idle: an effect's answer is decided after it arrives, and
   * what that decides (a refused post-only entry's fallback, say) is performed in turn. True when it got there within
   * maxSettleRounds.
   */
  const settle = async (): Promise<boolean> => {
    for (let i = 0; i < maxSettleRounds; i += 1) {
      await engine.drain();
      await executor.idle();
      if (engine.pendingInputs === 0) return true;
    }
    return false;
  };
  const stopOnce = async (): Promise<void> => {
    if (interval) clearInterval(interval);
    await commandLoop.stop();
    gate.close();
    started.cancel();
    await reconciled;
    await filterRetry.stop();
    await filterRefresh.stop();
    for (const sub of subscriptions) await sub.close();
    // Settled, not just drained once: an answer arriving while it drained was decided after, with the accounts
    // closed, and what it decided was recorded as refused for "no exchange account" (test/execution/stop-settles).
    if (!(await settle())) logger.warn({ pendingInputs: engine.pendingInputs }, 'stopping with exchange news still coming in');
    await uncommitted.stop();
    await accounts.close();
  };
  let stopping: Promise<void> | null = null;

  return {
    engine,
    executor,
    timerBeat,
    replayedEvents: replay.replayedEvents,
    reconciled,
    settle,
    stop() {
      stopping ??= stopOnce();
      return stopping;
    },
  };
}
