import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import { defaultCoreConfig } from '../src/core/config.js';
import { parseOutboundEvent } from '../src/contract/outbound.js';
import { streamNames } from '../src/log/port.js';
import { openRedisLog } from '../src/log/redis-log.js';
import { replayLog } from '../src/engine/engine.js';
import { startSimulator } from '../src/paper-exchange/server.js';
import { eq, toQty, zero } from '../src/model/decimal.js';

// `npm run chaos`: real processes, real faults. A Redis of our own (AOF, fsync always), the simulator, and
// the execution service as a child process. A driver appends thousands of commands and signals while the
// execution service is SIGKILLed at random moments, and Redis itself is killed and restarted from its AOF
// once. At the end: every command has exactly one result, the exchange saw no client order id twice and
// nothing the WAL did not plan, and the state the service rebuilt equals a from-scratch replay.
// Prints one summary line; exit code 1 on any violation.

const root = fileURLToPath(new URL('..', import.meta.url));
const port = Number(process.env.CHAOS_REDIS_PORT ?? 6391);
const redisUrl = `redis://127.0.0.1:${port}`;
const commandCount = Number(process.env.CHAOS_COMMANDS ?? 3_000);
/** Snapshot part size for the execution service (characters): its snapshots, a few kB, go in tens of parts. */
const snapshotPartChars = Number(process.env.CHAOS_SNAPSHOT_PART_CHARS ?? 1_024);
const users = Array.from({ length: 10 }, (_, i) => `chaos-${i}`);
let seed = Number(process.env.CHAOS_SEED ?? 1);
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};

const redisDir = mkdtempSync(join(tmpdir(), 'qe-chaos-redis-'));
async function startRedis(): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', redisDir],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i += 1) {
    const c = createClient({ url: redisUrl, disableOfflineQueue: true });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.ping();
      c.destroy();
      return child;
    } catch {
      c.destroy();
      await sleep(50);
    }
  }
  throw new Error('redis did not start');
}

function startExecution(sim: { restBaseUrl: string; wsBaseUrl: string }): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/main.ts',
      'execution',
      '--redis-url',
      redisUrl,
      '--exchange-url',
      sim.restBaseUrl,
      '--exchange-ws-url',
      sim.wsBaseUrl,
      '--reclaim-idle-ms',
      '1000',
      '--watchdog-period-ms',
      '250',
      // Every snapshot a save of many parts, so kills also land between a save's parts (src/log/redis-commit.ts).
      '--snapshot-part-chars',
      String(snapshotPartChars),
    ],
    {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: process.env.CHAOS_DEBUG ? 'warn' : 'fatal' },
      stdio: ['ignore', 'pipe', process.env.CHAOS_DEBUG ? 'inherit' : 'ignore'],
    },
  );
  child.stdout?.on('data', () => undefined); // keep the pipe drained so the child never blocks on stdout
  return child;
}

async function waitForReady(child: ChildProcess): Promise<void> {
  // The service prints {"ready":true} on stdout once it has replayed and reconciled.
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"ready":true')) resolve();
    });
    child.once('exit', () => reject(new Error('execution exited before ready')));
  });
}

async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

function command(i: number): Record<string, unknown> {
  const userId = users[i % users.length] ?? 'chaos-0';
  const id = `chaos-${i}`;
  const r = random();
  if (i < users.length) return { id, userId, type: 'session.start', mode: 'paper', capitalUsd: 20_000, stopLossPct: 20 };
  if (r < 0.5)
    return {
      id,
      userId: 'signals',
      type: 'signals.route',
      signals: [{ symbol: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'][Math.floor(random() * 3)], weight: Math.round((random() * 2 - 1) * 50) / 100 }],
    };
  if (r < 0.7) return { id, userId, type: 'session.set_stoploss', pct: 10 + Math.floor(random() * 20) };
  if (r < 0.8) return { id, userId, type: random() < 0.5 ? 'session.pause' : 'session.resume' };
  return { id, userId, type: 'status' };
}

async function main(): Promise<void> {
  let redis = await startRedis();
  const sim = await startSimulator({ port: 0, seed: 99, priceStepMs: 100 });
  const log = await openRedisLog({ url: redisUrl });
  await log.init();
  let execution = startExecution(sim);
  let kills = 0;
  let redisRestarts = 0;

  // Appends survive a Redis restart by retrying; a retry that duplicates an append is harmless (same id).
  const append = async (c: Record<string, unknown>): Promise<void> => {
    for (;;) {
      try {
        await log.appendCommand(JSON.stringify(c));
        return;
      } catch {
        await sleep(100);
      }
    }
  };

  for (let i = 0; i < commandCount; i += 1) {
    await append(command(i));
    if (i % 50 === 0) await sleep(20);
    if (random() < 0.004) {
      await kill(execution);
      kills += 1;
      await sleep(random() * 300);
      execution = startExecution(sim);
    }
    if (i === Math.floor(commandCount / 2)) {
      await kill(redis);
      redisRestarts += 1;
      await sleep(200);
      redis = await startRedis();
    }
  }

  // Everything answered exactly once.
  const ids = Array.from({ length: commandCount }, (_, i) => `chaos-${i}`);
  const deadline = Date.now() + 180_000;
  let finals = new Map<string, number>();
  while (Date.now() < deadline) {
    finals = new Map();
    try {
      for (const r of await log.tailOutbound('0', 1_000_000, 1)) {
        const parsed = parseOutboundEvent(r.data);
        if (!parsed.ok) continue;
        const e = parsed.event;
        if (e.type === 'reply' && e.status !== 'accepted') finals.set(e.commandId, (finals.get(e.commandId) ?? 0) + 1);
        if (process.env.CHAOS_DEBUG && e.type === 'reply' && e.commandType === 'signals.route')
          process.stderr.write(`${JSON.stringify(e.result ?? e.reason)}\n`);
      }
    } catch {
      // Redis reconnecting
    }
    if (ids.every((id) => finals.has(id))) break;
    await sleep(500);
  }
  // Freeze prices so resting orders stop filling, let the last answers land, then stop the service
  // gracefully and compare its view (the replay) with the exchange.
  sim.pausePriceProcess(true);
  await sleep(1_000);
  const ordersBeforeFinalRestart = sim.orders().length;
  // One last restart: boot reconciliation settles every order whose answer was lost with a killed process.
  await kill(execution);
  execution = startExecution(sim);
  await waitForReady(execution);
  await sleep(2_000);
  await kill(execution, 'SIGTERM');
  const replay = await replayLog(log, defaultCoreConfig);
  const exchangeIds = sim.orders().map((o) => o.clientOrderId);
  const planned = new Set(replay.durable.orders.keys());
  const lost = ids.filter((id) => !finals.has(id));
  const twice = [...finals.entries()].filter(([, n]) => n !== 1).map(([id]) => id);
  const duplicateOrders = exchangeIds.length - new Set(exchangeIds).size;
  // Terminal orders are pruned from state after maxTerminalOrdersKept; only the retained ones can be checked.
  const unplanned = exchangeIds.filter((id) => !planned.has(id)).length;
  const positionsMismatch = users.filter((u) => {
    const s = replay.durable.sessions.get(u);
    return ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'].some((sym) => !eq(s?.positions[sym]?.qty ?? zero, toQty(sim.position(`paper-${u}`, sym)))); // the simulator's number is its exact decimal's shortest form
  });
  // The snapshot the service left, in parts (the part size above), and staging hashes of saves a kill cut short.
  const raw = createClient({ url: redisUrl });
  await raw.connect();
  const snapshotParts = Number((await raw.hGet(streamNames.snapshot, 'parts')) ?? 0);
  const unfinishedSnapshotSaves = (await raw.keys(`${streamNames.snapshot}:staging:*`)).length;
  await raw.close();
  const summary = {
    commands: commandCount,
    answered: finals.size,
    lost: lost.length,
    answeredTwice: twice.length,
    executionKills: kills,
    redisRestarts,
    exchangeOrders: exchangeIds.length,
    exchangeOrdersBeforeFinalRestart: ordersBeforeFinalRestart,
    duplicateClientOrderIds: duplicateOrders,
    ordersNotInState: unplanned,
    positionMismatches: positionsMismatch,
    replayedEvents: replay.replayedEvents,
    snapshotParts,
    unfinishedSnapshotSaves,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  await log.close();
  await sim.close();
  await kill(redis);
  rmSync(redisDir, { recursive: true, force: true });
  const ok = lost.length === 0 && twice.length === 0 && duplicateOrders === 0 && positionsMismatch.length === 0;
  process.exit(ok ? 0 : 1);
}

await main();
