import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createClient } from '@redis/client';
import { defaultCoreConfig } from '../src/core/config.js';
import type { WalEvent } from '../src/core/events.js';
import { createBinanceConnector } from '../src/exchange/binance/connector.js';
import type { EngineLog } from '../src/log/port.js';
import { deleteKeysWithPrefix } from '../src/log/redis-keys.js';
import { openRedisLog } from '../src/log/redis-log.js';
import { paperCredentials } from '../src/engine/accounts.js';
import { isZero, zero } from '../src/model/decimal.js';
import { replayLog } from '../src/engine/engine.js';
import { startExecutionService } from '../src/services/execution/service.js';
import { runSeed } from '../src/deterministic-sim/run-seed.js';
import { startSimulator } from '../src/paper-exchange/server.js';
import { silentLogger } from '../src/util/logger.js';

// `npm run bench`: one JSON object with the engine's throughput and latency figures, measured against the
// local Redis and the simulator, next to the raw XADD rate of the same Redis as the ceiling.

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const commandCount = Number(process.env.BENCH_COMMANDS ?? 5_000);
const stopSamples = Number(process.env.BENCH_STOPS ?? 20);
const replayEvents = Number(process.env.BENCH_WAL_EVENTS ?? 50_000);
const simSeeds = Number(process.env.BENCH_SIM_SEEDS ?? 2_000);
const slowExchangeMs = 1_000;

function prefix(label: string): string {
  return `bench:${label}:${Date.now().toString(36)}:`;
}

function deletePrefix(p: string): Promise<void> {
  return deleteKeysWithPrefix(redisUrl, p);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function xaddCeiling(): Promise<{ sequentialPerSecond: number; pipelinedPerSecond: number }> {
  const client = createClient({ url: redisUrl, disableOfflineQueue: true });
  await client.connect();
  const key = `${prefix('xadd')}stream`;
  const n = 5_000;
  const payload = JSON.stringify({ id: 'x', userId: 'u', type: 'status' });
  let t = performance.now();
  for (let i = 0; i < n; i += 1) await client.xAdd(key, '*', { data: payload });
  const sequentialPerSecond = n / ((performance.now() - t) / 1000);
  t = performance.now();
  await Promise.all(Array.from({ length: n }, () => client.xAdd(key, '*', { data: payload })));
  const pipelinedPerSecond = n / ((performance.now() - t) / 1000);
  await client.del(key);
  client.destroy();
  return { sequentialPerSecond: Math.round(sequentialPerSecond), pipelinedPerSecond: Math.round(pipelinedPerSecond) };
}

/**
 * Counts final replies on the outbound stream. The bench shares the engine's event loop, so it reads only the
 * two fields it counts by: a full contract parse of every reply would be charged to the engine's throughput.
 */
async function countFinalReplies(log: EngineLog, after: string): Promise<{ count: number; last: string }> {
  let count = 0;
  let cursor = after;
  for (;;) {
    const batch = await log.tailOutbound(cursor, 1000, 1);
    if (batch.length === 0) break;
    for (const r of batch) {
      if (isFinalReply(JSON.parse(r.data))) count += 1;
    }
    cursor = batch[batch.length - 1]?.id ?? cursor;
  }
  return { count, last: cursor };
}

function isFinalReply(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'type' in value && value.type === 'reply' && 'status' in value && value.status !== 'accepted';
}

async function engineRun(): Promise<Record<string, number>> {
  const sim = await startSimulator({ port: 0, seed: 9, priceStepMs: 100 });
  const p = prefix('engine');
  const log = await openRedisLog({ url: redisUrl, prefix: p });
  const connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 10_000 });
  const marketData = connector.marketData();
  const service = await startExecutionService({
    log,
    paper: connector,
    marketData: { paper: marketData },
    config: defaultCoreConfig,
    logger: silentLogger(),
    watchdogPeriodMs: 1_000,
    commandBlockMs: 50,
  });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  // 1. Throughput: commands appended to Redis → decided → WAL + reply committed → acked.
  const users = 50;
  let cursor = await log.lastOutboundId();
  for (let u = 0; u < users; u += 1)
    await log.appendCommand(JSON.stringify({ id: `start-${u}`, userId: `u${u}`, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }));
  let seen = 0;
  while (seen < users) {
    const r = await countFinalReplies(log, cursor);
    seen += r.count;
    cursor = r.last;
    await new Promise((res) => setTimeout(res, 20));
  }
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: commandCount }, (_, i) =>
      log.appendCommand(JSON.stringify({ id: `sl-${i}`, userId: `u${i % users}`, type: 'session.set_stoploss', pct: 1 + (i % 50) })),
    ),
  );
  seen = 0;
  while (seen < commandCount) {
    const r = await countFinalReplies(log, cursor);
    seen += r.count;
    cursor = r.last;
    if (r.count === 0) await new Promise((res) => setTimeout(res, 5));
  }
  const commandsPerSecond = commandCount / ((performance.now() - t0) / 1000);

  // 2. Stop latency under a slow exchange: each stopping user holds a position; other users' entries are
  //    stuck in flight for slowExchangeMs. Latency = append of session.stop → flatten order at the exchange.
  sim.faults.forcePostOnlyReject = true;
  const stoppers = Array.from({ length: stopSamples }, (_, i) => `u${i}`);
  await log.appendCommand(
    JSON.stringify({ id: 'sig-fill', userId: 'signals', type: 'signals.route', userIds: stoppers, signals: [{ symbol: 'BTCUSDT', weight: 0.2 }] }),
  );
  for (;;) {
    if (
      stoppers.every((u) => sim.position(paperCredentials(u).apiKey, 'BTCUSDT') !== 0) &&
      stoppers.every((u) => !isZero(service.engine.current.durable.sessions[u]?.positions.BTCUSDT?.qty ?? zero))
    )
      break;
    await new Promise((res) => setTimeout(res, 20));
  }
  sim.faults.forcePostOnlyReject = false;
  sim.faults.latencyMs = slowExchangeMs;
  const busy = Array.from({ length: users - stopSamples }, (_, i) => `u${i + stopSamples}`);
  await log.appendCommand(
    JSON.stringify({
      id: 'sig-slow',
      userId: 'signals',
      type: 'signals.route',
      userIds: busy,
      signals: [
        { symbol: 'ETHUSDT', weight: 0.3 },
        { symbol: 'SOLUSDT', weight: 0.3 },
      ],
    }),
  );
  await new Promise((res) => setTimeout(res, 200));
  const latencies: number[] = [];
  for (const u of stoppers) {
    const sentAt = Date.now();
    await log.appendCommand(JSON.stringify({ id: `stop-${u}`, userId: u, type: 'session.stop' }));
    for (;;) {
      const flatten = sim.orders().find((o) => o.accountKey === paperCredentials(u).apiKey && o.type === 'MARKET' && o.reduceOnly);
      if (flatten) {
        latencies.push(flatten.receivedAt - sentAt);
        break;
      }
      await new Promise((res) => setTimeout(res, 1));
    }
  }
  latencies.sort((a, b) => a - b);
  loop.disable();
  sim.faults.latencyMs = 0;
  await service.stop();
  await marketData.close();
  await log.close();
  await sim.close();
  await deletePrefix(p);
  return {
    commandsPerSecond: Math.round(commandsPerSecond),
    stopToFlattenP50Ms: percentile(latencies, 50),
    stopToFlattenP99Ms: percentile(latencies, 99),
    eventLoopDelayP99Ms: Math.round((loop.percentile(99) / 1e6) * 10) / 10,
    eventLoopDelayMaxMs: Math.round((loop.max / 1e6) * 10) / 10,
  };
}

async function replayRun(): Promise<Record<string, number>> {
  const p = prefix('replay');
  const log = await openRedisLog({ url: redisUrl, prefix: p });
  await log.init();
  const batch = 500;
  for (let i = 0; i < replayEvents; i += batch) {
    const wal: string[] = [];
    for (let j = 0; j < batch; j += 1) {
      const e: WalEvent = {
        type: 'command.processed',
        commandId: `c-${i + j}`,
        userId: 'u',
        commandType: 'status',
        outcome: 'accepted',
        reason: null,
        atMs: i + j,
      };
      wal.push(JSON.stringify(e));
    }
    await log.commit({ wal, outbound: [], ack: [], deadLetters: [] });
  }
  const t = performance.now();
  const result = await replayLog(log, defaultCoreConfig);
  const seconds = (performance.now() - t) / 1000;
  await log.close();
  await deletePrefix(p);
  return { walReplayEventsPerSecond: Math.round(result.replayedEvents / seconds), walReplayedEvents: result.replayedEvents };
}

async function simulationRun(): Promise<Record<string, number>> {
  const t = performance.now();
  let failed = 0;
  for (let seed = 1; seed <= simSeeds; seed += 1) if (!(await runSeed(seed)).ok) failed += 1;
  return {
    simulationSeeds: simSeeds,
    simulationFailedSeeds: failed,
    simulationSeedsPerSecond: Math.round((simSeeds / ((performance.now() - t) / 1000)) * 10) / 10,
  };
}

const ceiling = await xaddCeiling();
const engine = await engineRun();
const replay = await replayRun();
const simulation = await simulationRun();
process.stdout.write(
  `${JSON.stringify({
    commands: commandCount,
    ...engine,
    ...replay,
    ...simulation,
    redisXaddSequentialPerSecond: ceiling.sequentialPerSecond,
    redisXaddPipelinedPerSecond: ceiling.pipelinedPerSecond,
    slowExchangeMs,
    node: process.version,
  })}\n`,
);
