import { commandSchema } from '../contract/commands.js';
import { parseOutboundEvent } from '../contract/outbound.js';
import type { Decision, Input } from '../core/decide.js';
import { decide } from '../core/decide.js';
import type { CoreConfig } from '../core/config.js';
import type { EngineState } from '../core/state.js';
import { stopLossLevelUsd, valueSession } from '../core/mtm.js';
import { add, eq, gt, isZero, neg, sub, toNumber, toQty, toUsd, zero } from '../model/decimal.js';
import type { Usd } from '../model/decimal.js';
import { parseLedgerRecord } from '../contract/ledger.js';
import { sessionIdOf } from '../core/ledger.js';
import { bookedTradeKey } from '../core/events.js';
import { fundingIncomeId } from '../core/funding-income.js';
import { ledgerRecords } from '../log/ledger-pages.js';
import { isTerminal } from '../core/orders.js';
import { indexDifferences } from '../core/state-index.js';
import { nextTimerWorkMs } from '../core/timer-due.js';
import type { OutboundEvent } from '../contract/outbound.js';
import { paperCredentials } from '../engine/accounts.js';
import type { DecisionObserver } from '../engine/engine.js';
import { replayLog } from '../engine/engine.js';
import type { Session } from '../core/state.js';
import type { World } from './world.js';
import { check } from './check.js';
import { killRulesHeld, orderAsSent, stopGuardsItsPosition } from './trading-checks.js';
import { hasBookedKey } from '../core/booked-trade-keys.js';
import { maxIncomeKeptPerAccount } from '../paper-exchange/income-history.js';

// What must hold: after every decision (no id twice, no entry that may not enter, exposure in bounds, and the trading
// rules of trading-checks.ts), and once the run has settled (every command answered once, every exchange order
// planned first, engine and exchange agree on positions and stops, stopped sessions flat, replay equals the live state).

/**
 * Null when a timer beat at `nowMs` decides the same (WAL, outbound, effects) visiting the sessions the schedule
 * names (dirty or due) as visiting every session; else both decisions. Both are scratch decisions: the state's
 * schedule and index stay as they were.
 */
function scheduleMisses(state: EngineState, nowMs: number, config: CoreConfig): string | null {
  const outputs = (fullScan: boolean): string => {
    const d = decide(state, { kind: 'timer' }, nowMs, config, { scratch: true, fullScan });
    return JSON.stringify({ wal: d.wal, outbound: d.outbound, effects: d.effects });
  };
  const scheduled = outputs(false);
  const full = outputs(true);
  return scheduled === full ? null : `scheduled ${scheduled.slice(0, 1500)} but a full scan ${full.slice(0, 1500)}`;
}

/** How far ahead of now a quiet beat is tried when no beat can act until another input (ms): a simulated day. */
const quietBeatHorizonMs = 86_400_000;

/**
 * Null when the beats nextTimerWorkMs says can decide nothing indeed decide nothing: a timer beat now, a second
 * later and just before that time (the backtest asks at a later quote, on the state this decision left) writes no
 * event, outbound event or effect and keeps the state's very records. Scratch decisions: the schedule stays put.
 */
function quietBeatMisses(state: EngineState, nowMs: number, config: CoreConfig): string | null {
  const quietUntilMs = nextTimerWorkMs(state, config);
  for (const atMs of [nowMs, nowMs + 1_000, Math.min(quietUntilMs - 1, nowMs + quietBeatHorizonMs)]) {
    if (atMs < nowMs || atMs >= quietUntilMs) continue;
    const d = decide(state, { kind: 'timer' }, atMs, config, { scratch: true });
    const same = d.state.durable === state.durable && d.state.market === state.market;
    if (d.wal.length > 0 || d.outbound.length > 0 || d.effects.length > 0 || !same)
      return `quiet until ${quietUntilMs}, but a beat at ${atMs} ${same ? '' : 'changed the state and '}decided ${JSON.stringify({ wal: d.wal, outbound: d.outbound, effects: d.effects }).slice(0, 1500)}`;
  }
  return null;
}

/** Everything the WAL planned so far: the final checks hold the exchange's orders and stops against it. */
export interface Planned {
  orderIds: Set<string>;
  stopIds: Set<string>;
  /**
   * What earlier sessions booked under a session id still in use: a user's sessions started in the same millisecond
   * share an id (`user:startedAtMs`), and the ledger sums them together.
   */
  earlierSessionNet: Map<string, Usd>;
  /** Each user's session id and what it had booked as of the last decision. */
  lastSessionNet: Map<string, { id: string; net: Usd }>;
}

export function nothingPlanned(): Planned {
  return { orderIds: new Set(), stopIds: new Set(), earlierSessionNet: new Map(), lastSessionNet: new Map() };
}

/** Slack on the exposure bound for price moves between a plan and the quote it is valued at (factor). */
const exposureTolerance = 1.05;

/** The per-decision checks; they also count orders, fills and kill switches for the run's stats. */
export function decisionChecks(world: World, planned: Planned): DecisionObserver {
  const { stats, config } = world;
  // Users whose account the exchange liquidated or ADL-closed: no entry for them until a new session starts. Kept as
  // the start time of the session that was closed: a start this observer never saw (a worker that died after its
  // write landed, before it adopted the step: cluster.ts death_in_write) still shows as a session started later.
  const forcedClosed = new Map<string, number>();
  return (input: Input, d: Decision): void => {
    // The derived indexes the fold keeps (who holds what, open orders, who must be flattened) equal a full scan.
    const differences = indexDifferences(d.state.durable);
    check(differences.length === 0, `state index disagrees with a full scan: ${differences.join('; ')}`);
    // No missed wake-up: a timer beat now, visiting only the scheduled sessions, decides exactly what a full scan would.
    const missed = scheduleMisses(d.state, world.clock.nowMs(), config);
    check(missed === null, `the schedule missed a wake-up: ${missed}`);
    // No beat skipped that would have acted: what timer-due.ts calls quiet decides nothing (the backtest skips those).
    const quietMiss = quietBeatMisses(d.state, world.clock.nowMs(), config);
    check(quietMiss === null, `a beat called quiet acts: ${quietMiss}`);
    // A whole beat (not an equity-only part, not one that left sessions for a later step) leaves no session trading
    // past its horizon or on a silent feed.
    if (input.kind === 'timer' && input.only === undefined && d.continuation === undefined) killRulesHeld(d, world.clock.nowMs(), config);
    for (const e of d.wal) {
      const last = e.type === 'session.started' ? planned.lastSessionNet.get(e.userId) : undefined;
      if (e.type === 'session.started' && last?.id === sessionIdOf({ userId: e.userId, startedAtMs: e.atMs }))
        planned.earlierSessionNet.set(last.id, add(planned.earlierSessionNet.get(last.id) ?? zero, last.net));
    }
    for (const s of d.state.durable.sessions.values()) planned.lastSessionNet.set(s.userId, { id: sessionIdOf(s), net: bookedNet(s) });
    for (const e of d.wal) {
      if (e.type === 'exchange_fill' && (e.cause === 'liquidation' || e.cause === 'adl'))
        forcedClosed.set(e.userId, d.state.durable.sessions.get(e.userId)?.startedAtMs ?? Number.NEGATIVE_INFINITY);
      if (e.type === 'session.started') forcedClosed.delete(e.userId);
      if (e.type === 'order.planned' && !e.order.reduceOnly) {
        const closedStartedAtMs = forcedClosed.get(e.order.userId);
        const startedAtMs = d.state.durable.sessions.get(e.order.userId)?.startedAtMs;
        check(
          closedStartedAtMs === undefined || (startedAtMs !== undefined && startedAtMs > closedStartedAtMs),
          `entry ${e.order.clientOrderId} planned after a ${e.order.userId} liquidation without a new start`,
        );
      }
      if (e.type === 'fill') stats.fills += 1;
      if (e.type === 'kill_switch.engaged') stats.kills += 1;
      if (e.type === 'stop.planned') {
        check(!planned.stopIds.has(e.clientAlgoId), `protective stop id planned twice: ${e.clientAlgoId}`);
        planned.stopIds.add(e.clientAlgoId);
        stopGuardsItsPosition(d, e);
      }
      if (e.type !== 'order.planned') continue;
      stats.orders += 1;
      check(!planned.orderIds.has(e.order.clientOrderId), `client order id planned twice: ${e.order.clientOrderId}`);
      planned.orderIds.add(e.order.clientOrderId);
      orderAsSent(d, e.order, config);
      if (e.order.reduceOnly) continue;
      const session = d.state.durable.sessions.get(e.order.userId);
      check(
        session?.status === 'active' && !session.killSwitch.engaged && !session.paused && !d.state.durable.halted,
        `entry ${e.order.clientOrderId} planned for a session that may not enter`,
      );
      if (!session) continue;
      // Exposure: every open entry plus every position, at the touch, within capital × leverage.
      let gross = 0;
      for (const [s, p] of Object.entries(session.positions))
        gross += Math.abs(toNumber(p.qty)) * (d.state.market.venues.paper.quotes[s]?.ask ?? toNumber(p.entryPrice));
      for (const o of d.state.durable.orders.values()) {
        if (o.userId === session.userId && o.purpose === 'entry' && !isTerminal(o))
          gross += (Number(o.quantity) - Number(o.filledQty)) * (d.state.market.venues.paper.quotes[o.symbol]?.ask ?? 0);
      }
      const detail = (): string =>
        JSON.stringify({
          positions: session.positions,
          entries: d.state.durable.orders
            .values()
            .filter((o) => o.userId === session.userId && o.purpose === 'entry' && !isTerminal(o))
            .map((o) => [o.symbol, o.side, o.quantity, o.filledQty, o.price, o.fallbackOf]),
          asks: Object.fromEntries(Object.entries(d.state.market.venues.paper.quotes).map(([k, q]) => [k, q.ask])),
        });
      check(
        gross <= toNumber(session.capitalUsd) * config.maxLeverage * exposureTolerance,
        `exposure ${gross.toFixed(2)} above ${toNumber(session.capitalUsd) * config.maxLeverage} for ${session.userId}: ${detail()}`,
      );
    }
  };
}

/** The checks once the run has settled; counts the valid commands for the run's stats. */
export async function settledChecks(world: World, planned: Planned): Promise<void> {
  await everyCommandAnsweredOnce(world);
  everyExchangeOrderPlanned(world, planned);
  stopsMatch(world);
  positionsMatch(world);
  moneyMatchesExchange(world);
  await ledgerMatchesSessions(world, planned);
  // What the log rebuilds is what the engine holds.
  const replayed = await replayLog(world.log, world.config);
  // Compared by content: a field a fold adds to a session lands last in the live object, while a snapshot read back
  // lists its fields in the schema's order.
  check(canonicalJson(replayed.durable) === canonicalJson(world.engine.current.durable), 'replayed state differs from the live state');
}

/** JSON with every object's keys sorted, so two values equal field by field print the same. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Every valid command answered exactly once with a final reply; everything consumed and acked. */
async function everyCommandAnsweredOnce(world: World): Promise<void> {
  // Everything the engine publishes must read back through the contract.
  const outbound = (await world.log.tailOutbound('0', 1_000_000, 0)).map((r): OutboundEvent => {
    const parsed = parseOutboundEvent(r.data);
    check(parsed.ok, `outbound entry ${r.id} does not match the contract: ${parsed.ok ? '' : parsed.reason}`);
    return (parsed as { ok: true; event: OutboundEvent }).event;
  });
  const finals = new Map<string, number>();
  for (const e of outbound) if (e.type === 'reply' && e.status !== 'accepted') finals.set(e.commandId, (finals.get(e.commandId) ?? 0) + 1);
  const validIds = new Set<string>();
  for (const raw of world.appended) {
    try {
      const parsed = commandSchema.safeParse(JSON.parse(raw));
      if (parsed.success) validIds.add(parsed.data.id);
    } catch {
      // not JSON: dead-lettered, checked below
    }
  }
  world.stats.commands = validIds.size;
  for (const id of validIds) check(finals.get(id) === 1, `command ${id} has ${finals.get(id) ?? 0} final replies`);
  check((await world.log.pendingCommandCount()) === 0, 'commands left unacknowledged');
}

/** Client ids of orders the exchange places itself: triggered stops, liquidations, ADL closes, the sim's manual trades. */
const exchangesOwnIdPrefixes = ['algo-', 'autoclose-', 'adl_autoclose', 'manual-'];

/**
 * No order reached the exchange that the WAL did not plan first, and none twice. Orders fired by protective
 * stops carry the exchange's own ids (algo-…); their stops must have been planned.
 */
function everyExchangeOrderPlanned(world: World, planned: Planned): void {
  const { exchange } = world;
  const exchangeIds = exchange.matching
    .allOrders()
    .map((o) => o.clientOrderId)
    .filter((id) => !exchangesOwnIdPrefixes.some((prefix) => id.startsWith(prefix)));
  check(new Set(exchangeIds).size === exchangeIds.length, 'a client order id executed twice');
  for (const id of exchangeIds) check(planned.orderIds.has(id), `order ${id} on the exchange was never planned`);
  for (const stop of exchange.algo.all()) check(planned.stopIds.has(stop.clientAlgoId), `protective stop ${stop.clientAlgoId} was never planned`);
}

/**
 * Every session that still needs protection has exactly its stops resting on the exchange. (A closed
 * session's stop whose cancel died in a crash may linger: with no position it can only expire.)
 */
function stopsMatch(world: World): void {
  for (const session of world.engine.current.durable.sessions.values().filter((s) => s.status !== 'closed')) {
    const open = world.exchange.algo
      .open(paperCredentials(session.userId).apiKey)
      .map((o) => o.clientAlgoId)
      .sort();
    const tracked = Object.values(session.protectiveStops)
      .map((s) => s.clientAlgoId)
      .sort();
    check(JSON.stringify(open) === JSON.stringify(tracked), `${session.userId}: stops on the exchange ${open.join(',')} vs engine ${tracked.join(',')}`);
  }
}

function bookedNet(s: Session): Usd {
  return add(sub(s.realizedPnlUsd, s.feesUsd), s.fundingUsd);
}

/** The fill ledger (never trimmed by snapshots) explains every dollar: per session, its sum is realized − fees + funding. */
async function ledgerMatchesSessions(world: World, planned: Planned): Promise<void> {
  const net = new Map<string, Usd>();
  for await (const r of ledgerRecords(world.log, {})) {
    const parsed = parseLedgerRecord(r.id, r.walId, r.data);
    check(parsed.ok, parsed.ok ? '' : parsed.reason);
    if (parsed.ok) net.set(parsed.entry.sessionId, add(net.get(parsed.entry.sessionId) ?? zero, parsed.entry.netUsd));
  }
  for (const s of world.engine.current.durable.sessions.values()) {
    const booked = add(planned.earlierSessionNet.get(sessionIdOf(s)) ?? zero, bookedNet(s));
    const ledger = net.get(sessionIdOf(s)) ?? zero;
    check(eq(ledger, booked), `${s.userId}: the ledger sums to ${ledger}, the session booked ${booked}`);
  }
}

/** Engine positions equal exchange positions; stopped sessions are flat; no breached stop-loss left standing. */
function positionsMatch(world: World): void {
  const durable = world.engine.current.durable;
  for (const session of durable.sessions.values()) {
    const key = paperCredentials(session.userId).apiKey;
    for (const symbol of world.symbols) {
      const ours = session.positions[symbol]?.qty ?? zero;
      const theirs = toQty(world.exchange.positionAmt(key, symbol));
      check(eq(ours, theirs), `${session.userId} ${symbol}: engine ${ours} vs exchange ${theirs}`);
      if (session.killSwitch.engaged || session.status === 'closed' || durable.halted)
        check(isZero(theirs), `${session.userId} must be flat (${session.killSwitch.reason ?? session.status}) but holds ${theirs} ${symbol}`);
    }
    if (session.status !== 'closed' && !session.killSwitch.engaged && session.stopLossPct !== null) {
      const { equityUsd } = valueSession(session, world.engine.current.market);
      check(gt(equityUsd, stopLossLevelUsd(session.capitalUsd, session.stopLossPct)), `${session.userId} breached its stop-loss without a flatten`);
    }
  }
}

/**
 * Every dollar the exchange charged or paid a session's account since the session started is booked to it
 * exactly once, through lost, duplicate and reordered deliveries, crashes and replays: commissions (the income
 * history's COMMISSION, negative) as fees, funding (FUNDING_FEE) as funding. A lost push of our own order's trade
 * is no exception, nor one of an order the engine did not place (the trade list covers both), nor a lost funding
 * push (the income history covers it): no session is exempt.
 */
function moneyMatchesExchange(world: World): void {
  for (const session of world.engine.current.durable.sessions.values()) {
    const { fees, funding } = exchangeMoneyOf(world, session);
    check(eq(session.feesUsd, fees), `${session.userId}: fees booked ${session.feesUsd} vs charged by the exchange ${fees}`);
    check(eq(session.fundingUsd, funding), `${session.userId}: funding booked ${session.fundingUsd} vs paid by the exchange ${funding}`);
  }
}

/** The commissions (as fees, positive) and funding the exchange charged or paid the session's account since it started. */
export function exchangeMoneyOf(world: World, session: Session): { fees: Usd; funding: Usd } {
  // A record in the very millisecond the session started may be the previous session's last (its closing trade,
  // then a start in the same simulated ms): it is this session's only if this session booked it.
  const bookedHere = (r: { incomeType: string; symbol: string; tradeId: string; tranId: number }): boolean =>
    r.incomeType === 'FUNDING_FEE'
      ? session.fundingIds.includes(fundingIncomeId(String(r.tranId)))
      : hasBookedKey(session.bookedTradeIds, bookedTradeKey(r.symbol, r.tradeId));
  const history = world.exchange.matching.account(paperCredentials(session.userId).apiKey).income;
  // The exchange keeps a bounded history (income-history.ts): summed from a trimmed one, the check would be wrong.
  const oldestKept = history[0];
  check(
    history.length < maxIncomeKeptPerAccount || (oldestKept !== undefined && oldestKept.time < session.startedAtMs),
    `${session.userId}: the exchange's income history no longer reaches back to the session's start (more than ${maxIncomeKeptPerAccount} records): its money cannot be checked`,
  );
  const income = history.filter((r) => r.time > session.startedAtMs || (r.time === session.startedAtMs && bookedHere(r)));
  const total = (type: string): Usd => income.filter((r) => r.incomeType === type).reduce<Usd>((sum, r) => add(sum, toUsd(r.income)), zero);
  return { fees: neg(total('COMMISSION')), funding: total('FUNDING_FEE') };
}
