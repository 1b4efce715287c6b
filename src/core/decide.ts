import type { BookTicker, SymbolFilters } from '../model/market.js';
import type { CancelOutcome, OrderSnapshot, PlaceOutcome, QueryOutcome } from '../model/orders.js';
import type { FundingPayment, PositionSnapshot } from '../model/positions.js';
import type { AccountTrade } from '../model/trades.js';
import { onAccountConfig, onAccountRechecked } from './account-recheck.js';
import { onTradeOrigin } from './trade-origin.js';
import { onTradesListed, requestSessionTrades, requestTrades, requestTradesAtBoot } from './trade-backstop.js';
import { retryDeferredTradeRead } from './foreign-trades.js';
import { bookCommission } from './fees.js';
import type { IncomeRead } from '../model/income.js';
import { onIncomeListed, requestFundingRead, requestFundingReadsAtBoot } from './funding-income.js';
import type { AccountConfigChange } from '../model/margin.js';
import type { ProtectiveStopSnapshot, ProtectiveStopUpdate, StopOutcome } from '../model/protective-stops.js';
import { maintainProtectiveStops, onStopPlaced, onStopsListed } from './protective-stops.js';
import type { CommandDelivery, DeadLetter } from '../model/command-delivery.js';
import { handleCommand } from './command-handlers.js';
import type { PreflightResult } from './preflight.js';
import { watchLiquidation } from './liquidation-watch.js';
import type { ParsedCommand } from '../contract/commands.js';
import { parseDelivery } from '../contract/commands.js';
import type { CoreConfig } from './config.js';
import { tradedSymbols } from './config.js';
import { exactEquals, exactOf, exactOfText, isZero, toDecimal, toPrice, toQty, zero } from '../model/decimal.js';
import { DecisionContext } from './context.js';
import type { Venue } from './venues.js';
import { withFeedStarted, withFilters, withQuote, withRulesUnreadable } from './venues.js';
import type { WalEvent } from './events.js';
import { isTerminal, markUnknown, onCancelResult, onPlaceResult, onQueryResult, applySnapshot, requestQuery } from './orders.js';
import type { OutboundEvent } from '../contract/outbound.js';
import type { Effect } from './outputs.js';
import type { EngineState, Mode } from './state.js';
import { onExchangeFill, reportAdoption } from './exchange-fills.js';
import { onPositionNews } from './position-news.js';
import { onStopNews } from './stop-news.js';
import { reaskOwedTradeReads, requestTradesOfFilledOrders } from './trade-reads-owed.js';
import { wasProcessed } from './state.js';
import { someOpenOrChangedOrderOf } from './state-index.js';
import { sampleEquity } from './summary.js';
import { handOn, leftOver, passes, scheduleFor } from './schedule.js';
import type { OwnedDicts } from './dict.js';
import { checkRiskRules, enforceFlat, maintainOrders } from './risk-rules.js';
import { copyMarket } from './record-copies.js';

// The engine's single decision function: (state, input, now) → new state, WAL events, outbound events,
// exchange effects and stream acknowledgements. No I/O, no clock, no randomness.

export type Input =
  /** After WAL replay, before anything else: fix the id epoch, turn unanswered sends into unknowns. */
  | { kind: 'boot' }
  /** Market-data inputs name their venue: a session reads only its own venue's filters, quotes and feed clocks. */
  | { kind: 'filters'; venue: Venue; filters: Record<string, SymbolFilters> }
  /**
   * `preflight`: the account preflight's verdict for a session.start (src/core/preflight.ts), or the account's recheck
   * for a session.resume of a paused session, when one ran.
   */
  | { kind: 'command'; delivery: CommandDelivery; preflight?: PreflightResult }
  | { kind: 'tick'; venue: Venue; tick: BookTicker }
  /**
   * The watchdog's beat. `only: 'equity'`: a beat's continuation for equity samples still due (summary.ts), which runs
   * the equity pass alone: the other passes wait for the next beat, where the sessions changed meanwhile are seen
   * together (a continuation that ran every pass visited them part by part: at 10 000 sessions, ~60 % more CPU).
   */
  | { kind: 'timer'; only?: 'equity' }
  /** Market data for these symbols is now subscribed on this venue: their stale-feed clocks start now. */
  | { kind: 'feed_started'; venue: Venue; symbols: string[] }
  /** The venue's trading rules could not be read, and why (the shell's read failed): told to whoever asks for them. */
  | { kind: 'rules_unreadable'; venue: Venue; reason: string }
  /**
   * Exchange news may have been lost on the way: the log was unavailable for a while (commits failed), or one user's
   * user-data stream was down or deaf (`userId`). Ask the exchange about every order not known to be final and
   * re-read the open sessions' positions (of that user only, when one is named).
   */
  | { kind: 'resync'; userId?: string }
  /** Positions that changed on one user's account, as the user stream reported them (ACCOUNT_UPDATE). */
  | { kind: 'position_news'; userId: string; mode: Mode; positions: PositionSnapshot[] }
  | { kind: 'place_result'; clientOrderId: string; outcome: PlaceOutcome }
  | { kind: 'cancel_result'; clientOrderId: string; outcome: CancelOutcome }
  | { kind: 'query_result'; clientOrderId: string; outcome: QueryOutcome }
  /**
   * An order update from the user-data stream of one user's account (`userId`, `mode`; absent from callers that
   * report only the engine's own orders). A trade of an order the engine did not place is booked (exchange-fills.ts).
   */
  | { kind: 'order_update'; order: OrderSnapshot; userId?: string; mode?: Mode }
  /**
   * A funding payment on the user's account, from the user-data stream: it asks for the income history, which is
   * what is booked (funding-income.ts).
   */
  | { kind: 'funding'; userId: string; payment: FundingPayment }
  /** One user's income history of one type, as the exchange answered it (funding-income.ts). */
  /** askedAtMs: when the read was asked for (echoed from read_income), so a late answer to an older read is known as such. */
  | { kind: 'income_listed'; userId: string; incomeType: string; read: IncomeRead; askedAtMs?: number }
  | { kind: 'stop_placed'; userId: string; symbol: string; clientAlgoId: string; outcome: StopOutcome }
  /**
   * askedAtMs: when the listing was asked for (echoed from list_stops): a stop planned since may be missing from it
   * (its placement reached the exchange after the listing was read), and is judged by a later one. Absent: any time.
   */
  | { kind: 'stops_listed'; userId: string; stops: ProtectiveStopSnapshot[]; askedAtMs?: number }
  /** A conditional order's status change on one user's account, as the user stream reported it (ALGO_UPDATE). */
  | { kind: 'stop_news'; userId: string; mode: Mode; update: ProtectiveStopUpdate }
  /** An account setting changed on the exchange (the user-data stream's ACCOUNT_CONFIG_UPDATE, or a margin type's ACCOUNT_UPDATE). */
  | { kind: 'account_config'; userId: string; mode: Mode; change: AccountConfigChange }
  /** One symbol's trades on one user's account, oldest first, as the trade list answered (trade-backstop.ts). */
  /** askedAtMs: when the read was asked for (echoed from read_trades), so a late answer to an older read is known as such. */
  | { kind: 'trades_listed'; userId: string; symbol: string; trades: AccountTrade[]; askedAtMs?: number }
  /** Which order made a trade learnt from the trade list alone: its client id, or null when the exchange has none. */
  | { kind: 'trade_origin'; userId: string; symbol: string; exchangeOrderId: string; clientOrderId: string | null; realizedPnlUsd: string }
  /** The account preflight run again at boot for a running session: what no longer fits (empty: nothing). */
  | { kind: 'account_rechecked'; userId: string; problems: string[] }
  /** Positions (and, at boot, open orders) as the exchange reports them for one user's account. */
  | {
      kind: 'reconcile';
      userId: string;
      positions: PositionSnapshot[];
      openOrders?: OrderSnapshot[];
      /** When the read was asked for; fills the engine learnt since may be missing from it. */
      requestedAtMs?: number;
    };

export interface Decision {
  state: EngineState;
  wal: WalEvent[];
  outbound: OutboundEvent[];
  effects: Effect[];
  ack: string[];
  deadLetters: DeadLetter[];
  /**
   * Work this input left for a later step (a signals.route with users left, route-signals.ts): the shell queues it
   * behind whatever is waiting, so control commands are decided in between. Lost in a crash, it comes back as
   * the unacknowledged command's redelivery.
   */
  continuation?: Input;
}

/**
 * An id the engine itself gave out (`qe<epoch>-<n>`): an update for one that is no longer in the state is an
 * order pruned after it ended, already booked, never a stranger's trade.
 */
function isOurs(ctx: DecisionContext, clientOrderId: string): boolean {
  return ctx.durable.epoch !== null && clientOrderId.startsWith(`qe${ctx.durable.epoch}-`);
}

function entryCommandId(entryId: string): string {
  return `entry:${entryId}`;
}

/** Who a delivery is from, as far as it can be read: answers go to its id (or its entry's), its user and type. */
function senderOf(parsed: ParsedCommand, delivery: CommandDelivery): { commandId: string; userId: string | null; commandType: string | null } {
  if (parsed.ok) return { commandId: parsed.command.id, userId: parsed.command.userId, commandType: parsed.command.type };
  return { commandId: parsed.commandId ?? entryCommandId(delivery.entryId), userId: parsed.userId, commandType: null };
}

/** True for an exchange amount that reads as exactly zero (an unreadable one is not flat: it is reported). */
function isFlatAmount(amount: string): boolean {
  return exactOfText(amount)?.units === 0n;
}

function onCommand(ctx: DecisionContext, delivery: CommandDelivery, preflight: PreflightResult | undefined): void {
  const parsed = parseDelivery(delivery, ctx.config.maxCommandBytes);
  if (delivery.deliveryCount > ctx.config.maxDeliveries) {
    // A command whose processing keeps dying (it was delivered, never acked) is parked for inspection.
    const reason = `delivered ${delivery.deliveryCount} times without completing (limit ${ctx.config.maxDeliveries})`;
    const { commandId, userId, commandType } = senderOf(parsed, delivery);
    ctx.deadLetter({ entryId: delivery.entryId, raw: delivery.raw, reason });
    if (wasProcessed(ctx.durable, commandId)) return; // answered once already: never a second answer
    if (parsed.ok || ctx.durable.routes[commandId]) {
      // Recorded as processed, as its answer is final: the producer's retry of the same id (or a step of a route
      // part-way, still queued) is never answered again. Not recorded, a retry was decided afresh and answered a second
      // time (the deterministic simulation, cluster mode, seed 200393 over 1 500 steps: a route rejected after six
      // deliveries that died with their workers, then answered "trading is halted" when its producer sent it again).
      ctx.emit({ type: 'command.processed', commandId, userId, commandType, outcome: 'rejected', reason, atMs: ctx.nowMs });
    }
    ctx.reject(commandId, userId, commandType, reason);
    return;
  }
  if (!parsed.ok) {
    // The id is checked before anything else where it can be read: a malformed entry reusing the id of a
    // processed command is kept for inspection but not answered, so one id never gets two answers.
    if (parsed.commandId !== null && wasProcessed(ctx.durable, parsed.commandId)) {
      ctx.deadLetter({
        entryId: delivery.entryId,
        raw: delivery.raw,
        reason: `reuses the id of processed command ${parsed.commandId} (not answered again): ${parsed.reason}`,
      });
      return;
    }
    ctx.deadLetter({ entryId: delivery.entryId, raw: delivery.raw, reason: parsed.reason });
    ctx.reject(parsed.commandId ?? entryCommandId(delivery.entryId), parsed.userId, null, parsed.reason);
    return;
  }
  const command = parsed.command;
  if (wasProcessed(ctx.durable, command.id)) {
    ctx.acknowledge(delivery.entryId);
    return; // duplicate delivery or producer retry: one effect only
  }
  const result = handleCommand(ctx, command, preflight);
  // Part-way (a route with users left): neither acknowledged nor answered until its last step.
  if (result.ok === 'partial') return void (ctx.continues = true);
  ctx.acknowledge(delivery.entryId);
  ctx.emit({
    type: 'command.processed',
    commandId: command.id,
    userId: command.userId,
    commandType: command.type,
    outcome: result.ok ? 'accepted' : 'rejected',
    reason: result.ok ? null : result.reason,
    atMs: ctx.nowMs,
  });
  if (result.ok) ctx.answer(command.id, command.userId, result.answer);
  else ctx.reject(command.id, command.userId, command.type, result.reason);
}

function onBoot(ctx: DecisionContext): void {
  if (ctx.durable.epoch === null) ctx.emit({ type: 'engine.initialized', epoch: ctx.nowMs.toString(36) });
  // Boot reads every open session's stops, open orders and positions (engine/boot.ts): that is the protective-stop
  // pass's periodic check, not to be asked for again by this decision's pass (twice the weight at every restart).
  for (const session of ctx.durable.sessions.values()) if (session.status !== 'closed') ctx.noteStopCheck(session.userId);
  for (const order of ctx.durable.orders.values()) {
    // Written to the WAL, maybe sent, answer never recorded: only the exchange knows.
    if (order.status === 'pending') markUnknown(ctx, order, 'engine restarted before the send was answered');
  }
}

function onResync(ctx: DecisionContext, userId: string | null): void {
  for (const order of ctx.durable.orders.values()) {
    if (!isTerminal(order) && (userId === null || order.userId === userId)) requestQuery(ctx, order);
  }
  const sessions = userId === null ? ctx.durable.sessions.values() : [ctx.durable.sessions.get(userId)];
  for (const session of sessions) {
    if (session && session.status !== 'closed') {
      ctx.effect({ kind: 'reconcile', userId: session.userId, requestedAtMs: ctx.nowMs });
      // What the stream missed meanwhile includes trades: their commissions come from the trade list.
      requestSessionTrades(ctx, session.userId);
      // And funding payments: they are read from the income history.
      requestFundingRead(ctx, session.userId);
    } else if (session && userId !== null) {
      // Closed during this user's gap: a payment made before its last flatten may be what the stream swallowed.
      requestFundingRead(ctx, session.userId);
    }
  }
  requestTradesOfFilledOrders(ctx, userId);
}

function onReconcile(ctx: DecisionContext, userId: string, positions: PositionSnapshot[], openOrders: OrderSnapshot[], requestedAtMs: number | null): void {
  for (const snapshot of openOrders) {
    const order = ctx.durable.orders.get(snapshot.clientOrderId);
    if (order && order.userId === userId) applySnapshot(ctx, order, snapshot);
    else
      ctx.alert(
        userId,
        'reconcile',
        `open order ${snapshot.clientOrderId} (${snapshot.side} ${snapshot.origQty} ${snapshot.symbol}) is not in the engine's log; left untouched`,
      );
  }
  const session = ctx.durable.sessions.get(userId);
  const exchange = new Map<string, (typeof positions)[number]>();
  for (const p of positions) exchange.set(p.symbol, p);
  if (!session || session.status === 'closed') {
    for (const p of positions) {
      if (!isFlatAmount(p.positionAmt)) ctx.alert(userId, 'reconcile', `exchange holds ${p.positionAmt} ${p.symbol} outside any session; left untouched`);
    }
    return;
  }
  // Only the symbols this engine trades (and any the session already holds) are the session's. Anything else in
  // the account (a manual DOGE position) is not adopted: adopting it once made the stale-feed rule flatten the
  // real positions (no DOGE quotes), and /stop could never finish (no DOGE filters). It is reported once.
  const traded = tradedSymbols(ctx.config.symbols).set;
  for (const { symbol, positionAmt } of positions) {
    if (isFlatAmount(positionAmt) || traded.has(symbol) || session.positions[symbol] !== undefined) continue;
    const key = `${userId}:${symbol}`;
    if (ctx.market.foreignPositionsReported.get(key)) continue;
    ctx.market = copyMarket(ctx.market, { foreignPositionsReported: ctx.market.foreignPositionsReported.set(key, true as const) });
    ctx.alert(userId, 'reconcile', `the account also holds ${positionAmt} ${symbol}, which this engine does not trade; left untouched`);
  }
  const symbols = new Set(Object.keys(session.positions));
  for (const symbol of exchange.keys()) if (traded.has(symbol)) symbols.add(symbol);
  let disagreedUnsettled = false;
  for (const symbol of symbols) {
    const ours = session.positions[symbol]?.qty ?? zero;
    const theirs = exchange.get(symbol);
    // An order still open or unresolved may change the position; reconcile that symbol once it settles.
    // So may an order that filled after the read was asked for: the read may predate the fill. An order that
    // never filled (a rejection, such as the -2022 that asked for this very read) cannot have moved it.
    const unsettled = someOpenOrChangedOrderOf(ctx.durable, userId, symbol, requestedAtMs, (o) => !isZero(toDecimal(o.filledQty)));
    // Exact: a position equal to the exchange's is never "corrected" by float noise, nor a real difference missed. An
    // amount that is not a decimal agrees with nothing. (Its text read once, and not into the decimal cache: exactOfText.)
    const theirsAmt = theirs === undefined ? null : exactOfText(theirs.positionAmt);
    const agrees = theirs === undefined ? isZero(ours) : theirsAmt !== null && exactEquals(exactOf(ours), theirsAmt);
    if (unsettled) {
      // Not adopted now, but remembered: the session must not close on its own view of flat before a later read agrees.
      if (!agrees) disagreedUnsettled = true;
      continue;
    }
    if (theirs && (theirsAmt === null || exactOfText(theirs.entryPrice) === null)) {
      ctx.alert(
        userId,
        'reconcile',
        `exchange reported ${symbol} position ${JSON.stringify(theirs.positionAmt)} @ ${JSON.stringify(theirs.entryPrice)}, not decimals; left untouched`,
      );
      continue;
    }
    if (agrees) continue;
    const theirsQty = theirs ? toQty(theirs.positionAmt) : zero;
    ctx.emit({
      type: 'position.adopted',
      userId,
      symbol,
      qty: theirsQty,
      entryPrice: theirs ? toPrice(theirs.entryPrice) : zero,
      reason: `engine had ${ours}`,
      ...(requestedAtMs !== null ? { asOfMs: requestedAtMs } : {}),
    });
    reportAdoption(ctx, ctx.durable.sessions.get(userId) ?? session, symbol, ours, theirsQty);
    requestTrades(ctx, userId, symbol);
    // A position the engine did not see may have been paid funding on meanwhile.
    requestFundingRead(ctx, userId);
  }
  const asOfMs = requestedAtMs ?? ctx.nowMs;
  const disagreedAtMs = ctx.market.reconcileDisagreedAtMs.get(userId);
  if (disagreedUnsettled) ctx.noteReconcileDisagreed(userId, asOfMs);
  else if (disagreedAtMs !== undefined && asOfMs >= disagreedAtMs) ctx.forgetReconcileDisagreed(userId);
}

/** An order of ours changed: a trade list read set aside until its exchange id was known may be asked for again. */
function afterOrderNews(ctx: DecisionContext, clientOrderId: string): void {
  const order = ctx.durable.orders.get(clientOrderId);
  if (order) retryDeferredTradeRead(ctx, order.userId, order.symbol, () => requestTrades(ctx, order.userId, order.symbol));
}

/** The continuation of a beat that left only equity samples due: the same input every time (decide reads, never writes it). */
const equityOnlyBeat: Input = Object.freeze({ kind: 'timer', only: 'equity' });

/** Longest error text kept with a dead-lettered command (the stack stays in the service's log). */
export const maxDecisionErrorChars = 500;

/**
 * The decision for a command whose decide() threw. decide() is pure, so the state is untouched: the command
 * alone is dead-lettered with the error and answered (unless its id was already answered), its user is
 * alerted, and the commands decided with it go on as if it had never arrived.
 */
export function rejectUndecidable(state: EngineState, delivery: CommandDelivery, error: string, nowMs: number, config: CoreConfig): Decision {
  const ctx = new DecisionContext(state, nowMs, config);
  const { commandId, userId, commandType } = senderOf(parseDelivery(delivery, config.maxCommandBytes), delivery);
  const reason = `the engine could not decide this command (${error.slice(0, maxDecisionErrorChars)}); it was set aside and nothing else was affected`;
  ctx.deadLetter({ entryId: delivery.entryId, raw: delivery.raw, reason });
  if (!wasProcessed(state.durable, commandId)) ctx.reject(commandId, userId, commandType, reason);
  if (userId !== null) ctx.alert(userId, 'engine_error', `command ${commandId} was set aside: ${reason}`);
  return { state, wal: [], outbound: ctx.outbound, effects: [], ack: [], deadLetters: ctx.deadLetters, continuation: undefined };
}

/**
 * `scratch`: a decision whose state is thrown away (the simulation's checks): it leaves the starting state's index
 * and schedule where they are. `fullScan`: the timer passes look at every session instead of the scheduled ones.
 */
export interface DecideOptions {
  scratch?: boolean;
  fullScan?: boolean;
  /**
   * Maps made by earlier decisions of the same engine step that nobody has read since (dict.ts): this decision
   * writes them in place instead of copying the sessions and orders once more. The states those decisions
   * returned then show this decision's changes too, so only a caller that keeps none of them passes it.
   */
  owned?: OwnedDicts;
}

export function decide(state: EngineState, input: Input, nowMs: number, config: CoreConfig, options: DecideOptions = {}): Decision {
  const ctx = new DecisionContext(state, nowMs, config, options.scratch !== true, options.fullScan === true, options.owned);
  switch (input.kind) {
    case 'boot':
      onBoot(ctx);
      requestTradesAtBoot(ctx);
      requestFundingReadsAtBoot(ctx);
      break;
    case 'filters':
      ctx.market = copyMarket(ctx.market, { venues: withFilters(ctx.market.venues, input.venue, input.filters) });
      break;
    case 'command':
      onCommand(ctx, input.delivery, input.preflight);
      break;
    case 'tick': {
      // The copy, then its venues: no patch object and Object.assign for every quote.
      const market = copyMarket(ctx.market);
      market.venues = withQuote(ctx.market.venues, input.venue, input.tick, nowMs);
      ctx.market = market;
      checkRiskRules(ctx, { venue: input.venue, symbol: input.tick.symbol });
      break;
    }
    case 'timer':
      if (input.only !== 'equity') {
        checkRiskRules(ctx, null, config.maxSessionVisitsPerBeat);
        maintainOrders(ctx);
        reaskOwedTradeReads(ctx);
      }
      sampleEquity(ctx);
      break;
    case 'resync':
      onResync(ctx, input.userId ?? null);
      break;
    case 'position_news':
      onPositionNews(ctx, input.userId, input.mode, input.positions);
      break;
    case 'feed_started':
      ctx.market = copyMarket(ctx.market, { venues: withFeedStarted(ctx.market.venues, input.venue, input.symbols, nowMs) });
      break;
    case 'rules_unreadable': {
      // The reason the state holds already leaves the market as it was (no copy).
      const venues = withRulesUnreadable(ctx.market.venues, input.venue, input.reason);
      if (venues !== ctx.market.venues) ctx.market = copyMarket(ctx.market, { venues });
      break;
    }
    case 'place_result':
      onPlaceResult(ctx, input.clientOrderId, input.outcome);
      afterOrderNews(ctx, input.clientOrderId);
      break;
    case 'cancel_result':
      onCancelResult(ctx, input.clientOrderId, input.outcome);
      afterOrderNews(ctx, input.clientOrderId);
      break;
    case 'query_result': {
      const before = ctx.durable.orders.get(input.clientOrderId);
      onQueryResult(ctx, input.clientOrderId, input.outcome);
      const after = ctx.durable.orders.get(input.clientOrderId);
      // A fill learnt from a query answer has no commission: its trade is read from the trade list.
      if (before && after && after.filledQty !== before.filledQty) requestTrades(ctx, after.userId, after.symbol);
      else afterOrderNews(ctx, input.clientOrderId);
      break;
    }
    case 'trades_listed':
      onTradesListed(ctx, input.userId, input.symbol, input.trades, input.askedAtMs);
      // A trade booked from the list (a fee, a stranger's trade with its realized PnL) moves equity without a tick,
      // and a flat session gets no ticks: the stop-loss must see it now.
      checkRiskRules(ctx, null);
      break;
    case 'order_update': {
      const order = ctx.durable.orders.get(input.order.clientOrderId);
      if (order) {
        applySnapshot(ctx, order, input.order);
        bookCommission(ctx, ctx.durable.orders.get(order.clientOrderId) ?? order, input.order);
        afterOrderNews(ctx, order.clientOrderId);
      } else if (input.userId !== undefined && input.mode !== undefined && !isOurs(ctx, input.order.clientOrderId)) {
        onExchangeFill(ctx, input.userId, input.mode, input.order);
        checkRiskRules(ctx, null); // the booked loss may breach the stop-loss without a tick
      }
      break;
    }
    case 'funding':
      requestFundingRead(ctx, input.userId);
      break;
    case 'income_listed':
      onIncomeListed(ctx, input.userId, input.incomeType, input.read, input.askedAtMs);
      checkRiskRules(ctx, null); // funding moves equity without a tick: the stop-loss must see it now
      break;
    case 'reconcile':
      onReconcile(ctx, input.userId, input.positions, input.openOrders ?? [], input.requestedAtMs ?? null);
      watchLiquidation(ctx, input.userId, input.positions);
      break;
    case 'trade_origin':
      onTradeOrigin(ctx, input.userId, input.symbol, input.exchangeOrderId, input.clientOrderId, input.realizedPnlUsd);
      break;
    case 'account_rechecked':
      onAccountRechecked(ctx, input.userId, input.problems);
      break;
    case 'stop_placed':
      onStopPlaced(ctx, input.userId, input.symbol, input.clientAlgoId, input.outcome);
      break;
    case 'stops_listed':
      onStopsListed(ctx, input.userId, input.stops, input.askedAtMs);
      break;
    case 'stop_news':
      onStopNews(ctx, input.userId, input.mode, input.update);
      break;
    case 'account_config':
      onAccountConfig(ctx, input.userId, input.mode, input.change);
      break;
  }
  // Every input may have made a session need flattening (or finished one): enforce after each.
  // Market-view inputs (filters, a failed read of them, the feed starting) change no position; ticks re-check the stops' drift later.
  const marketViewOnly = input.kind === 'filters' || input.kind === 'feed_started' || input.kind === 'rules_unreadable';
  if (!marketViewOnly) enforceFlat(ctx);
  const equityOnly = input.kind === 'timer' && input.only === 'equity';
  // An equity sample changes no record the stop pass reads: an equity-only continuation leaves the pass to the next input.
  if (!marketViewOnly && input.kind !== 'tick' && !equityOnly) maintainProtectiveStops(ctx);
  // A pass that visited its bound (risk, equity, stops) left sessions queued: the beat goes on in a later step, after
  // what waits. (Only the stop pass runs between the beat's own passes and here, and it absorbs no other pass's news.)
  // An equity-only part runs no other pass, so leaves none over: it goes on only while samples are due (below).
  if (input.kind === 'timer' && !equityOnly && passes.some((pass) => leftOver(ctx.schedule, pass))) ctx.continues = true;
  const next: EngineState = { durable: ctx.durable, market: ctx.market };
  const schedule = ctx.usedSchedule ?? (ctx.keepsIndex ? scheduleFor(state, true) : null);
  if (schedule && ctx.keepsIndex) handOn(schedule, next, ctx.wal);
  // The continuation in the literal, undefined when none: not spread in (`...(continues ? { continuation } : {})`, a
  // slow copy for every decision), nor set after (a second shape of Decision for every reader of decisions). Samples
  // still due alone (sampleEquity, run by timer beats only) continue as an equity-only beat.
  const continuation = ctx.continues ? input : ctx.equityDue ? equityOnlyBeat : undefined;
  return { state: next, wal: ctx.wal, outbound: ctx.outbound, effects: ctx.effects, ack: ctx.ack, deadLetters: ctx.deadLetters, continuation };
}
