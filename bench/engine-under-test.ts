import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { defaultCoreConfig } from '../src/core/config.js';
import type { Input } from '../src/core/decide.js';
import type { Engine } from '../src/engine/engine.js';
import { createVenueConnector } from '../src/exchange/venue-connector.js';
import { envSchema } from '../src/config/env.js';
import type { ExchangeAccount, ExchangeConnector, MarketData } from '../src/exchange/port.js';
import type { RateBudgetLimits } from '../src/exchange/rate-budget.js';
import { defaultRateBudgetLimits, memoryRateBudget } from '../src/exchange/rate-budget.js';
import type { EngineLog } from '../src/log/port.js';
import { openRedisLog } from '../src/log/redis-log.js';
import { movePoint, toDecimal } from '../src/model/decimal.js';
import { defaultSimSymbols } from '../src/paper-exchange/server.js';
import type { ExecutionService } from '../src/services/execution/service.js';
import { startExecutionService } from '../src/services/execution/service.js';
import { createLogger, silentLogger } from '../src/util/logger.js';
import { redisUrl, round1 } from './common.js';
import type { PaperExchangeProcess } from './exchange-process.js';

// The execution service as `npm start` runs it, on a Redis log of its own (the harness never shares its
// connections), trading on the paper exchange process. Two bench-only instruments: a wall-clock timer around
// each engine step, and optionally exchange-side protective stops moved out of reach.

export interface EngineUnderTest {
  service: ExecutionService;
  log: EngineLog;
  steps: StepTimer;
  /** When the engine sent an account's first flatten (a reduce-only MARKET order) at or after `afterMs` (wall clock, ms), or null. */
  flattenSentAt(accountKey: string, afterMs: number): number | null;
  /** BENCH_TRACE_TICKS: when the feed received / a step began deciding the first quote of `symbol` with bid ≤ `bid` at or after `afterMs` (ms). */
  tickReceivedAt(symbol: string, bid: number, afterMs: number): number | null;
  tickSteppedAt(symbol: string, bid: number, afterMs: number): number | null;
  stop(): Promise<void>;
}

export interface StepTimer {
  /** Longest step (decide a batch of inputs + its one log commit + hand-off of effects) since reset, ms. */
  maxMs(): number;
  /**
   * Most time one step spent deciding since reset, ms (decideStep alone: the engine's own work, which the step budget
   * bounds; the rest of a step's wall time is its commit's round trip and whatever the event loop ran meanwhile).
   */
  maxDecideMs(): number;
  /** Steps since reset. */
  count(): number;
  /** Equity samples (outbound `equity` events) the engine decided a second since reset. */
  equitySamplesPerSecond(): number;
  reset(): void;
}

/**
 * Times every engine step by wrapping the Engine's private `step` on this instance (bench only: the engine
 * has no step hook and this keeps src/ untouched). Fails loudly if the engine no longer has one.
 */
const slowStepLogMs = Number(process.env.BENCH_STEP_LOG ?? 0);

/** How many inputs of each kind (commands by type) a step decided. */
function inputKinds(inputs: readonly Input[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const input of inputs) {
    const kind = input.kind === 'command' ? `command:${/"type":"([^"]+)"/.exec(input.delivery.raw)?.[1] ?? '?'}` : input.kind;
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** Garbage collections seen lately (start and duration, performance.now() ms), for the slow-step log; bounded. */
const recentGcs: Array<{ startMs: number; durationMs: number; kind: number }> = [];
const recentGcsMax = 256;
if (slowStepLogMs > 0) {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
      recentGcs.push({ startMs: entry.startTime, durationMs: entry.duration, kind: detail?.kind ?? 0 });
    }
    if (recentGcs.length > recentGcsMax) recentGcs.splice(0, recentGcs.length - recentGcsMax);
  }).observe({ entryTypes: ['gc'] });
}

/** GC time inside [fromMs, toMs], by kind (node's constants: 1 minor, 4 major, 8 incremental, 16 weak callbacks). */
function gcWithin(fromMs: number, toMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const gc of recentGcs) {
    const overlap = Math.min(toMs, gc.startMs + gc.durationMs) - Math.max(fromMs, gc.startMs);
    if (overlap > 0) out[`gc${gc.kind}`] = round1((out[`gc${gc.kind}`] ?? 0) + overlap);
  }
  return out;
}

function timeSteps(engine: Engine): StepTimer {
  const target = engine as unknown as { step?: (inputs: Input[]) => Promise<void> };
  const original = target.step;
  if (typeof original !== 'function') throw new Error('Engine.step is gone: update bench/engine-under-test.ts to time engine steps');
  let maxMs = 0;
  let maxDecideMs = 0;
  let count = 0;
  // The step's deciding, on its own: the rest of a step's time is its commit's round trip (and whatever else the
  // event loop ran meanwhile).
  const decider = engine as unknown as { decideStep?: (inputs: Input[]) => unknown };
  const decideStep = decider.decideStep;
  if (typeof decideStep !== 'function') throw new Error('Engine.decideStep is gone: update bench/engine-under-test.ts to time engine steps');
  let decideMs = 0;
  decider.decideStep = (inputs: Input[]): unknown => {
    const t = performance.now();
    try {
      return decideStep.call(engine, inputs);
    } finally {
      decideMs += performance.now() - t;
    }
  };
  const adopter = engine as unknown as { adoptStep?: (inputs: Input[], decided: unknown) => void };
  const adoptStep = adopter.adoptStep;
  if (typeof adoptStep !== 'function') throw new Error('Engine.adoptStep is gone: update bench/engine-under-test.ts to time engine steps');
  let adoptMs = 0;
  // The step's costliest input (its cost class and deciding time), from the engine's own per-input timing (StepSizer).
  const sizer = (engine as unknown as { stepSizes?: { decided?: (costClass: string, elapsedMs: number) => void } }).stepSizes;
  const decided = sizer?.decided;
  if (!sizer || typeof decided !== 'function') throw new Error('Engine.stepSizes.decided is gone: update bench/engine-under-test.ts');
  let slowestInput = { costClass: '', ms: 0 };
  sizer.decided = (costClass: string, elapsedMs: number): void => {
    if (elapsedMs > slowestInput.ms) slowestInput = { costClass, ms: elapsedMs };
    decided.call(sizer, costClass, elapsedMs);
  };
  adopter.adoptStep = (inputs: Input[], decided: unknown): void => {
    const t = performance.now();
    try {
      adoptStep.call(engine, inputs, decided);
    } finally {
      adoptMs += performance.now() - t;
    }
  };
  target.step = async (inputs: Input[]): Promise<void> => {
    count += 1;
    const t = performance.now();
    decideMs = 0;
    adoptMs = 0;
    slowestInput = { costClass: '', ms: 0 };
    const stops = traceStopSteps ? tracedStops(inputs) : [];
    if (traceTicks) for (const input of inputs) if (input.kind === 'tick') noteTick(ticksStepped, input.tick.symbol, input.tick.bid);
    for (const trace of stops) trace.stepAt = Date.now();
    try {
      await original.call(engine, inputs);
      for (const trace of stops) trace.committedAt = Date.now();
    } finally {
      const ms = performance.now() - t;
      maxMs = Math.max(maxMs, ms);
      maxDecideMs = Math.max(maxDecideMs, decideMs);
      // BENCH_STEP_LOG=N: every step slower than N ms, with what it decided (on stderr), to find what makes the slowest.
      if (slowStepLogMs > 0 && ms > slowStepLogMs) {
        // GC entries arrive after the fact (observer callbacks): logged a turn later, with the GC inside the step.
        const line = {
          slowStepMs: round1(ms),
          decideMs: round1(decideMs),
          adoptMs: round1(adoptMs),
          inputs: inputs.length,
          kinds: inputKinds(inputs),
          slowestInput: { ...slowestInput, ms: round1(slowestInput.ms) },
        };
        setTimeout(() => process.stderr.write(`${JSON.stringify({ ...line, ...gcWithin(t, t + ms) })}\n`), 5);
      }
    }
  };
  // Equity samples decided: reads each decision's outbound events only (never its state), so the engine's steps still
  // share their maps (Engine.observe).
  let equitySamples = 0;
  let resetAtMs = performance.now();
  engine.observe(
    (_input, decision) => {
      for (const event of decision.outbound) if (event.type === 'equity') equitySamples += 1;
    },
    { stateOfEachDecision: false },
  );
  return {
    maxMs: () => maxMs,
    maxDecideMs: () => maxDecideMs,
    count: () => count,
    equitySamplesPerSecond: () => equitySamples / Math.max(0.001, (performance.now() - resetAtMs) / 1000),
    reset: () => {
      maxMs = 0;
      maxDecideMs = 0;
      count = 0;
      equitySamples = 0;
      resetAtMs = performance.now();
      // Where the measured steps begin in the slow-step log (the steps before it set the sessions up).
      if (slowStepLogMs > 0) process.stderr.write(`${JSON.stringify({ measuringFrom: 'here' })}\n`);
    },
  };
}

const tickSizeOf = new Map(defaultSimSymbols.map((s) => [s.symbol, s.tickSize]));

/**
 * Exchange-side protective stops placed far out of reach (a SELL at one tick, a BUY at ten times its trigger),
 * so a price jump is closed by the engine's own stop-loss path and tick → flatten measures that path, not the
 * exchange's algo book. Everything else goes through untouched.
 */
function withStopsOutOfReach(connector: ExchangeConnector): ExchangeConnector {
  return {
    marketData: () => connector.marketData(),
    account(credentials) {
      const account = connector.account(credentials);
      const widened: ExchangeAccount = Object.create(account) as ExchangeAccount;
      widened.placeProtectiveStop = (req) =>
        account.placeProtectiveStop({
          ...req,
          triggerPrice: req.side === 'SELL' ? (tickSizeOf.get(req.symbol) ?? req.triggerPrice) : movePoint(toDecimal(req.triggerPrice), 1),
        });
      return widened;
    },
  };
}

/**
 * Records when each flatten (a reduce-only MARKET order) leaves the engine for the exchange, per account key: beside
 * its arrival at the exchange, it tells the engine's part of a latency from the time the request spent reaching the
 * simulator (its own process, its own queue).
 */
function withFlattenSends(connector: ExchangeConnector, sends: Map<string, number[]>): ExchangeConnector {
  return {
    marketData: () => connector.marketData(),
    account(credentials) {
      const account = connector.account(credentials);
      const recorded: ExchangeAccount = Object.create(account) as ExchangeAccount;
      recorded.placeOrder = (req) => {
        if (req.type === 'MARKET' && req.reduceOnly) {
          const times = sends.get(credentials.apiKey) ?? [];
          times.push(Date.now());
          sends.set(credentials.apiKey, times);
        }
        return account.placeOrder(req);
      };
      return recorded;
    },
  };
}

/** The budget's limits for a lowered weight limit: the priority reserve keeps its share of the minute (400 of 2 400). */
function scaledLimits(weightPerMinute: number): RateBudgetLimits {
  const reserveShare = defaultRateBudgetLimits.reservedForRiskReducingWeight / defaultRateBudgetLimits.weightPerMinute;
  return { ...defaultRateBudgetLimits, weightPerMinute, reservedForRiskReducingWeight: Math.round(weightPerMinute * reserveShare) };
}

/**
 * BENCH_TRACE_STOPS=1: when each /stop of the sweep (ids `stop:…`) was read from the log by the engine, when the step
 * deciding it began, and when that step was committed (Date.now() ms; the step's times noted by timeSteps), for the
 * sweep to print beside the flatten's send and arrival: which part of a stop's latency is the wait for the step before it.
 */
export const stopTrace = new Map<string, { readAt?: number; stepAt?: number; committedAt?: number }>();
const traceStopSteps = process.env.BENCH_TRACE_STOPS !== undefined;
const stopIdOf = (raw: string): string | undefined => /"id":"(stop:[^"]+)"/.exec(raw)?.[1];

/** The traces of the sweep stops among a step's inputs (read before, so traced). */
function tracedStops(inputs: readonly Input[]): { stepAt?: number; committedAt?: number }[] {
  const out: { stepAt?: number; committedAt?: number }[] = [];
  for (const input of inputs) {
    const trace = input.kind === 'command' ? stopTrace.get(stopIdOf(input.delivery.raw) ?? '') : undefined;
    if (trace) out.push(trace);
  }
  return out;
}

/**
 * BENCH_TRACE_TICKS=1: for the sweep's tick samples, when the engine's feed received each quote (the WebSocket
 * callback) and when the step deciding it began (Date.now() ms), so a tick's latency splits into the exchange's
 * publication and the wire, the wait for the engine's step, and the step and send after it.
 */
const traceTicks = process.env.BENCH_TRACE_TICKS !== undefined;
/** Quotes kept per symbol for the trace (the newest). */
const tickTraceDepth = 2_000;
const ticksReceived = new Map<string, { atMs: number; bid: number }[]>();
const ticksStepped = new Map<string, { atMs: number; bid: number }[]>();

function noteTick(into: Map<string, { atMs: number; bid: number }[]>, symbol: string, bid: number): void {
  let list = into.get(symbol);
  if (!list) into.set(symbol, (list = []));
  list.push({ atMs: Date.now(), bid });
  if (list.length > tickTraceDepth) list.splice(0, list.length - tickTraceDepth);
}

/** The first time at or after `afterMs` a quote of `symbol` with its bid at or below `bid` was received / stepped. */
function firstTickAt(from: Map<string, { atMs: number; bid: number }[]>, symbol: string, bid: number, afterMs: number): number | null {
  return from.get(symbol)?.find((t) => t.atMs >= afterMs && t.bid <= bid)?.atMs ?? null;
}

/** The feed's quotes noted as they arrive (BENCH_TRACE_TICKS). */
function withTickReceipts(marketData: MarketData): MarketData {
  if (!traceTicks) return marketData;
  return {
    getSymbolFilters: (symbols) => marketData.getSymbolFilters(symbols),
    subscribeBookTicker: (symbols, onTick) =>
      marketData.subscribeBookTicker(symbols, (tick) => {
        noteTick(ticksReceived, tick.symbol, tick.bid);
        onTick(tick);
      }),
    close: () => marketData.close(),
  };
}

/** Notes when each sweep stop is read from the log (BENCH_TRACE_STOPS). */
function traceStopReads(log: EngineLog): void {
  if (!traceStopSteps) return;
  const read = log.readCommands.bind(log);
  log.readCommands = async (consumer, maxEntries, blockMs) => {
    const out = await read(consumer, maxEntries, blockMs);
    const now = Date.now();
    for (const d of out) {
      const id = stopIdOf(d.raw);
      if (id !== undefined) stopTrace.set(id, { readAt: now });
    }
    return out;
  };
}

export async function startEngineUnderTest(
  exchange: Pick<PaperExchangeProcess, 'restBaseUrl' | 'wsBaseUrl'>,
  keyPrefix: string,
  opts: {
    stopsOutOfReach: boolean;
    log?: EngineLog;
    /** The IP's request weight per minute (default Binance's 2 400): a lower one replays a larger run's squeeze with fewer sessions. */
    weightPerMinute?: number;
    /** The user streams' silence probe (default the connector's), shortened with the weight to replay a long run in minutes. */
    silenceProbeMs?: number;
  },
): Promise<EngineUnderTest> {
  const log = opts.log ?? (await openRedisLog({ url: redisUrl, prefix: keyPrefix }));
  // One request budget for the connector and the service, as `npm start` wires them (run-execution.ts): the
  // connector feeds it the exchange's X-MBX-USED-WEIGHT-1M and 429/418. Without that the budget never learns the
  // weight of requests it does not admit (a listen key per account) and pushes the paper exchange into a ban.
  const rateBudget = memoryRateBudget(opts.weightPerMinute === undefined ? defaultRateBudgetLimits : scaledLimits(opts.weightPerMinute));
  // Where the adapter runs, as `npm start` has it (QE_ADAPTER_THREAD, default the engine's thread); the bench's wrappers
  // below stay on the engine's thread around it, as the service's own callers do.
  const connector = createVenueConnector({
    restBaseUrl: exchange.restBaseUrl,
    wsBaseUrl: exchange.wsBaseUrl,
    restTimeoutMs: 10_000,
    rateBudget,
    ...(opts.silenceProbeMs !== undefined && { userStreamSilenceProbeMs: opts.silenceProbeMs }),
    adapterThread: envSchema.shape.QE_ADAPTER_THREAD.parse(process.env.QE_ADAPTER_THREAD),
    onFatal: (error) => {
      process.stderr.write(`engine under test: the exchange adapter thread died: ${error.message}\n`);
      process.exit(1);
    },
  });
  const flattenSends = new Map<string, number[]>();
  const recorded = withFlattenSends(connector, flattenSends);
  const paper = opts.stopsOutOfReach ? withStopsOutOfReach(recorded) : recorded;
  const marketData = withTickReceipts(paper.marketData());
  const service = await startExecutionService({
    log,
    paper,
    marketData: { paper: marketData },
    rateBudgets: { paper: rateBudget },
    config: defaultCoreConfig,
    // BENCH_ENGINE_LOG=warn (or any pino level) prints the engine's log (pino JSON lines on stdout, before the figures), to see why a phase stalls.
    logger: process.env.BENCH_ENGINE_LOG ? createLogger('engine-under-test', process.env.BENCH_ENGINE_LOG) : silentLogger(),
    watchdogPeriodMs: 1_000,
    commandBlockMs: 50,
  });
  const steps = timeSteps(service.engine);
  traceStopReads(log);
  return {
    service,
    log,
    steps,
    flattenSentAt: (accountKey, afterMs) => flattenSends.get(accountKey)?.find((t) => t >= afterMs) ?? null,
    tickReceivedAt: (symbol, bid, afterMs) => firstTickAt(ticksReceived, symbol, bid, afterMs),
    tickSteppedAt: (symbol, bid, afterMs) => firstTickAt(ticksStepped, symbol, bid, afterMs),
    async stop() {
      await service.stop();
      await marketData.close();
      await connector.close();
      await log.close();
    },
  };
}
