import { startPhaseProfile } from './phase-profile.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dictGet } from '../src/core/dict.js';
import { quoteOf } from '../src/core/venues.js';
import { paperCredentials } from '../src/engine/accounts.js';
import { defaultRateBudgetLimits } from '../src/exchange/rate-budget.js';
import { isZero } from '../src/model/decimal.js';
import { deletePrefix, knob, percentile, perSecond, prefix, redisUrl, round1, rssMb, sleep } from './common.js';
import type { EngineUnderTest } from './engine-under-test.js';
import { startEngineUnderTest, stopTrace } from './engine-under-test.js';
import type { PaperExchangeProcess } from './exchange-process.js';
import { startPaperExchangeProcess } from './exchange-process.js';
import type { Harness } from './harness.js';
import { openHarness } from './harness.js';

// The session sweep: for each size, N paper sessions spread over the symbols, a signal source routing every
// signalPeriodMs, and while that flows: a command flood (commands/s), session.stop → flatten, and
// tick → flatten (a price jump through one session's stop-loss, exchange-side stops out of reach), with the
// slowest engine step, the event-loop delay, and the RSS of the engine process (the paper exchange runs in
// a process of its own).

const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const signalPeriodMs = 2_000;
/** Signals route to at most this many sessions per command (the contract's maxRouteUserIds). */
const routeChunkUsers = 1_000;
const sessionCapitalUsd = 1_000;
/** Every session's stop-loss: wide, so a jump breaches only the session whose stop-loss is set tight. */
const wideStopLossPct = 50;
const tightStopLossPct = 2;
/** Weight of each session's symbol: a 10 % jump moves its equity 5 %, past the tight stop-loss only. */
const signalWeight = 0.5;
const jumpFraction = 0.1;
const stopSpacingMs = 100;
const flattenPollMs = 50;
const rssSampleMs = 500;

/** Beyond these, a phase stops waiting and reports what it measured, with cappedSamples set. */
const setupCapMs = knob('BENCH_SETUP_CAP_MS', 120_000);
const phaseCapMs = knob('BENCH_PHASE_CAP_MS', 120_000);
const tickCapMs = 10_000;
/**
 * BENCH_WEIGHT_PER_MINUTE lowers the IP's request weight limit (exchange and budget alike; default Binance's 2 400):
 * 1 000 sessions at 240 weight/min meet the weight squeeze of 10 000 at 2 400 (not their CPU load). BENCH_SILENCE_PROBE_MS
 * shortens the user streams' silence probe (default 5 min) so its cost shows within a short run. 0 = the default.
 */
const weightPerMinute = knob('BENCH_WEIGHT_PER_MINUTE', 0);
const silenceProbeMs = knob('BENCH_SILENCE_PROBE_MS', 0);
/** BENCH_SWEEP_HOLD_MS: once set up, signals flow this long before measuring, so the weight log shows the steady state. */
const holdMs = knob('BENCH_SWEEP_HOLD_MS', 0);

export interface SweepEntry {
  sessions: number;
  /**
   * The IP's request weight limit this entry ran with (exchange and budget alike; BENCH_WEIGHT_PER_MINUTE). Binance's
   * is 2 400: one IP cannot set up 10 000 sessions in minutes, so a larger limit measures the engine at that size.
   */
  weightPerMinute: number;
  commandsPerSecond: number;
  commandsAnswered: number;
  stopToFlattenP50Ms: number | null;
  stopToFlattenP99Ms: number | null;
  stopSamples: number;
  tickToFlattenP50Ms: number | null;
  tickToFlattenP99Ms: number | null;
  tickSamples: number;
  /**
   * The same latencies to when the engine sent the flatten (its ExchangeAccount.placeOrder call), not to its arrival at
   * the exchange: the difference is the request's way to the simulator, and the simulator's own queue.
   */
  stopToSendP50Ms: number | null;
  stopToSendP99Ms: number | null;
  tickToSendP99Ms: number | null;
  slowestStepMs: number;
  /** The most one step spent deciding (engine-under-test.ts, maxDecideMs): slowestStepMs without the commit's wait. */
  slowestStepDecideMs: number;
  /** Engine steps (each one decision round and one log commit) while measuring: fewer for the same work is less waiting. */
  engineSteps: number;
  /**
   * Equity samples (outbound `equity` events) a second while measuring. Each session holding a position falls due one
   * every equitySampleMs (5 s), so ~sessions / 5 while they hold, up to maxEquitySamplesPerSecond (400).
   */
  equitySamplesPerSecond: number;
  /** CPU time of this process (engine, adapter and harness) while measuring, ms: steadier than wall time on a busy machine. */
  processCpuMs: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  rssMb: number;
  /** Sessions started and holding positions, before measuring (ms). */
  setupMs: number;
  /** Some phase hit its cap: the figures are over fewer samples than asked (see cappedNotes). */
  cappedSamples: boolean;
  cappedNotes: string[];
}

interface Run {
  exchange: PaperExchangeProcess;
  engine: EngineUnderTest;
  harness: Harness;
  users: string[];
  symbolOf: (userId: string) => string;
  capped: string[];
}

const accountKey = (userId: string): string => paperCredentials(userId).apiKey;

function holds(run: Run, userId: string): boolean {
  const session = run.engine.service.engine.current.durable.sessions.get(userId);
  const qty = session ? dictGet(session.positions, run.symbolOf(userId))?.qty : undefined;
  return qty !== undefined && !isZero(qty);
}

async function waitFor(ready: () => boolean, capMs: number, pollMs: number): Promise<boolean> {
  const deadline = Date.now() + capMs;
  while (!ready()) {
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
  return true;
}

function startSignals(run: Run): () => void {
  let round = 0;
  const send = (): void => {
    round += 1;
    const commands: string[] = [];
    for (const symbol of symbols) {
      const targets = run.users.filter((u) => run.symbolOf(u) === symbol);
      for (let i = 0; i < targets.length; i += routeChunkUsers) {
        const userIds = targets.slice(i, i + routeChunkUsers);
        commands.push(
          JSON.stringify({ id: `sig:${round}-${symbol}-${i}`, userId: 'signals', type: 'signals.route', userIds, signals: [{ symbol, weight: signalWeight }] }),
        );
      }
    }
    run.harness.appendAll(commands).catch(() => undefined); // a lost round is the next round's business
  };
  send();
  const timer = setInterval(send, signalPeriodMs);
  return () => clearInterval(timer);
}

/** Commands answered per second: set_stoploss to the value each session already has (a logged no-op). */
async function commandFlood(run: Run, count: number): Promise<{ perSecond: number; answered: number }> {
  const flood = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ id: `flood:${i}`, userId: run.users[i % run.users.length], type: 'session.set_stoploss', pct: wideStopLossPct }),
  );
  const t = performance.now();
  await run.harness.appendAllElsewhere(flood);
  const answered = await run.harness.waitForFinalReplies('flood', count, phaseCapMs);
  if (answered < count) run.capped.push(`command flood: ${answered} of ${count} answered in ${phaseCapMs} ms`);
  return { perSecond: perSecond(answered, performance.now() - t), answered };
}

/** Latencies to the flatten's arrival at the exchange and, beside them, to its sending by the engine (ms). */
interface FlattenLatencies {
  arrivals: number[];
  sends: number[];
}

/** For the traces: how long after `fromMs` a time noted was (ms), or null when it was not noted. */
const msAfter = (fromMs: number, atMs: number | null | undefined): number | null => (typeof atMs === 'number' ? atMs - fromMs : null);

/** session.stop appended → its flatten order received by the exchange, one stop every stopSpacingMs. */
async function stopToFlatten(run: Run, stoppers: string[]): Promise<FlattenLatencies> {
  const sentAt = new Map<string, number>();
  for (const u of stoppers) {
    sentAt.set(u, Date.now());
    await run.harness.append(JSON.stringify({ id: `stop:${u}`, userId: u, type: 'session.stop' }));
    await sleep(stopSpacingMs);
  }
  const from = Math.min(...sentAt.values());
  let arrivals: Record<string, number | null> = {};
  const deadline = Date.now() + phaseCapMs;
  for (;;) {
    arrivals = await run.exchange.flattens(stoppers.map(accountKey), from);
    if (stoppers.every((u) => typeof arrivals[accountKey(u)] === 'number') || Date.now() >= deadline) break;
    await sleep(flattenPollMs);
  }
  const latencies: number[] = [];
  const sends: number[] = [];
  for (const u of stoppers) {
    const arrival = arrivals[accountKey(u)];
    const sent = sentAt.get(u);
    if (typeof arrival === 'number' && sent !== undefined) latencies.push(arrival - sent);
    const engineSent = sent === undefined ? null : run.engine.flattenSentAt(accountKey(u), sent);
    if (engineSent !== null && sent !== undefined) sends.push(engineSent - sent);
  }
  if (process.env.BENCH_TRACE_STOPS)
    for (const u of stoppers) {
      const sent = sentAt.get(u) ?? 0;
      const t = stopTrace.get(`stop:${u}`) ?? {};
      process.stderr.write(
        `${JSON.stringify({ stop: u, read: msAfter(sent, t.readAt), step: msAfter(sent, t.stepAt), committed: msAfter(sent, t.committedAt), sent: msAfter(sent, run.engine.flattenSentAt(accountKey(u), sent)), arrived: msAfter(sent, arrivals[accountKey(u)]) })}\n`,
      );
    }
  if (latencies.length < stoppers.length) run.capped.push(`stop → flatten: ${latencies.length} of ${stoppers.length} flattened in ${phaseCapMs} ms`);
  return { arrivals: latencies, sends };
}

/** A jump of the mid through one session's (tight) stop-loss → its flatten order received by the exchange. */
async function tickToFlatten(run: Run, victims: string[]): Promise<FlattenLatencies> {
  const latencies: number[] = [];
  const sends: number[] = [];
  let missed = 0;
  for (const u of victims) {
    const symbol = run.symbolOf(u);
    const id = `tight:${u}`;
    await run.harness.append(JSON.stringify({ id, userId: u, type: 'session.set_stoploss', pct: tightStopLossPct }));
    if ((await run.harness.waitForReply(id, tickCapMs)) !== 'done' || !holds(run, u)) {
      missed += 1;
      continue;
    }
    const quote = quoteOf(run.engine.service.engine.current.market.venues, 'paper', symbol);
    if (!quote) {
      missed += 1;
      continue;
    }
    const mid = (quote.bid + quote.ask) / 2;
    const jumpAt = await run.exchange.setMid(symbol, mid * (1 - jumpFraction));
    const deadline = Date.now() + tickCapMs;
    let arrival: number | null | undefined = null;
    while (Date.now() < deadline) {
      arrival = (await run.exchange.flattens([accountKey(u)], jumpAt))[accountKey(u)];
      if (typeof arrival === 'number') break;
      await sleep(flattenPollMs);
    }
    if (typeof arrival === 'number') latencies.push(arrival - jumpAt);
    else missed += 1;
    const engineSent = run.engine.flattenSentAt(accountKey(u), jumpAt);
    if (engineSent !== null) sends.push(engineSent - jumpAt);
    if (process.env.BENCH_TRACE_TICKS) {
      const jumped = mid * (1 - jumpFraction);
      process.stderr.write(
        `${JSON.stringify({ tick: u, symbol, received: msAfter(jumpAt, run.engine.tickReceivedAt(symbol, jumped, jumpAt)), stepped: msAfter(jumpAt, run.engine.tickSteppedAt(symbol, jumped, jumpAt)), sent: msAfter(jumpAt, engineSent), arrived: msAfter(jumpAt, arrival) })}\n`,
      );
    }
    await run.exchange.setMid(symbol, mid);
    await sleep(300);
  }
  if (missed > 0) run.capped.push(`tick → flatten: ${missed} of ${victims.length} samples missed (no reply, no position, or no flatten in ${tickCapMs} ms)`);
  return { arrivals: latencies, sends };
}

export async function runSweepSize(sessions: number): Promise<SweepEntry> {
  const commandCount = knob('BENCH_SWEEP_COMMANDS', 2_000);
  const stopCount = Math.min(knob('BENCH_STOPS', 20), Math.floor(sessions / 2));
  const tickCount = Math.min(knob('BENCH_TICKS', 20), Math.floor(sessions / 2));
  const p = prefix(`sweep${sessions}`);
  const exchange = await startPaperExchangeProcess({
    port: 0,
    seed: 9,
    priceStepMs: 100,
    ...(weightPerMinute > 0 && { gatewayLimits: { weightPerMinute } }),
  });
  const setupStart = performance.now();
  const engine = await startEngineUnderTest(exchange, p, {
    stopsOutOfReach: true,
    ...(weightPerMinute > 0 && { weightPerMinute }),
    ...(silenceProbeMs > 0 && { silenceProbeMs }),
  });
  const harness = await openHarness(redisUrl, p);
  const users = Array.from({ length: sessions }, (_, i) => `s${i}`);
  const run: Run = { exchange, engine, harness, users, symbolOf: (u) => symbols[Number(u.slice(1)) % symbols.length] ?? 'BTCUSDT', capped: [] };
  let stopSignals = (): void => undefined;
  try {
    // Entries fill at once: post-only is refused, the bounded fallback crosses.
    await exchange.setFaults({ forcePostOnlyReject: true });
    await harness.appendAll(
      users.map((u) =>
        JSON.stringify({ id: `start:${u}`, userId: u, type: 'session.start', mode: 'paper', capitalUsd: sessionCapitalUsd, stopLossPct: wideStopLossPct }),
      ),
    );
    const started = await harness.waitForFinalReplies('start', sessions, setupCapMs);
    if (started < sessions) run.capped.push(`setup: ${started} of ${sessions} sessions started in ${setupCapMs} ms`);
    stopSignals = startSignals(run);
    // Samples spread over the sessions (and so over the symbols); measured only once they hold a position.
    const stride = Math.max(1, Math.floor(sessions / Math.max(1, stopCount + tickCount)));
    const samples = Array.from({ length: stopCount + tickCount }, (_, k) => users[k * stride]).filter((u): u is string => u !== undefined);
    const holding = await waitFor(() => samples.every((u) => holds(run, u)), setupCapMs, 50);
    if (!holding) run.capped.push(`setup: ${samples.filter((u) => !holds(run, u)).length} of ${samples.length} samples held no position in ${setupCapMs} ms`);
    const setupMs = Math.round(performance.now() - setupStart);
    if (holdMs > 0) await sleep(holdMs);
    const ready = samples.filter((u) => holds(run, u));

    const profile = await startPhaseProfile(`sweep-${sessions}`);
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    engine.steps.reset();
    const cpuAtStart = process.cpuUsage();
    let peakRss = rssMb();
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, rssMb())), rssSampleMs);

    const flood = await commandFlood(run, commandCount);
    const stopped = await stopToFlatten(run, ready.slice(0, stopCount));
    const ticked = await tickToFlatten(run, ready.slice(stopCount));
    const ascending = (values: number[]): number[] => values.sort((a, b) => a - b);
    const [stops, stopSends, ticks, tickSends] = [ascending(stopped.arrivals), ascending(stopped.sends), ascending(ticked.arrivals), ascending(ticked.sends)];

    clearInterval(rssTimer);
    const cpu = process.cpuUsage(cpuAtStart);
    loop.disable();
    await profile.stop();
    peakRss = Math.max(peakRss, rssMb());
    return {
      sessions,
      weightPerMinute: weightPerMinute > 0 ? weightPerMinute : defaultRateBudgetLimits.weightPerMinute,
      commandsPerSecond: flood.perSecond,
      commandsAnswered: flood.answered,
      stopToFlattenP50Ms: percentile(stops, 50),
      stopToFlattenP99Ms: percentile(stops, 99),
      stopSamples: stops.length,
      tickToFlattenP50Ms: percentile(ticks, 50),
      tickToFlattenP99Ms: percentile(ticks, 99),
      tickSamples: ticks.length,
      stopToSendP50Ms: percentile(stopSends, 50),
      stopToSendP99Ms: percentile(stopSends, 99),
      tickToSendP99Ms: percentile(tickSends, 99),
      slowestStepMs: round1(engine.steps.maxMs()),
      slowestStepDecideMs: round1(engine.steps.maxDecideMs()),
      engineSteps: engine.steps.count(),
      equitySamplesPerSecond: round1(engine.steps.equitySamplesPerSecond()),
      processCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      eventLoopDelayP99Ms: round1(loop.percentile(99) / 1e6),
      eventLoopDelayMaxMs: round1(loop.max / 1e6),
      rssMb: peakRss,
      setupMs,
      cappedSamples: run.capped.length > 0,
      cappedNotes: run.capped,
    };
  } finally {
    stopSignals();
    // BENCH_WEIGHT_LOG=1: where the exchange's request weight went, per minute and endpoint (on stderr).
    if (process.env.BENCH_WEIGHT_LOG) process.stderr.write(`${JSON.stringify({ sessions, weightByPath: await exchange.weightByPath() })}\n`);
    await harness.close();
    await engine.stop();
    await exchange.close();
    await deletePrefix(p);
  }
}

/** BENCH_SWEEP=10,100,1000 (the default) picks the sizes. */
export function sweepSizes(): number[] {
  const raw = process.env.BENCH_SWEEP ?? '10,100,1000';
  return raw
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}
