import { defaultCoreConfig } from '../src/core/config.js';
import type { Input } from '../src/core/decide.js';
import type { Engine } from '../src/engine/engine.js';
import { createBinanceConnector } from '../src/exchange/binance/connector.js';
import type { ExchangeAccount, ExchangeConnector } from '../src/exchange/port.js';
import type { RateBudgetLimits } from '../src/exchange/rate-budget.js';
import { defaultRateBudgetLimits, memoryRateBudget } from '../src/exchange/rate-budget.js';
import type { EngineLog } from '../src/log/port.js';
import { openRedisLog } from '../src/log/redis-log.js';
import { movePoint, toDecimal } from '../src/model/decimal.js';
import { defaultSimSymbols } from '../src/paper-exchange/server.js';
import type { ExecutionService } from '../src/services/execution/service.js';
import { startExecutionService } from '../src/services/execution/service.js';
import { createLogger, silentLogger } from '../src/util/logger.js';
import { redisUrl } from './common.js';
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
  stop(): Promise<void>;
}

export interface StepTimer {
  /** Longest step (decide a batch of inputs + its one log commit + hand-off of effects) since reset, ms. */
  maxMs(): number;
  /** Steps since reset. */
  count(): number;
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

function timeSteps(engine: Engine): StepTimer {
  const target = engine as unknown as { step?: (inputs: Input[]) => Promise<void> };
  const original = target.step;
  if (typeof original !== 'function') throw new Error('Engine.step is gone: update bench/engine-under-test.ts to time engine steps');
  let maxMs = 0;
  let count = 0;
  target.step = async (inputs: Input[]): Promise<void> => {
    count += 1;
    const t = performance.now();
    try {
      await original.call(engine, inputs);
    } finally {
      const ms = performance.now() - t;
      maxMs = Math.max(maxMs, ms);
      // BENCH_STEP_LOG=N: every step slower than N ms, with what it decided (on stderr), to find what makes the slowest.
      if (slowStepLogMs > 0 && ms > slowStepLogMs)
        process.stderr.write(`${JSON.stringify({ slowStepMs: Math.round(ms * 10) / 10, inputs: inputs.length, kinds: inputKinds(inputs) })}\n`);
    }
  };
  return {
    maxMs: () => maxMs,
    count: () => count,
    reset: () => {
      maxMs = 0;
      count = 0;
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
  const connector = createBinanceConnector({
    restBaseUrl: exchange.restBaseUrl,
    wsBaseUrl: exchange.wsBaseUrl,
    restTimeoutMs: 10_000,
    rateBudget,
    ...(opts.silenceProbeMs !== undefined && { userStreamSilenceProbeMs: opts.silenceProbeMs }),
  });
  const flattenSends = new Map<string, number[]>();
  const recorded = withFlattenSends(connector, flattenSends);
  const paper = opts.stopsOutOfReach ? withStopsOutOfReach(recorded) : recorded;
  const marketData = paper.marketData();
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
  return {
    service,
    log,
    steps,
    flattenSentAt: (accountKey, afterMs) => flattenSends.get(accountKey)?.find((t) => t >= afterMs) ?? null,
    async stop() {
      await service.stop();
      await marketData.close();
      await log.close();
    },
  };
}
