import type { CoreConfig } from '../core/config.js';
import type { Decision } from '../core/decide.js';
import { isTerminal } from '../core/orders.js';
import { emptyMarketState } from '../core/state.js';
import type { ExchangeAccount } from '../exchange/port.js';
import type { RateBudget, RequestCost } from '../exchange/rate-budget.js';
import { requestWeights } from './request-costs.js';
import type { VenueFilters } from '../core/venues.js';
import type { EngineLog } from '../log/port.js';
import type { Logger } from '../util/logger.js';
import type { Sleep } from './attempts.js';
import { withAttempts } from './attempts.js';
import type { Clock } from './clock.js';
import type { EngineLimits, ReplayResult } from './engine.js';
import { defaultEngineLimits, Engine, replayLog } from './engine.js';

// The one start-up path, shared by the execution service and the deterministic simulation's crash-restart:
// snapshot + WAL replay → the engine → its `boot` input → every order whose outcome we do not know is
// queried by its client order id → each open session's protective stops, open orders and positions are read
// and fed back. Only then may the caller consume commands, so no command is decided on a stale view.

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
}

export interface BootResult {
  engine: Engine;
  replay: ReplayResult;
}

export async function boot(opts: BootOptions): Promise<BootResult> {
  const limits = opts.limits ?? defaultEngineLimits;
  const replay = await replayLog(opts.log, opts.config, limits);
  opts.logger.info(
    { replayedEvents: replay.replayedEvents, fromSnapshot: replay.fromSnapshot, sessions: Object.keys(replay.durable.sessions).length },
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
  await resolveUnknownOrders(engine, opts);
  await reconcileSessions(engine, opts);
  return { engine, replay };
}

/**
 * Runs one boot read once the budget admits it, waiting while it refuses. The wait is bounded by the budget
 * itself: a used-up minute frees at the next minute, a 429/418 pause ends at its Retry-After. Reads go on the
 * normal lane, so the weight kept for risk-reducing orders stays free for the rest of the fleet.
 */
async function withinBudget<T>(opts: BootOptions, userId: string, cost: RequestCost, read: () => Promise<T>): Promise<T> {
  const budget = typeof opts.budget === 'function' ? opts.budget(userId) : opts.budget;
  if (!budget) return read();
  let refusals = 0;
  for (;;) {
    const admission = await budget.admit('normal', opts.clock.nowMs(), cost);
    if (admission.ok) return read();
    if (refusals === 0) opts.logger.warn({ reason: admission.reason }, 'boot reconciliation waits for the request-weight budget');
    refusals += 1;
    await opts.retry.sleep(opts.retry.budgetRecheckMs ?? defaultBudgetRecheckMs);
  }
}

/** Settles every order whose outcome the log does not know, by asking the exchange about its client order id. */
async function resolveUnknownOrders(engine: Engine, opts: BootOptions): Promise<void> {
  const unresolved = Object.values(engine.current.durable.orders).filter((o) => !isTerminal(o));
  for (const order of unresolved) {
    const account = opts.accountOf(order.userId);
    if (!account) continue;
    for (let attempt = 0; attempt < opts.retry.attempts; attempt += 1) {
      const outcome = await withinBudget(opts, order.userId, { weight: requestWeights.queryOrder, orders: 0 }, () =>
        account.queryOrder(order.symbol, order.clientOrderId),
      );
      await engine.submit({ kind: 'query_result', clientOrderId: order.clientOrderId, outcome });
      if (outcome.kind !== 'unknown') break;
    }
  }
}

/**
 * Feeds each open session's protective stops, open orders and positions to the engine. An account that
 * cannot be read is logged and skipped: the engine carries on with the replayed view, and the periodic stop
 * check reads it again.
 */
async function reconcileSessions(engine: Engine, opts: BootOptions): Promise<void> {
  const { attempts, readDelayMs, sleep } = opts.retry;
  // Each read is retried on failure and waits for the request-weight budget first.
  const read = <T>(userId: string, weight: number, call: () => Promise<T>): Promise<T> =>
    withAttempts(attempts, readDelayMs, () => withinBudget(opts, userId, { weight, orders: 0 }, call), sleep);
  for (const session of Object.values(engine.current.durable.sessions)) {
    if (session.status === 'closed') continue;
    const account = opts.accountOf(session.userId);
    if (!account) continue;
    try {
      const stops = await read(session.userId, requestWeights.openAlgoOrdersAllSymbols, () => account.listProtectiveStops());
      await engine.submit({ kind: 'stops_listed', userId: session.userId, stops });
      const openOrders = await read(session.userId, requestWeights.openOrdersAllSymbols, () => account.getOpenOrders());
      const positions = await read(session.userId, requestWeights.positionRisk, () => account.getPositions());
      await engine.submit({ kind: 'reconcile', userId: session.userId, positions, openOrders });
    } catch (error) {
      opts.logger.error(
        { err: error, userId: session.userId },
        'could not read positions, open orders or protective stops at boot; continuing with the replayed view',
      );
    }
  }
}
