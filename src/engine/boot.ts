import type { CoreConfig } from '../core/config.js';
import type { Decision } from '../core/decide.js';
import type { Order, Session } from '../core/state.js';
import { allOpenOrders, openOrdersOf } from '../core/state-index.js';
import { emptyMarketState } from '../core/state.js';
import type { ExchangeAccount } from '../exchange/port.js';
import type { Lane } from '../model/lane.js';
import type { RateBudget, RequestCost } from '../exchange/rate-budget.js';
import { requestWeights } from './request-costs.js';
import type { VenueFilters } from '../core/venues.js';
import type { EngineLog } from '../log/port.js';
import type { Logger } from '../util/logger.js';
import type { Sleep } from './attempts.js';
import { withAttempts } from './attempts.js';
import type { Clock } from './clock.js';
import { drainQueue, ReconcileQueue, SessionReadiness } from './session-readiness.js';
import type { EngineLimits, ReplayResult } from './engine.js';
import { defaultEngineLimits, Engine, replayLog } from './engine.js';

// The one start-up path, shared by the execution service and the deterministic simulation's crash-restart:
// snapshot + WAL replay → the engine → its `boot` input → every order whose outcome we do not know is
// queried by its client order id → the caller may consume commands → each open session's protective stops, open
// orders and positions are read and fed back, busy sessions first; a session's commands wait for its own read,
// so no command is decided on its stale view.

export interface BootRetry {
  /** Queries per unresolved order (while the answer stays unknown) and attempts per account read. */
  attempts: number;
  /** Wait after a failed account read, times the attempt's number (ms). */
  readDelayMs: number;
  sleep: Sleep;
  /** Wait before asking the request-weight budget again after it refused a boot read (ms). */
  budgetRecheckMs?: number;
}

/** Default wait between asks to a refusing request-weight budget (ms). */
export const defaultBudgetRecheckMs = 1_000;

export interface BootOptions {
  /** An opened, initialised log. */
  log: EngineLog;
  config: CoreConfig;
  clock: Clock;
  logger: Logger;
  limits?: EngineLimits;
  /** Each venue's trading rules per symbol; read once the log has been replayed (a venue left out has none yet). */
  loadFilters: () => Promise<VenueFilters>;
  /** The account a user trades on; null when none is configured (that user is not reconciled). */
  accountOf: (userId: string) => ExchangeAccount | null;
  /** Receives every committed decision, in order: where its effects go. */
  onEffects: (decision: Decision) => void;
  /** Called on a throwing decision: the state can no longer be trusted. */
  onFatal: (error: unknown) => void;
  /** Wires the engine before its first input (observers, late-bound routing of exchange results). */
  onEngine?: (engine: Engine) => void;
  retry: BootRetry;
  /**
   * The request-weight budget every other request draws from (per exchange IP, shared through Redis). Boot's
   * reads draw from it too: restarts in a row once pushed a minute's weight to 3 155–4 588 of Binance's 2 400.
   * None = unbounded (the deterministic simulation, which has no exchange limit to respect).
   */
  budget?: Pick<RateBudget, 'admit'> | ((userId: string) => Pick<RateBudget, 'admit'>);
  /** Sessions reconciled at the same time (bootReconcileConcurrency; default defaultBootReconcileConcurrency). */
  reconcileConcurrency?: number;
  /**
   * The account preflight run again for a session that was running (services/execution/account-preflight.ts):
   * its request weight and the run that returns what no longer fits; null when it does not apply to the session.
   */
  recheckAccount?: (session: Session, account: ExchangeAccount) => AccountRecheck | null;
}

/** One session's account check at boot: what it weighs against the request budget, and the check itself. */
export interface AccountRecheck {
  weight: number;
  run: () => Promise<string[]>;
}

export interface BootResult {
  engine: Engine;
  replay: ReplayResult;
}

/** Sessions reconciled at the same time at boot, unless the caller names another bound. */
export const defaultBootReconcileConcurrency = 16;

export interface StartedBoot extends BootResult {
  /** Which sessions are reconciled; a command for one that is not must wait for it (see SessionReadiness). */
  readiness: SessionReadiness;
  /** Resolves once every session is reconciled (or its reads were given up on). */
  reconciled: Promise<void>;
  /** Starts no further reconciliation (the service is stopping); `reconciled` resolves once those under way end. */
  cancel(): void;
}

/**
 * Boot up to the point where commands may be taken: replay, the `boot` input and every unresolved order queried.
 * Every open session is then reconciled in the background, busy ones (holding a position, an open order or a
 * protective stop) first, and its commands wait for it through `readiness`. Reconciling them before taking
 * commands made the restart wait for the request-weight budget: 11 weight a session is ~4.5 min for 1 000 busy
 * sessions at 2 400 a minute, and a session.stop for any of them waited as long. Meanwhile ticks and watchdog
 * beats act on a busy session's replayed view, as they would between two periodic checks: its stop-loss still
 * flattens what the log says it holds (the exchange-side stops rest too), and its reconciliation, read with
 * `requestedAtMs`, does not take what they did meanwhile for a difference.
 */
export async function startBoot(opts: BootOptions): Promise<StartedBoot> {
  const limits = opts.limits ?? defaultEngineLimits;
  const replay = await replayLog(opts.log, opts.config, limits);
  opts.logger.info(
    { replayedEvents: replay.replayedEvents, fromSnapshot: replay.fromSnapshot, sessions: replay.durable.sessions.size },
    'state rebuilt from the log',
  );
  const filters = await opts.loadFilters();
  const engine = new Engine(
    { durable: replay.durable, market: emptyMarketState(opts.clock.nowMs(), filters) },
    replay.lastWalId,
    opts.log,
    opts.clock,
    opts.config,
    opts.onEffects,
    opts.onFatal,
    opts.logger,
    limits,
  );
  opts.onEngine?.(engine);
  await engine.submit({ kind: 'boot' });
  const concurrency = opts.reconcileConcurrency ?? defaultBootReconcileConcurrency;
  await resolveUnknownOrders(engine, opts, concurrency);

  const busy: string[] = [];
  const idle: string[] = [];
  for (const session of engine.current.durable.sessions.values()) {
    if (session.status === 'closed' || opts.accountOf(session.userId) === null) continue;
    (isBusy(engine, session) ? busy : idle).push(session.userId);
  }
  const queue = new ReconcileQueue([...busy, ...idle]);
  const readiness = new SessionReadiness([...busy, ...idle], (userId, urgent) => queue.want(userId, urgent));
  const reconciled = drainQueue(queue, concurrency, async (userId) => {
    try {
      await reconcileSession(engine, opts, userId, () => queue.laneOf(userId));
    } finally {
      readiness.markReady(userId);
    }
    // After readiness: a command for the session does not wait behind its account check (~77 weight a session).
    await recheckAccount(engine, opts, userId);
  });
  return { engine, replay, readiness, reconciled, cancel: () => queue.cancel() };
}

/** The whole boot, every session reconciled before it resolves (the deterministic simulation's restart). */
export async function boot(opts: BootOptions): Promise<BootResult> {
  const started = await startBoot(opts);
  await started.reconciled;
  return { engine: started.engine, replay: started.replay };
}

/** A session the risk rules act on without a command of its own: it holds something, or has orders or stops. */
function isBusy(engine: Engine, session: Session): boolean {
  return (
    Object.keys(session.positions).length > 0 ||
    Object.keys(session.protectiveStops).length > 0 ||
    openOrdersOf(engine.current.durable, session.userId).length > 0
  );
}

/**
 * Runs one boot read once the budget admits it, waiting while it refuses. The wait is bounded by the budget
 * itself: a used-up minute frees at the next minute, a 429/418 pause ends at its Retry-After. Reads go on the
 * normal lane, so the weight kept for risk-reducing orders stays free for the rest of the fleet, unless a control
 * command waits for this session's reads (`lane`, asked again at each try: the command may come while it waits).
 */
async function withinBudget<T>(opts: BootOptions, userId: string, cost: RequestCost, read: () => Promise<T>, lane: () => Lane = () => 'normal'): Promise<T> {
  const budget = typeof opts.budget === 'function' ? opts.budget(userId) : opts.budget;
  if (!budget) return read();
  let refusals = 0;
  for (;;) {
    const admission = await budget.admit(lane(), opts.clock.nowMs(), cost);
    if (admission.ok) return read();
    if (refusals === 0) opts.logger.warn({ reason: admission.reason }, 'boot reconciliation waits for the request-weight budget');
    refusals += 1;
    await opts.retry.sleep(opts.retry.budgetRecheckMs ?? defaultBudgetRecheckMs);
  }
}

/** Settles every order whose outcome the log does not know, by asking the exchange about its client order id. */
async function resolveUnknownOrders(engine: Engine, opts: BootOptions, concurrency: number): Promise<void> {
  const unresolved = allOpenOrders(engine.current.durable);
  const resolveOne = async (order: Order): Promise<void> => {
    const account = opts.accountOf(order.userId);
    if (!account) return;
    for (let attempt = 0; attempt < opts.retry.attempts; attempt += 1) {
      const outcome = await withinBudget(opts, order.userId, { weight: requestWeights.queryOrder, orders: 0 }, () =>
        account.queryOrder(order.symbol, order.clientOrderId),
      );
      await engine.submit({ kind: 'query_result', clientOrderId: order.clientOrderId, outcome });
      if (outcome.kind !== 'unknown') break;
    }
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let order = unresolved[next++]; order !== undefined; order = unresolved[next++]) await resolveOne(order);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/**
 * The symbols whose stops and open orders are read for a session: the traded ones and any the session still
 * holds, has a stop or an order on. Per symbol, openAlgoOrders and openOrders weigh 1 each instead of 40 without
 * a symbol (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Current-All-Open-Orders),
 * so a session costs 2 × symbols + 5 (positionRisk) instead of 85.
 */
function symbolsToRead(engine: Engine, opts: BootOptions, session: Session): string[] {
  return [
    ...new Set([
      ...opts.config.symbols,
      ...Object.keys(session.positions),
      ...Object.keys(session.protectiveStops),
      ...openOrdersOf(engine.current.durable, session.userId).map((o) => o.symbol),
    ]),
  ];
}

/**
 * Feeds one open session's protective stops, open orders and positions to the engine. An account that cannot
 * be read is logged and skipped: the engine carries on with the replayed view, and the periodic stop check
 * reads it again. Commands, ticks and beats run meanwhile, so the read carries when it was asked for: an order
 * one of them filled meanwhile is not taken for a difference (the read may predate the fill).
 */
async function reconcileSession(engine: Engine, opts: BootOptions, userId: string, lane: () => Lane): Promise<void> {
  const read = budgetedRead(opts, userId, lane);
  const session = engine.current.durable.sessions.get(userId);
  const account = opts.accountOf(userId);
  if (!session || session.status === 'closed' || !account) return;
  const symbols = symbolsToRead(engine, opts, session);
  const requestedAtMs = opts.clock.nowMs();
  try {
    const stops = await read(symbols.length * requestWeights.openAlgoOrdersOfSymbol, () => account.listProtectiveStops(symbols));
    await engine.submit({ kind: 'stops_listed', userId, stops, askedAtMs: requestedAtMs });
    const openOrders = await read(symbols.length * requestWeights.openOrdersOfSymbol, () => account.getOpenOrders(symbols));
    const positions = await read(requestWeights.positionRisk, () => account.getPositions());
    await engine.submit({ kind: 'reconcile', userId, positions, openOrders, requestedAtMs });
  } catch (error) {
    opts.logger.error({ err: error, userId }, 'could not read positions, open orders or protective stops at boot; continuing with the replayed view');
  }
}

/** A boot read of `userId`'s account: retried on failure, each try waiting for the request-weight budget first. */
function budgetedRead(opts: BootOptions, userId: string, lane: () => Lane = () => 'normal') {
  const { attempts, readDelayMs, sleep } = opts.retry;
  return <T>(weight: number, call: () => Promise<T>): Promise<T> =>
    withAttempts(attempts, readDelayMs, () => withinBudget(opts, userId, { weight, orders: 0 }, call, lane), sleep);
}

/** The account preflight again for a session that was running (opts.recheckAccount), its verdict fed to the engine. */
async function recheckAccount(engine: Engine, opts: BootOptions, userId: string): Promise<void> {
  const session = engine.current.durable.sessions.get(userId);
  const account = opts.accountOf(userId);
  const recheck = session && session.status !== 'closed' && account ? (opts.recheckAccount?.(session, account) ?? null) : null;
  if (!recheck) return;
  try {
    await engine.submit({ kind: 'account_rechecked', userId, problems: await budgetedRead(opts, userId)(recheck.weight, recheck.run) });
  } catch (error) {
    opts.logger.error({ err: error, userId }, 'could not check the account settings at boot; the session trades on as started');
  }
}
