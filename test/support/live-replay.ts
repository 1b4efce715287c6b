import { buildCommand } from '../../src/contract/commands.js';
import type { CommandType } from '../../src/contract/commands.js';
import type { LedgerView } from '../../src/contract/ledger.js';
import { parseOutboundEvent } from '../../src/contract/outbound.js';
import type { CoreConfig } from '../../src/core/config.js';
import { StrategyBars } from '../../src/strategies/bars.js';
import { maxCloseSeconds, readUserLedger, timerEveryMs, unchangedTouchRefreshMs } from '../../src/backtest/run-backtest.js';
import type { FundingTime, Quote, TickGrid } from '../../src/backtest/data/quotes.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { ManualClock } from '../../src/engine/clock.js';
import { defaultExecutorLimits } from '../../src/engine/effect-executor.js';
import type { EngineLog } from '../../src/log/port.js';
import { formatUnits } from '../../src/model/decimal.js';
import type { SimOrderRecord, SimTradeRecord } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import type { Strategy } from '../../src/strategies/strategy.js';
import type { Harness } from './harness.js';
import { startHarness } from './harness.js';
import { RequestLatency } from './request-latency.js';
import { waitFor } from './wait.js';

// The live path driven in lockstep by recorded quotes, as run-backtest.ts drives the backtest's venue: the simulator
// server's touch is set to each quote (setTouch, the walk paused, the tape off as in the backtest), the execution
// service on Redis runs on a manual clock set to the quote's time, and after every step the driver waits until the
// engine is quiet (quiet() below) before the next. The strategy sees the same bars and is asked at the same bar
// closes as in runBacktest; its targets go to the engine as signals.route commands on the command stream.
//
// The loop keeps run-backtest.ts's rules, so both paths hand the engine the same inputs in the same order:
// a quote that moves neither price goes to the engine only once unchangedTouchRefreshMs passed since the last one
// sent; a watchdog beat at most every timerEveryMs of quote time; a bar closes at the first quote of the next period
// and the strategy is asked before the first quote of a later instant; at the end the session is stopped and the
// clock moves a second (with a beat) at a time until it is closed. With a latency (request-latency.ts) every exchange
// request waits for its due time on the clock, and those due by a quote's time are released, one at a time and each
// settled, before its touch is set, as the venue's advanceTo performs due effects.

/** Concurrent requests per lane: more than a decision makes, so none waits in a lane (its latency runs from its decision). */
const wideLanes = 1_000;
/** Condition polls while waiting for the engine to be quiet (ms): how often the probe looks, not a wait for time to pass. */
const quietPollMs = 2;
/** Longest wait for the engine to be quiet (ms): a safety net against a hung run, not a statement about speed. */
const quietTimeoutMs = 10_000;
/** Outbound entries read per page while following replies. */
const outboundPageEntries = 1_000;
/** Exchange order statuses that end an order. */
const endedStatuses = new Set(['FILLED', 'CANCELED', 'EXPIRED', 'EXPIRED_IN_MATCH', 'REJECTED']);

export interface LiveReplayOptions {
  label: string;
  /** The quotes, in time order (the backtest's loaders read them). */
  quotes: readonly Quote[];
  /** The archive's funding times over the quotes, in time order (run-backtest.ts pays them as they come). */
  funding?: readonly FundingTime[];
  grids: ReadonlyMap<string, TickGrid>;
  strategy: Strategy;
  barMs: number;
  capitalUsd: number;
  /** The engine's configuration: the backtest's (run-backtest.ts builds it from the run's symbols). */
  config: CoreConfig;
  userId: string;
  /** The session's stop-loss (session.start stopLossPct), as the backtest's option. */
  stopLossPct?: number;
  /** The backtest's latencyMs: every exchange request is held this long on the manual clock (request-latency.ts). */
  latencyMs?: number;
  /** Changes a quote before it reaches the simulator (a test perturbs the live side with it). */
  perturb?: (q: Quote, index: number) => Quote;
}

export interface LiveReplayResult {
  /** The account's orders; receivedAt is the engine's clock at the step the order reached the exchange. */
  orders: SimOrderRecord[];
  /** The account's trades; timeMs is the engine's clock at the step the trade happened. */
  trades: SimTradeRecord[];
  ledger: LedgerView[];
  /** signals.route commands sent (each the strategy's targets at a bar close). */
  routes: number;
}

/** Follows the outbound stream from where it was last read: the first reply to each command (it was decided). */
class ReplyFollower {
  private after = '0';
  private readonly replied = new Map<string, string>();

  constructor(private readonly log: EngineLog) {}

  async first(commandId: string): Promise<string> {
    return waitFor(
      `a reply to ${commandId}`,
      async () => {
        for (let batch = await this.read(); batch > 0; batch = await this.read());
        return this.replied.get(commandId);
      },
      20_000,
      quietPollMs,
    );
  }

  private async read(): Promise<number> {
    const records = await this.log.tailOutbound(this.after, outboundPageEntries, 1);
    for (const record of records) {
      const parsed = parseOutboundEvent(record.data);
      if (!parsed.ok) throw new Error(`outbound entry ${record.id} does not match the contract: ${parsed.reason}`);
      const e = parsed.event;
      if (e.type === 'reply' && !this.replied.has(e.commandId)) this.replied.set(e.commandId, e.status);
      this.after = record.id;
    }
    return records.length;
  }
}

export async function replayLive(opts: LiveReplayOptions): Promise<LiveReplayResult> {
  const first = opts.quotes[0];
  if (!first) throw new Error('no quotes');
  // The random tape off, as the backtest's venue has it: a resting order fills only when a quote trades through it.
  const sim = await startSimulator({ port: 0, seed: 11, priceStepMs: 50, book: { maxTouchTradeFraction: 0 } });
  const clock = new ManualClock(first.timeMs);
  const latency = new RequestLatency(clock, opts.latencyMs ?? 0);
  let h: Harness | null = null;
  try {
    // The walk runs until the service has its first quotes (it waits for them at start); the first setTouch pauses it.
    // Every effect's request is made as it is decided (lanes wide enough), so its latency runs from its decision.
    h = await startHarness({
      label: opts.label,
      clock,
      timer: 'manual',
      sim,
      config: opts.config,
      wrapConnector: (connector) => latency.wrap(connector),
      executorLimits: { ...defaultExecutorLimits, priorityConcurrencyPerAccount: wideLanes, normalConcurrencyPerAccount: wideLanes },
    });
    latency.holding = latency.latencyMs > 0;
    return await drive(h, clock, latency, opts);
  } finally {
    latency.open();
    await h?.close();
    await sim.close();
  }
}

async function drive(h: Harness, clock: ManualClock, latency: RequestLatency, opts: LiveReplayOptions): Promise<LiveReplayResult> {
  const accountKey = paperCredentials(opts.userId).apiKey;
  const replies = new ReplyFollower(h.log);
  const engine = h.service.engine;

  /**
   * What still differs between the exchange and the engine's view of it, or null: every order the exchange holds for
   * the account is known to the engine as it stands there (filled quantity, ended or not), none is in flight, and the
   * engine holds what the exchange says the account holds.
   */
  const inconsistency = (): string | null => {
    if (engine.pendingInputs > 0) return `${engine.pendingInputs} inputs pending`;
    if (latency.inFlight > 0) return `${latency.inFlight} requests in flight`;
    for (const call of decided) if (!latency.made.has(call)) return `${call} decided, not yet made`;
    const durable = engine.current.durable;
    for (const o of h.sim.orders()) {
      if (o.accountKey !== accountKey) continue;
      const mine = durable.orders.get(o.clientOrderId);
      if (!mine) {
        // Not the engine's (a triggered protective stop's order: the engine learns of its trades, checked by the
        // positions below), or dropped from state as terminal (maxTerminalOrdersKept): known to have ended.
        if (!decided.has(`placeOrder ${o.clientOrderId}`)) continue;
        if (!endedStatuses.has(o.status) || !durable.terminalOrderIds.includes(o.clientOrderId)) return `${o.clientOrderId} unknown to the engine`;
        continue;
      }
      if (Number(mine.filledQty) !== Number(o.executedQty)) return `${o.clientOrderId} filled ${o.executedQty}, the engine has ${mine.filledQty}`;
      if (endedStatuses.has(o.status) !== endedStatuses.has(mine.status)) return `${o.clientOrderId} ${o.status}, the engine has ${mine.status}`;
    }
    for (const o of durable.orders.values()) {
      if (!o || latency.isHeld(o.clientOrderId)) continue; // its request waits for its latency, as in the backtest
      if (o.status === 'pending' || o.status === 'unknown' || (o.cancelRequested && !endedStatuses.has(o.status)))
        return `${o.clientOrderId} ${o.status}${o.cancelRequested ? ' (cancel requested)' : ''}`;
    }
    const session = durable.sessions.get(opts.userId);
    // A funding push has the engine read the income history: booked once that read (held for its latency) answers.
    if ((session?.fundingIds.length ?? 0) < fundingsPaid && !latency.isCallHeld('listIncome'))
      return `${fundingsPaid} funding payments made, the engine booked ${session?.fundingIds.length ?? 0}`;
    for (const symbol of opts.grids.keys()) {
      const held = session?.positions[symbol]?.qty ?? '0';
      if (Number(held) !== h.sim.position(accountKey, symbol)) return `${symbol}: the engine holds ${held}, the exchange ${h.sim.position(accountKey, symbol)}`;
    }
    return null;
  };
  /** Placements and cancels the engine decided: each must reach the exchange's gate before the engine is quiet. */
  const decided = new Set<string>();
  engine.observe(
    (_input, decision) => {
      for (const e of decision.effects) {
        if (e.kind === 'place') decided.add(`placeOrder ${e.order.clientOrderId}`);
        if (e.kind === 'cancel') decided.add(`cancelOrder ${e.clientOrderId}`);
      }
    },
    { stateOfEachDecision: false },
  );
  /** Releases, one at a time and each settled, every request due by `uptoMs`, the clock at its due time (venue.ts advanceTo). */
  const releaseDue = async (uptoMs: number): Promise<void> => {
    for (let due = latency.nextDueBy(uptoMs); due !== null; due = latency.nextDueBy(uptoMs)) {
      if (due > clock.nowMs()) clock.set(due);
      await quiet(`releasing ${latency.releaseOne(due)}`);
    }
  };

  // The exchange stamps orders and trades with its own clock (the wall clock): each is stamped here instead with the
  // engine's clock at the step it happened in (the quote's time), as the backtest's exchange stamps them.
  const orders: SimOrderRecord[] = [];
  const trades: SimTradeRecord[] = [];
  const stamp = (): void => {
    const exchangeOrders = h.sim.orders().filter((o) => o.accountKey === accountKey);
    for (const o of exchangeOrders.slice(orders.length)) orders.push({ ...o, receivedAt: clock.nowMs() });
    for (const t of h.sim.trades(accountKey).slice(trades.length)) trades.push({ ...t, timeMs: clock.nowMs() });
  };
  /** Waits until the engine has decided everything it was handed and every order it sent is answered and known. */
  const quiet = async (what: string): Promise<void> => {
    let last: string | null = null;
    try {
      await waitFor(
        `the engine quiet after ${what}`,
        async () => {
          // Decided, and the executor's calls for it made (they start within a turn of the event loop).
          await engine.drain();
          await new Promise<void>((resolve) => setImmediate(resolve));
          last = inconsistency();
          return last === null;
        },
        quietTimeoutMs,
        quietPollMs,
      );
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}: ${last ?? ''}`, { cause: error });
    }
    stamp();
  };

  let commandSeq = 0;
  const command = async (type: CommandType, fields: Record<string, unknown>): Promise<void> => {
    commandSeq += 1;
    const built = buildCommand(type, { id: `live-${commandSeq}`, ...fields } as never);
    if (!built.ok) throw new Error(built.reason);
    await h.log.appendCommand(built.json);
    // Decided (a session.stop answers done only once flat: the closing loop below gets it there).
    await replies.first(`live-${commandSeq}`);
    await quiet(`${type} live-${commandSeq}`);
  };

  let routes = 0;
  const route = async (): Promise<void> => {
    const wanted = new Set(opts.grids.keys());
    const targets = opts.strategy.targets(clock.nowMs()).filter((t) => wanted.has(t.symbol));
    if (targets.length === 0) return;
    routes += 1;
    await command('signals.route', { userId: opts.config.signalSourceIds[0] ?? 'signals', source: 'signals', signals: targets });
  };

  const beat = async (atMs: number): Promise<void> => {
    lastTimerMs = atMs;
    await h.service.timerBeat();
    await quiet('a watchdog beat');
  };

  const startMs = (opts.quotes[0] as Quote).timeMs;
  const bars = new StrategyBars(opts.strategy, opts.barMs, startMs);
  const addToBar = (q: Quote, mid: number): void => {
    if (bars.add(q.symbol, q.timeMs, mid)) routeDue = true;
  };
  let lastTimerMs = startMs;
  let routeDue = false;
  let lastQuoteAtMs = startMs;
  const lastTouch = new Map<string, { bidUnits: bigint; askUnits: bigint; sentAtMs: number }>();

  /** Funding payments the exchange made to or from the account (the engine must have booked as many). */
  let fundingsPaid = 0;
  let nextFunding = 0;
  /** The archive's funding times up to `uptoMs`, paid at their time on what is held then (run-backtest.ts payFundingDue). */
  const payFundingDue = async (uptoMs: number): Promise<void> => {
    for (let f = opts.funding?.[nextFunding]; f !== undefined && f.timeMs <= uptoMs; f = opts.funding?.[nextFunding]) {
      nextFunding += 1;
      // A funding time before the first quote finds nothing held (the session starts at the first quote).
      if (f.timeMs < startMs) continue;
      await releaseDue(f.timeMs);
      if (f.timeMs > clock.nowMs()) clock.set(f.timeMs);
      if (h.sim.position(accountKey, f.symbol) !== 0 && Number(f.rate) !== 0) fundingsPaid += 1;
      // Binance's rate is a fraction per interval; the exchange takes basis points.
      h.sim.fundNow(f.symbol, Number(f.rate) * 10_000);
      await quiet(`the funding time at ${f.timeMs}`);
    }
  };

  const onQuote = async (given: Quote, index: number): Promise<void> => {
    if (routeDue && given.timeMs > lastQuoteAtMs) {
      routeDue = false;
      await route();
    }
    lastQuoteAtMs = given.timeMs;
    await payFundingDue(given.timeMs);
    await releaseDue(given.timeMs);
    if (given.timeMs > clock.nowMs()) clock.set(given.timeMs);
    const q = opts.perturb ? opts.perturb(given, index) : given;
    const { priceScale } = opts.grids.get(q.symbol) as TickGrid;
    const scale = 10 ** priceScale;
    const last = lastTouch.get(q.symbol);
    if (last && last.bidUnits === q.bidUnits && last.askUnits === q.askUnits && q.timeMs - last.sentAtMs < unchangedTouchRefreshMs) {
      if (q.timeMs - lastTimerMs >= timerEveryMs) await beat(q.timeMs);
      addToBar(q, Number(q.bidUnits + q.askUnits) / 2 / scale);
      return;
    }
    lastTouch.set(q.symbol, { bidUnits: q.bidUnits, askUnits: q.askUnits, sentAtMs: q.timeMs });
    const bid = formatUnits(q.bidUnits, priceScale);
    const ask = formatUnits(q.askUnits, priceScale);
    h.sim.setTouch(q.symbol, bid, ask, q.timeMs);
    // The market feed has the quote (received at this step's time: the quote before it went at an earlier time, or
    // with another touch), then whatever it set off has settled. Its T is the quote's time unless a taker moved the
    // book as it was set (a triggered stop): the exchange stamps that change with its own clock.
    const seen = () => engine.current.market.venues.paper.quotes[q.symbol];
    await waitFor(
      `the quote of ${q.symbol} at ${q.timeMs} (${bid}/${ask})`,
      () => {
        const quote = seen();
        return quote !== undefined && quote.receivedAtMs === clock.nowMs() && quote.bid === Number(bid) && quote.ask === Number(ask);
      },
      quietTimeoutMs,
      quietPollMs,
    ).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; the engine has ${JSON.stringify(seen())}`, { cause: error });
    });
    await quiet(`the quote at ${q.timeMs}`);
    if (q.timeMs - lastTimerMs >= timerEveryMs) await beat(q.timeMs);
    addToBar(q, (Number(q.bidUnits) / scale + Number(q.askUnits) / scale) / 2);
  };

  await onQuote(opts.quotes[0] as Quote, 0);
  await command('session.start', {
    userId: opts.userId,
    mode: 'paper',
    capitalUsd: opts.capitalUsd,
    ...(opts.stopLossPct !== undefined ? { stopLossPct: opts.stopLossPct } : {}),
  });
  for (let i = 1; i < opts.quotes.length; i += 1) await onQuote(opts.quotes[i] as Quote, i);
  if (routeDue) await route();
  await payFundingDue(lastQuoteAtMs);

  await command('session.stop', { userId: opts.userId });
  for (let s = 0; s < maxCloseSeconds && engine.current.durable.sessions.get(opts.userId)?.status !== 'closed'; s += 1) {
    const nextMs = clock.nowMs() + 1_000;
    await releaseDue(nextMs);
    clock.set(nextMs);
    await h.service.timerBeat();
    await quiet('a closing beat');
  }
  if (engine.current.durable.sessions.get(opts.userId)?.status !== 'closed') throw new Error('the live session did not close');

  // Each order as it ended (its stamp kept), every trade.
  const ended = new Map(h.sim.orders().map((o) => [o.orderId, o]));
  return {
    orders: orders.map((o) => ({ ...(ended.get(o.orderId) ?? o), receivedAt: o.receivedAt })),
    trades,
    ledger: await readUserLedger(h.log, opts.userId),
    routes,
  };
}
