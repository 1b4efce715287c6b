import { startPhaseProfile } from './phase-profile.js';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dictGet } from '../src/core/dict.js';
import { paperCredentials } from '../src/engine/accounts.js';
import { isZero } from '../src/model/decimal.js';
import { deletePrefix, knob, machineCpuMicros, percentile, perSecond, prefix, redisUrl, round1, sleep } from './common.js';
import { startEngineUnderTest } from './engine-under-test.js';
import { startPaperExchangeProcess } from './exchange-process.js';
import { openHarness } from './harness.js';

// The figures earlier benches printed, measured the same way but with the harness on its own connections:
// commands/s with 50 users (appended by a producer process → decided → WAL + reply + XACK committed), and session.stop → flatten
// while the other users' orders hang on a slow exchange for slowExchangeMs.

export const slowExchangeMs = 1_000;
const users = 50;
/** Commands decided, untimed, before the throughput is measured. */
const warmUpCommands = 5_000;
const phaseCapMs = 120_000;

export interface EngineRunFigures {
  commands: number;
  commandsPerSecond: number;
  /** CPU time of the bench process (engine and harness, not the producer process) per command of the throughput phase (µs). */
  commandCpuUsPerCommand: number;
  /** Redis's own time in the engine's commit scripts per command of that phase (µs; INFO commandstats evalsha). */
  redisCommitUsPerCommand: number | null;
  /** Redis's whole CPU time per command of that phase (µs; INFO cpu): its commits, the reads, the producer's appends. */
  redisCpuUsPerCommand: number | null;
  /** Redis's main thread's CPU time per command of that phase (µs; INFO cpu): the one thread that runs every command. */
  redisMainThreadUsPerCommand: number | null;
  /**
   * Commands a second Redis alone could serve at that cost (10⁶ / `redisMainThreadUsPerCommand`): its commands run on
   * that one thread, so no engine, however cheap, gets more through this log. Set against the commands/s target in
   * `targets` (25 % of the ceiling): a bound below it means the target is out of reach on this machine's Redis.
   */
  commandsPerSecondRedisBound: number | null;
  /** Every process's CPU time on the machine per command of that phase (µs; /proc/stat): engine, Redis, harness. */
  machineCpuUsPerCommand: number | null;
  /**
   * Commands a second the machine's cores could carry at that CPU per command, were they never idle: the bound
   * `commandsPerSecond` approaches as the engine's wait for its commits is hidden, whatever the engine's code.
   */
  commandsPerSecondCpuBound: number | null;
  stopToFlattenP50Ms: number | null;
  stopToFlattenP99Ms: number | null;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  slowExchangeMs: number;
}

/** `count` stop-loss changes spread over the users, ids `tag:i` (the harness counts replies by tag). */
function stopLossCommands(tag: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({ id: `${tag}:${i}`, userId: `u${i % users}`, type: 'session.set_stoploss', pct: 1 + (i % 50) }),
  );
}

export async function engineRun(): Promise<EngineRunFigures> {
  const commandCount = knob('BENCH_COMMANDS', 5_000);
  const stopSamples = Math.min(knob('BENCH_STOPS', 20), users);
  const p = prefix('engine');
  const exchange = await startPaperExchangeProcess({ port: 0, seed: 9, priceStepMs: 100 });
  const engine = await startEngineUnderTest(exchange, p, { stopsOutOfReach: false });
  const harness = await openHarness(redisUrl, p);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  try {
    const userIds = Array.from({ length: users }, (_, u) => `u${u}`);
    await harness.appendAll(userIds.map((u) => JSON.stringify({ id: `start:${u}`, userId: u, type: 'session.start', mode: 'paper', capitalUsd: 10_000 })));
    await harness.waitForFinalReplies('start', users, phaseCapMs);

    // 1. Throughput, of a warm engine: an untimed flood first, so the figure is not the JIT's first pass over the
    // command path (5 000 cold commands measured 218 µs of CPU each, a warm engine ~80).
    await harness.appendAllElsewhere(stopLossCommands('warm', warmUpCommands));
    await harness.waitForFinalReplies('warm', warmUpCommands, phaseCapMs);
    // Appended by a process of its own, as producers append from processes of their own.
    const commands = stopLossCommands('sl', commandCount);
    const scriptsBefore = await harness.scriptMicros();
    const redisCpuBefore = await harness.redisCpuMicros();
    const redisMainBefore = await harness.redisMainThreadCpuMicros();
    const profile = await startPhaseProfile('commands');
    const machineBefore = machineCpuMicros();
    const cpuBefore = process.cpuUsage();
    const t0 = performance.now();
    await harness.appendAllElsewhere(commands);
    const answered = await harness.waitForFinalReplies('sl', commandCount, phaseCapMs);
    const commandsPerSecond = perSecond(answered, performance.now() - t0);
    const cpu = process.cpuUsage(cpuBefore);
    const machineAfter = machineCpuMicros();
    await profile.stop();
    const scriptsAfter = await harness.scriptMicros();
    const redisCpuAfter = await harness.redisCpuMicros();
    const redisMainAfter = await harness.redisMainThreadCpuMicros();
    // Where a command's time goes: the engine's process, or Redis running its commits (the other core).
    const commandCpuUsPerCommand = round1((cpu.user + cpu.system) / Math.max(1, answered));
    /** A counter's growth over the phase (µs) per command answered; null when either reading is missing. */
    const perCommand = (before: number | null, after: number | null): number | null =>
      before === null || after === null ? null : round1((after - before) / Math.max(1, answered));
    const redisCommitUsPerCommand = perCommand(scriptsBefore, scriptsAfter);
    const redisCpuUsPerCommand = perCommand(redisCpuBefore, redisCpuAfter);
    const redisMainThreadUsPerCommand = perCommand(redisMainBefore, redisMainAfter);
    const commandsPerSecondRedisBound =
      redisMainThreadUsPerCommand === null || redisMainThreadUsPerCommand <= 0 ? null : Math.round(1e6 / redisMainThreadUsPerCommand);
    const machineCpuUsPerCommand = perCommand(machineBefore, machineAfter);
    const commandsPerSecondCpuBound =
      machineCpuUsPerCommand === null || machineCpuUsPerCommand <= 0 ? null : Math.round((cpus().length * 1e6) / machineCpuUsPerCommand);

    // 2. Stop latency under a slow exchange.
    await exchange.setFaults({ forcePostOnlyReject: true });
    const stoppers = userIds.slice(0, stopSamples);
    await harness.append(
      JSON.stringify({ id: 'sig:fill', userId: 'signals', type: 'signals.route', userIds: stoppers, signals: [{ symbol: 'BTCUSDT', weight: 0.2 }] }),
    );
    const holds = (u: string): boolean => {
      const qty = dictGet(engine.service.engine.current.durable.sessions.get(u)?.positions ?? {}, 'BTCUSDT')?.qty;
      return qty !== undefined && !isZero(qty);
    };
    const deadline = Date.now() + phaseCapMs;
    while (!stoppers.every(holds) && Date.now() < deadline) await sleep(20);
    await exchange.setFaults({ forcePostOnlyReject: false, latencyMs: slowExchangeMs });
    await harness.append(
      JSON.stringify({
        id: 'sig:slow',
        userId: 'signals',
        type: 'signals.route',
        userIds: userIds.slice(stopSamples),
        signals: [
          { symbol: 'ETHUSDT', weight: 0.3 },
          { symbol: 'SOLUSDT', weight: 0.3 },
        ],
      }),
    );
    await sleep(200);
    const latencies: number[] = [];
    for (const u of stoppers.filter(holds)) {
      const key = paperCredentials(u).apiKey;
      const sentAt = Date.now();
      await harness.append(JSON.stringify({ id: `stop:${u}`, userId: u, type: 'session.stop' }));
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        const arrival = (await exchange.flattens([key], sentAt))[key];
        if (typeof arrival === 'number') {
          latencies.push(arrival - sentAt);
          break;
        }
        await sleep(5);
      }
    }
    latencies.sort((a, b) => a - b);
    return {
      commands: commandCount,
      commandsPerSecond,
      commandCpuUsPerCommand,
      redisCommitUsPerCommand,
      redisCpuUsPerCommand,
      redisMainThreadUsPerCommand,
      commandsPerSecondRedisBound,
      machineCpuUsPerCommand,
      commandsPerSecondCpuBound,
      stopToFlattenP50Ms: percentile(latencies, 50),
      stopToFlattenP99Ms: percentile(latencies, 99),
      eventLoopDelayP99Ms: round1(loop.percentile(99) / 1e6),
      eventLoopDelayMaxMs: round1(loop.max / 1e6),
      slowExchangeMs,
    };
  } finally {
    loop.disable();
    await exchange.setFaults({ latencyMs: 0 }).catch(() => undefined);
    await harness.close();
    await engine.stop();
    await exchange.close();
    await deletePrefix(p);
  }
}
