import { performance } from 'node:perf_hooks';
import type { CoreConfig } from '../src/core/config.js';
import { defaultCoreConfig } from '../src/core/config.js';
import type { Decision, Input } from '../src/core/decide.js';
import { decide } from '../src/core/decide.js';
import type { WalEvent } from '../src/core/events.js';
import { foldEvents } from '../src/core/events.js';
import type { EngineState } from '../src/core/state.js';
import { emptyDurableState, emptyMarketState } from '../src/core/state.js';
import type { SymbolFilters } from '../src/model/market.js';
import type { OrderSnapshot } from '../src/model/orders.js';
import { makeFilters } from '../test/core/fixtures.js';
import { toPrice, toQty, toUsd } from '../src/model/decimal.js';

// `npx tsx bench/core-scale.ts [--sessions 1000,10000] [--repeat 20]`: the pure core's cost per input at scale.
// Builds N paper sessions (each holding one of three symbols with an active protective stop and a stop-loss),
// then times decide() for `repeat` /stop commands (of different sessions), ticks and timer beats, each run one
// after another on the state the previous left, and folds `--replay-ids` command ids (the replay path).

const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const T0 = 1_700_000_000_000;
const config: CoreConfig = { ...defaultCoreConfig, symbols };

function filters(symbol: string): SymbolFilters {
  return makeFilters(symbol, { minNotional: '5' });
}

function build(sessions: number): EngineState {
  const events: WalEvent[] = [{ type: 'engine.initialized', epoch: 'bench' }];
  for (let i = 0; i < sessions; i += 1) {
    const userId = `u${i}`;
    const symbol = symbols[i % symbols.length] ?? 'BTCUSDT';
    events.push({ type: 'session.started', userId, mode: 'paper', capitalUsd: toUsd(10_000), stopLossPct: 5, horizonDeadlineMs: T0 + 86_400_000, atMs: T0 });
    events.push({ type: 'position.adopted', userId, symbol, qty: toQty('0.01'), entryPrice: toPrice(100), reason: 'bench' });
  }
  let durable = foldEvents(emptyDurableState(), events, config);
  let state: EngineState = { durable, market: emptyMarketState(T0) };
  const step = (input: Input, nowMs = T0): void => {
    state = decide(state, input, nowMs, config).state;
  };
  step({ kind: 'filters', venue: 'paper', filters: Object.fromEntries(symbols.map((s) => [s, filters(s)])) });
  step({ kind: 'feed_started', venue: 'paper', symbols });
  for (const symbol of symbols) step({ kind: 'tick', venue: 'paper', tick: { symbol, bid: 100, ask: 100.1, time: T0 } });
  // One timer beat places every session's protective stop; confirm them, as the exchange would.
  const placing = decide(state, { kind: 'timer' }, T0, config);
  state = placing.state;
  const confirms: WalEvent[] = [];
  for (const e of placing.wal)
    if (e.type === 'stop.planned') confirms.push({ type: 'stop.status', userId: e.userId, symbol: e.symbol, clientAlgoId: e.clientAlgoId, status: 'active' });
  durable = foldEvents(state.durable, confirms, config);
  return { durable, market: state.market };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * Decides `inputs` one after another on the state each leaves (as the engine does), timing each decide();
 * gives the median and the slowest.
 */
function timeSequence(start: EngineState, inputs: readonly Input[], nowMs: number): { firstMs: number; medianMs: number; maxMs: number } {
  let state = start;
  const runs: number[] = [];
  for (const input of inputs) {
    const started = performance.now();
    state = decide(state, input, nowMs, config).state;
    runs.push(performance.now() - started);
  }
  // The first decision also builds the derived indexes (once per boot): reported apart from the steady ones.
  const [first = 0, ...rest] = runs;
  return { firstMs: first, medianMs: median(rest), maxMs: Math.max(0, ...rest) };
}

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? (args[at + 1] ?? fallback) : fallback;
};
const sizes = flag('sessions', '1000,10000').split(',').map(Number);
const repeat = Number(flag('repeat', '20'));

/**
 * An order's life after a /stop, per session, as the exchange reports it: the flatten's place answer (accepted),
 * its fill on the user stream, and the position read that confirms it flat. Each should touch its one session:
 * the median of each kind, over `users`, at N sessions (issue 12: work per input independent of the session count).
 */
function orderNewsCosts(start: EngineState, users: readonly string[], nowMs: number): Record<'stop' | 'placeResult' | 'fill' | 'positionNews', number> {
  let state = start;
  const costs = { stop: [] as number[], placeResult: [] as number[], fill: [] as number[], positionNews: [] as number[] };
  const timed = (into: number[], input: Input): Decision => {
    const started = performance.now();
    const decision = decide(state, input, nowMs, config);
    into.push(performance.now() - started);
    state = decision.state;
    return decision;
  };
  for (const [i, userId] of users.entries()) {
    const raw = JSON.stringify({ id: `news-stop-${i}`, userId, type: 'session.stop' });
    const stopped = timed(costs.stop, { kind: 'command', delivery: { entryId: `3-${i}`, raw, deliveryCount: 1 } });
    const place = stopped.effects.find((e) => e.kind === 'place');
    if (place?.kind !== 'place') throw new Error(`the /stop of ${userId} placed no flatten`);
    const { order } = place;
    const snapshot = (status: OrderSnapshot['status'], executedQty: string): OrderSnapshot => ({
      clientOrderId: order.clientOrderId,
      exchangeOrderId: `x${i}`,
      symbol: order.symbol,
      side: order.side,
      status,
      origQty: order.quantity,
      executedQty,
      avgPrice: executedQty === '0' ? '0' : '100',
      updateTime: nowMs,
    });
    timed(costs.placeResult, { kind: 'place_result', clientOrderId: order.clientOrderId, outcome: { kind: 'accepted', order: snapshot('NEW', '0') } });
    const trade = {
      cumQty: order.quantity,
      commission: '0.0004',
      commissionAsset: 'USDT',
      realizedProfit: '0',
      lastQty: order.quantity,
      lastPrice: '100',
      tradeId: `t${i}`,
      maker: false,
    };
    timed(costs.fill, { kind: 'order_update', userId, mode: 'paper', order: { ...snapshot('FILLED', order.quantity), trade } });
    timed(costs.positionNews, { kind: 'position_news', userId, mode: 'paper', positions: [{ symbol: order.symbol, positionAmt: '0', entryPrice: '0' }] });
  }
  return { stop: median(costs.stop), placeResult: median(costs.placeResult), fill: median(costs.fill), positionNews: median(costs.positionNews) };
}

/** Replay's share of remembering command ids: folding `count` command.processed events. */
function replayIds(count: number): number {
  const events: WalEvent[] = [];
  for (let i = 0; i < count; i += 1)
    events.push({ type: 'command.processed', commandId: `c${i}`, userId: 'u', commandType: 'status', outcome: 'accepted', reason: null, atMs: T0 });
  const started = performance.now();
  foldEvents(emptyDurableState(), events, config);
  return performance.now() - started;
}

const idsReplayed = Number(flag('replay-ids', '200000'));
process.stdout.write(`${JSON.stringify({ replayedCommandIds: idsReplayed, foldMs: Math.round(replayIds(idsReplayed)) })}\n`);

for (const n of sizes) {
  const builtAt = performance.now();
  const state = build(n);
  const buildMs = performance.now() - builtAt;
  const now = T0 + 1_000;
  const users = Array.from({ length: repeat }, (_, i) => `u${(i * 7919) % n}`);
  const stops: Input[] = users.map((userId, i) => ({
    kind: 'command',
    delivery: { entryId: `1-${i}`, raw: JSON.stringify({ id: `stop-${i}`, userId, type: 'session.stop' }), deliveryCount: 1 },
  }));
  const ticks: Input[] = users.map((_, i) => ({
    kind: 'tick',
    venue: 'paper',
    tick: { symbol: symbols[i % symbols.length] ?? 'BTCUSDT', bid: 100 + (i % 5) / 100, ask: 100.1 + (i % 5) / 100, time: now },
  }));
  const timers: Input[] = users.map(() => ({ kind: 'timer' }));
  // A signals.route to every session holding BTCUSDT, in commands of 1 000 users as the sweep sends them, decided with
  // its continuations until answered: the sessions already hold their target, so the route places nothing.
  /** The weight whose target is the 0.01 each session holds (mid 100.05): the route finds nothing to do. */
  const atTargetWeight = (0.01 * 100.05 * 1.000001) / (10_000 * config.maxLeverage);
  const routeAll = (): number => {
    let current = state;
    const holders = Array.from({ length: n }, (_, i) => `u${i}`).filter((_, i) => i % symbols.length === 0);
    let started = performance.now();
    // Twice: the first route sets every session's intent (an event each); the second, the steady state, finds it set.
    for (let pass = 0; pass < 2; pass += 1) {
      if (pass === 1) started = performance.now();
      for (let c = 0; c < holders.length; c += 1_000) {
        const raw = JSON.stringify({
          id: `route-${pass}-${c}`,
          userId: 'signals',
          type: 'signals.route',
          userIds: holders.slice(c, c + 1_000),
          signals: [{ symbol: 'BTCUSDT', weight: atTargetWeight }],
        });
        let input: Input | undefined = { kind: 'command', delivery: { entryId: `2-${c}`, raw, deliveryCount: 1 } };
        while (input) {
          const decision = decide(current, input, now, config);
          current = decision.state;
          input = decision.continuation;
        }
      }
    }
    return (performance.now() - started) / holders.length;
  };
  // Each sequence starts from the built state; the first decision of each also builds the derived index.
  const figures = {
    sessions: n,
    buildMs: Math.round(buildMs),
    stop: timeSequence(state, stops, now),
    tick: timeSequence(state, ticks, now),
    timer: timeSequence(state, timers, now),
    /** µs of decide() per session routed, for a second route to every holder of one symbol (nothing changes). */
    routeUsPerSession: routeAll() * 1000,
    /** Medians (ms) of a /stop and the exchange news of its flatten (orderNewsCosts). */
    orderNewsMs: orderNewsCosts(state, users, now),
  };
  process.stdout.write(`${JSON.stringify(figures, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v))}\n`);
}
