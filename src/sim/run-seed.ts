import type { CoreConfig } from '../core/config.js';
import { defaultCoreConfig } from '../core/config.js';
import type { Decision, Input } from '../core/decide.js';
import { commandSchema } from '../core/commands.js';
import { stopLossLevelUsd, valueSession } from '../core/mtm.js';
import { eq, gt, isZero, toNumber, toQty, zero } from '../model/decimal.js';
import { isTerminal } from '../core/orders.js';
import type { Effect, OutboundEvent } from '../core/outputs.js';
import { emptyMarketState } from '../core/state.js';
import type { ExchangeAccount } from '../exchange/port.js';
import type { MemoryLog } from '../log/memory-log.js';
import { openMemoryLog } from '../log/memory-log.js';
import { paperCredentials } from '../services/execution/accounts.js';
import { ManualClock } from '../services/execution/clock.js';
import { Engine, replayLog } from '../services/execution/engine.js';
import { performEffect } from '../services/execution/perform-effect.js';
import { createPrng } from '../simulator/price-process.js';
import { silentLogger } from '../util/logger.js';
import { SimExchange } from './sim-exchange.js';

// One deterministic simulation run: the real core and engine shell, the in-memory log and the in-process
// exchange, all driven by one seeded PRNG and a simulated clock. Faults — crashes between any two steps,
// duplicate and reordered deliveries, lost answers, refusals, price gaps, a silent feed — are chosen by the
// seed, and partial fills are delivered as such; invariants are checked after every decision and once
// everything has settled. Same seed, same run.

export interface SeedResult {
  seed: number;
  ok: boolean;
  error?: string;
  trace: string[];
  stats: { steps: number; crashes: number; orders: number; fills: number; kills: number; commands: number };
}

const users = ['u1', 'u2', 'u3', 'u4'];
const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];

class InvariantViolation extends Error {}

function check(condition: boolean, message: string): void {
  if (!condition) throw new InvariantViolation(message);
}

export async function runSeed(seed: number, steps = 300): Promise<SeedResult> {
  const random = createPrng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const chance = (p: number): boolean => random() < p;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const config: CoreConfig = { ...defaultCoreConfig, symbols };
  const exchange = new SimExchange(random, () => clock.nowMs(), { timeoutAfterAccept: 0.05, lostBeforeExecution: 0.05, refused: 0.03, postOnlyRefused: 0.2 });
  const log: MemoryLog = openMemoryLog({ nowMs: () => clock.nowMs(), limits: { reclaimIdleMs: 5_000 } });
  const trace: string[] = [];
  const stats = { steps: 0, crashes: 0, orders: 0, fills: 0, kills: 0, commands: 0 };
  const plannedIds = new Set<string>();
  const plannedStopIds = new Set<string>();
  const appended: string[] = [];
  let pendingEffects: Effect[] = [];
  let pendingInputs: Input[] = [];
  let feedSilentUntilMs = 0;
  const accounts = new Map<string, ExchangeAccount>();
  const accountOf = (userId: string): ExchangeAccount => {
    let account = accounts.get(userId);
    if (!account) {
      account = exchange.account(paperCredentials(userId).apiKey);
      void account.subscribeOrderUpdates((order) => {
        // Partial fills as the engine sees them: sometimes a fill arrives first as a partial execution
        // (cumulative quantity and average price), then the rest; deliveries may also come out of order.
        const executed = Number(order.executedQty);
        if (order.status === 'FILLED' && executed > 0 && chance(0.3)) {
          const part = (Math.floor((executed / 2) * 1000) / 1000).toFixed(3);
          if (Number(part) > 0) pendingInputs.push({ kind: 'order_update', order: { ...order, status: 'PARTIALLY_FILLED', executedQty: part } });
        }
        pendingInputs.push({ kind: 'order_update', order });
      });
      accounts.set(userId, account);
    }
    return account;
  };
  for (const u of users) accountOf(u);

  const observe = (_input: Input, d: Decision): void => {
    for (const e of d.wal) {
      if (e.type === 'fill') stats.fills += 1;
      if (e.type === 'kill_switch.engaged') stats.kills += 1;
      if (e.type === 'stop.planned') {
        check(!plannedStopIds.has(e.clientAlgoId), `protective stop id planned twice: ${e.clientAlgoId}`);
        plannedStopIds.add(e.clientAlgoId);
      }
      if (e.type !== 'order.planned') continue;
      stats.orders += 1;
      check(!plannedIds.has(e.order.clientOrderId), `client order id planned twice: ${e.order.clientOrderId}`);
      plannedIds.add(e.order.clientOrderId);
      if (e.order.reduceOnly) continue;
      const session = d.state.durable.sessions[e.order.userId];
      check(session?.status === 'active' && !session.killSwitch.engaged && !session.paused && !d.state.durable.halted, `entry ${e.order.clientOrderId} planned for a session that may not enter`);
      if (!session) continue;
      // Exposure: every open entry plus every position, at the touch, within capital × leverage.
      let gross = 0;
      for (const [s, p] of Object.entries(session.positions)) gross += Math.abs(toNumber(p.qty)) * (d.state.market.quotes[s]?.ask ?? toNumber(p.entryPrice));
      for (const o of Object.values(d.state.durable.orders)) {
        if (o.userId === session.userId && o.purpose === 'entry' && !isTerminal(o)) gross += (Number(o.quantity) - Number(o.filledQty)) * (d.state.market.quotes[o.symbol]?.ask ?? 0);
      }
      const detail = (): string =>
        JSON.stringify({ positions: session.positions, entries: Object.values(d.state.durable.orders).filter((o) => o.userId === session.userId && o.purpose === 'entry' && !isTerminal(o)).map((o) => [o.symbol, o.side, o.quantity, o.filledQty, o.price, o.fallbackOf]), asks: Object.fromEntries(Object.entries(d.state.market.quotes).map(([k, q]) => [k, q.ask])) });
      check(gross <= toNumber(session.capitalUsd) * config.maxLeverage * 1.05, `exposure ${gross.toFixed(2)} above ${toNumber(session.capitalUsd) * config.maxLeverage} for ${session.userId}: ${detail()}`);
    }
  };

  let engine!: Engine;
  const boot = async (): Promise<void> => {
    const replay = await replayLog(log, config);
    engine = new Engine(
      { durable: replay.durable, market: emptyMarketState(clock.nowMs(), exchange.filters()) },
      replay.lastWalId,
      log,
      clock,
      config,
      (d) => pendingEffects.push(...d.effects),
      (error) => {
        throw error;
      },
      silentLogger(),
      { snapshotEveryWalEvents: 150, replayBatchEntries: 500 },
    );
    engine.observe(observe);
    await engine.submit({ kind: 'boot' });
    for (const order of Object.values(engine.current.durable.orders).filter((o) => !isTerminal(o))) {
      await engine.submit({ kind: 'query_result', clientOrderId: order.clientOrderId, outcome: await accountOf(order.userId).queryOrder(order.symbol, order.clientOrderId) });
    }
    for (const session of Object.values(engine.current.durable.sessions)) {
      if (session.status === 'closed') continue;
      const account = accountOf(session.userId);
      await engine.submit({ kind: 'stops_listed', userId: session.userId, stops: await account.listProtectiveStops() });
      await engine.submit({ kind: 'reconcile', userId: session.userId, positions: await account.getPositions(), openOrders: await account.getOpenOrders() });
    }
  };

  const perform = async (effect: Effect): Promise<void> => {
    const input = await performEffect(accountOf(effect.userId), effect);
    if (input) pendingInputs.push(input);
  };

  const ticks = async (): Promise<void> => {
    for (const symbol of symbols) {
      exchange.step(symbol);
      const top = exchange.markets.get(symbol)?.top;
      const rules = exchange.rules.get(symbol);
      if (!top || !rules || clock.nowMs() < feedSilentUntilMs) continue;
      const scale = 10 ** rules.priceScale;
      await engine.submit({ kind: 'tick', tick: { symbol, bid: Number(top.bidUnits) / scale, ask: Number(top.askUnits) / scale, time: clock.nowMs() } });
    }
  };

  const consume = async (): Promise<number> => {
    const deliveries = [...(await log.reclaimStaleCommands('sim', 20)), ...(await log.readCommands('sim', 1 + Math.floor(random() * 10), 0))];
    await engine.submitBatch(deliveries.map((delivery): Input => ({ kind: 'command', delivery })));
    return deliveries.length;
  };

  const randomCommand = (n: number): string => {
    const user = pick(users);
    const id = `s${seed}-c${n}`;
    const roll = random();
    if (roll < 0.15) return JSON.stringify({ id, userId: user, type: 'session.start', mode: 'paper', capitalUsd: pick([2_000, 10_000, 50_000]), stopLossPct: pick([1, 3, 10]), ...(chance(0.3) ? { horizonHours: pick([0.01, 0.02, 1]) } : {}) });
    if (roll < 0.55) return JSON.stringify({ id, userId: 'signals', type: 'signals.route', signals: [{ symbol: pick(symbols), weight: Math.round((random() * 2 - 1) * 100) / 100 }, ...(chance(0.3) ? [{ symbol: pick(symbols), weight: Math.round((random() * 2 - 1) * 100) / 100 }] : [])] });
    if (roll < 0.62) return JSON.stringify({ id, userId: user, type: 'session.stop' });
    if (roll < 0.68) return JSON.stringify({ id, userId: user, type: 'session.set_stoploss', pct: pick([0.5, 2, 20]) });
    if (roll < 0.72) return JSON.stringify({ id, userId: user, type: pick(['session.pause', 'session.resume', 'status']) });
    if (roll < 0.75) return JSON.stringify({ id, userId: 'operator', type: pick(['admin.halt_all', 'admin.resume_all', 'admin.resume_all']) });
    if (roll < 0.8) return pick(['{"id":"junk"', JSON.stringify({ id, userId: user, type: 'session.set_stoploss', pct: 'abc' }), '']);
    return appended.length > 0 ? pick(appended) : JSON.stringify({ id, userId: user, type: 'status' }); // duplicate delivery
  };

  const step = async (n: number): Promise<void> => {
    const roll = random();
    if (roll < 0.2) {
      const raw = randomCommand(n);
      appended.push(raw);
      await log.appendCommand(raw);
      trace.push(`${n} append ${raw.slice(0, 160)}`);
    } else if (roll < 0.35) {
      await consume();
      trace.push(`${n} consume`);
    } else if (roll < 0.5) {
      await ticks();
      trace.push(`${n} ticks`);
    } else if (roll < 0.6) {
      clock.advance(Math.floor(random() * 4_000));
      await engine.submit({ kind: 'timer' });
      trace.push(`${n} timer @${clock.nowMs()}`);
    } else if (roll < 0.78) {
      const effect = pendingEffects.splice(Math.floor(random() * pendingEffects.length), 1)[0];
      if (effect) await perform(effect);
      trace.push(`${n} perform ${effect ? JSON.stringify(effect).slice(0, 160) : '-'}`);
    } else if (roll < 0.94) {
      const i = Math.floor(random() * pendingInputs.length);
      const input = pendingInputs[i];
      // Sometimes delivered twice (a duplicate push), always possibly out of order.
      if (input && !chance(0.2)) pendingInputs.splice(i, 1);
      if (input) await engine.submit(input);
      trace.push(`${n} deliver ${input ? JSON.stringify(input).slice(0, 160) : '-'}`);
    } else if (roll < 0.96) {
      const symbol = pick(symbols);
      const factor = pick([0.8, 1.2, 0.97, 1.03]);
      exchange.gap(symbol, factor);
      trace.push(`${n} gap ${symbol} x${factor}`);
    } else if (roll < 0.975) {
      feedSilentUntilMs = clock.nowMs() + 45_000;
      trace.push(`${n} feed silent until ${feedSilentUntilMs}`);
    } else {
      // Crash between two steps: in-flight effects and undelivered answers die with the process.
      stats.crashes += 1;
      pendingEffects = [];
      pendingInputs = [];
      trace.push(`${n} CRASH`);
      await boot();
    }
  };

  const settle = async (): Promise<void> => {
    exchange.faults = { timeoutAfterAccept: 0, lostBeforeExecution: 0, refused: 0, postOnlyRefused: 0 };
    feedSilentUntilMs = 0;
    for (let round = 0; round < 300; round += 1) {
      const consumed = await consume();
      while (pendingEffects.length > 0 || pendingInputs.length > 0) {
        for (const effect of pendingEffects.splice(0)) await perform(effect);
        for (const input of pendingInputs.splice(0)) await engine.submit(input);
      }
      const durable = engine.current.durable;
      const busy =
        consumed > 0 ||
        (await log.pendingCommandCount()) > 0 ||
        Object.values(durable.orders).some((o) => !isTerminal(o)) ||
        Object.values(durable.sessions).some((s) => s.status === 'stopping' || ((s.killSwitch.engaged || durable.halted) && Object.values(s.positions).some((p) => !isZero(p.qty)))) ||
        // Stops and positions converge through the periodic stop check (orphans swept, fired stops learnt).
        Object.values(durable.sessions).some(
          (s) =>
            s.status !== 'closed' &&
            JSON.stringify(exchange.algo.open(paperCredentials(s.userId).apiKey).map((o) => o.clientAlgoId).sort()) !==
              JSON.stringify(Object.values(s.protectiveStops).map((p) => p.clientAlgoId).sort()),
        ) ||
        // A protective stop that fired on the exchange is learnt at the next stop check: wait for it.
        Object.values(durable.sessions).some((s) => symbols.some((sym) => !eq(s.positions[sym]?.qty ?? zero, toQty(exchange.positionAmt(paperCredentials(s.userId).apiKey, sym)))));
      if (!busy && round > 2) return;
      clock.advance(1_000);
      await ticks();
      await engine.submit({ kind: 'timer' });
    }
    const durable = engine.current.durable;
    const open = Object.values(durable.orders).filter((o) => !isTerminal(o)).map((o) => `${o.clientOrderId}:${o.status}:${o.purpose}:${o.symbol}`);
    const sessions = Object.values(durable.sessions).map((s) => `${s.userId}:${s.status}:${s.killSwitch.reason}:${JSON.stringify(s.positions)}`);
    throw new InvariantViolation(`did not settle within 300 simulated seconds; open orders ${open.join(' ')}; halted ${durable.halted}; sessions ${sessions.join(' ')}`);
  };

  try {
    await boot();
    await ticks();
    for (let n = 0; n < steps; n += 1) {
      stats.steps += 1;
      await step(n);
    }
    trace.push('settle');
    await settle();

    // Every valid command answered exactly once with a final reply; everything consumed and acked.
    const outbound = (await log.tailOutbound('0', 1_000_000, 0)).map((r) => JSON.parse(r.data) as OutboundEvent);
    const finals = new Map<string, number>();
    for (const e of outbound) if (e.type === 'reply' && e.status !== 'accepted') finals.set(e.commandId, (finals.get(e.commandId) ?? 0) + 1);
    const validIds = new Set<string>();
    for (const raw of appended) {
      try {
        const parsed = commandSchema.safeParse(JSON.parse(raw));
        if (parsed.success) validIds.add(parsed.data.id);
      } catch {
        // not JSON: dead-lettered, checked below
      }
    }
    stats.commands = validIds.size;
    for (const id of validIds) check(finals.get(id) === 1, `command ${id} has ${finals.get(id) ?? 0} final replies`);
    check((await log.pendingCommandCount()) === 0, 'commands left unacknowledged');

    // No order reached the exchange that the WAL did not plan first, and none twice.
    // Orders fired by protective stops carry the exchange's own ids (algo-…); their stops must be planned.
    const exchangeIds = exchange.matching.allOrders().map((o) => o.clientOrderId).filter((id) => !id.startsWith('algo-'));
    check(new Set(exchangeIds).size === exchangeIds.length, 'a client order id executed twice');
    for (const id of exchangeIds) check(plannedIds.has(id), `order ${id} on the exchange was never planned`);
    for (const stop of exchange.algo.all()) check(plannedStopIds.has(stop.clientAlgoId), `protective stop ${stop.clientAlgoId} was never planned`);
    // Every session that still needs protection has exactly its stops resting on the exchange.
    // (A closed session's stop whose cancel died in a crash may linger: with no position it can only expire.)
    for (const session of Object.values(engine.current.durable.sessions).filter((s) => s.status !== 'closed')) {
      const open = exchange.algo.open(paperCredentials(session.userId).apiKey).map((o) => o.clientAlgoId).sort();
      const tracked = Object.values(session.protectiveStops).map((s) => s.clientAlgoId).sort();
      check(JSON.stringify(open) === JSON.stringify(tracked), `${session.userId}: stops on the exchange ${open.join(',')} vs engine ${tracked.join(',')}`);
    }

    const durable = engine.current.durable;
    for (const session of Object.values(durable.sessions)) {
      const key = paperCredentials(session.userId).apiKey;
      for (const symbol of symbols) {
        const ours = session.positions[symbol]?.qty ?? zero;
        const theirs = toQty(exchange.positionAmt(key, symbol));
        check(eq(ours, theirs), `${session.userId} ${symbol}: engine ${ours} vs exchange ${theirs}`);
        if (session.killSwitch.engaged || session.status === 'closed' || durable.halted) check(isZero(theirs), `${session.userId} must be flat (${session.killSwitch.reason ?? session.status}) but holds ${theirs} ${symbol}`);
      }
      if (session.status !== 'closed' && !session.killSwitch.engaged && session.stopLossPct !== null) {
        const { equityUsd } = valueSession(session, engine.current.market);
        check(gt(equityUsd, stopLossLevelUsd(session.capitalUsd, session.stopLossPct)), `${session.userId} breached its stop-loss without a flatten`);
      }
    }
    // What the log rebuilds is what the engine holds.
    const replayed = await replayLog(log, config);
    check(JSON.stringify(replayed.durable) === JSON.stringify(durable), 'replayed state differs from the live state');
    return { seed, ok: true, trace, stats };
  } catch (error) {
    return { seed, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), trace, stats };
  }
}
