import { ClientOfflineError, createClient } from '@redis/client';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Input } from '../../src/core/decide.js';
import type { Effect } from '../../src/core/outputs.js';
import { serializeSnapshot } from '../../src/contract/snapshot.js';
import { boot } from '../../src/engine/boot.js';
import { commitOutcomeReadEveryMs } from '../../src/engine/commit-outcome.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { Engine, EngineLimits } from '../../src/engine/engine.js';
import { replayLog } from '../../src/engine/engine.js';
import { partitionKeys } from '../../src/log/partition.js';
import type { EngineLog } from '../../src/log/port.js';
import { CommitOutcomeUnknownError } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import { btcFilters, T0 } from '../core/fixtures.js';
import { quietAccount } from '../support/quiet-account.js';
import type { CutProxy } from '../support/redis-cut-proxy.js';
import { logsBehindCutProxy } from '../support/redis-cut-proxy.js';
import { redisUrl } from '../support/redis.js';

// A commit whose answer is lost: Redis ran the commit script, then the connection broke before its reply reached the
// engine (a proxy cuts it, test/support/redis-cut-proxy.ts). The engine used to take that for a refused commit and go
// on without the step its WAL holds: the route's order never sent, and the next boot trading on another state. It now
// reads the WAL after its last id: the step found there is adopted (its order sent once), nothing there fails as
// before, anything else stops the engine (onFatal).

const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'] };
/** No snapshot during a test: the WAL holds every step. */
const limits: EngineLimits = { snapshotEveryWalEvents: 1_000_000, replayBatchEntries: 1_000, commitOutcomeResolveMs: 1_500 };

interface Rig {
  proxy: CutProxy;
  prefix: string;
  /** The engine's log, through the proxy. */
  log: EngineLog;
  /** The same log straight to Redis (what the next boot would read). */
  direct: EngineLog;
  engine: Engine;
  effects: Effect[];
  fatal: unknown[];
  /** Appends commands and hands what the engine's consumer reads to the engine as one batch; 'committed' or the error. */
  send: (...commands: object[]) => Promise<unknown>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** An engine on Redis through the proxy, with a quote and u1's open session committed. */
async function rig(): Promise<Rig> {
  const logs = await logsBehindCutProxy('lost-answer');
  cleanups.push(() => logs.close());
  const { proxy, prefix, log, direct } = logs;
  const clock = new ManualClock(T0);
  const effects: Effect[] = [];
  const fatal: unknown[] = [];
  const { engine } = await boot({
    log,
    config,
    clock,
    logger: pino({ level: 'silent' }),
    limits,
    loadFilters: async () => ({ paper: { BTCUSDT: btcFilters } }),
    accountOf: () => quietAccount(),
    onEffects: (decision) => effects.push(...decision.effects),
    onFatal: (error) => fatal.push(error),
    retry: { attempts: 1, readDelayMs: 0, sleep: async () => undefined },
  });
  await engine.submit({ kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 50_000, ask: 50_010, time: clock.nowMs() } });
  const send = async (...commands: object[]): Promise<unknown> => {
    for (const command of commands) await direct.appendCommand(JSON.stringify(command));
    const deliveries = await direct.readCommands('exec-test', 100, 100);
    return engine.submitBatch(deliveries.map((delivery): Input => ({ kind: 'command', delivery }))).then(
      () => 'committed',
      (error: unknown) => error,
    );
  };
  expect(await send({ id: 'start-1', userId: 'u1', type: 'session.start', mode: 'paper', capitalUsd: 10_000 })).toBe('committed');
  return { proxy, prefix, log, direct, engine, effects, fatal, send };
}

const route = { id: 'route-1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] };

const places = (effects: Effect[]): Effect[] => effects.filter((e) => e.kind === 'place');

/** The durable state the next boot would rebuild from the log, as snapshot text. */
async function replayed(r: Rig): Promise<string> {
  return serializeSnapshot((await replayLog(r.direct, config, limits)).durable);
}

async function replayedOrders(r: Rig): Promise<number> {
  return (await replayLog(r.direct, config, limits)).durable.orders.size;
}

async function walLength(r: Rig): Promise<number> {
  return (await r.direct.readWal(null, 100_000)).length;
}

describe('a commit whose answer is lost', () => {
  it('that landed: the step the WAL holds is adopted, its order sent once, and the state is what replay makes', async () => {
    const r = await rig();
    const cut = r.proxy.armCut();
    const outcome = await r.send(route);
    await cut;
    expect(r.proxy.cuts).toBe(1);
    // The next boot's state has the route's order...
    expect(await replayedOrders(r)).toBe(1);
    // ...and so has the engine's, which sent it, once.
    expect(serializeSnapshot(r.engine.current.durable)).toBe(await replayed(r));
    expect(outcome).toBe('committed');
    expect(places(r.effects)).toHaveLength(1);
    expect(r.fatal).toEqual([]);
    expect(await r.direct.pendingCommandCount()).toBe(0); // acknowledged in the step: never delivered again
    // The engine goes on from there: the next step's WAL follows it, and replay still agrees.
    await r.engine.submit({ kind: 'timer' });
    expect(serializeSnapshot(r.engine.current.durable)).toBe(await replayed(r));
    expect(places(r.effects)).toHaveLength(1);
  });

  it('that did not land: the step fails as a refused commit does, and its command is decided again once', async () => {
    const r = await rig();
    const before = serializeSnapshot(r.engine.current.durable);
    const walBefore = await walLength(r);
    const cut = r.proxy.armCut({ reachRedis: false });
    const outcome = await r.send(route);
    await cut;
    expect(outcome).toBeInstanceOf(CommitOutcomeUnknownError);
    expect(serializeSnapshot(r.engine.current.durable)).toBe(before);
    expect(await walLength(r)).toBe(walBefore);
    expect(places(r.effects)).toEqual([]);
    expect(r.fatal).toEqual([]);
    // Still pending: redelivered (here claimed again at once), decided and committed, its order sent once.
    expect(await r.direct.pendingCommandCount()).toBe(1);
    const reclaimed = await openRedisLog({ url: redisUrl, prefix: r.prefix, limits: { reclaimIdleMs: 0 } });
    try {
      const deliveries = await reclaimed.reclaimStaleCommands('exec-test', 10);
      expect(deliveries.map((d) => JSON.parse(d.raw) as { id: string }).map((c) => c.id)).toEqual(['route-1']);
      await r.engine.submitBatch(deliveries.map((delivery): Input => ({ kind: 'command', delivery })));
    } finally {
      await reclaimed.close();
    }
    expect(places(r.effects)).toHaveLength(1);
    expect(serializeSnapshot(r.engine.current.durable)).toBe(await replayed(r));
  });

  it('of a step that wrote no WAL event: it fails as a refused commit does, without reading the WAL', async () => {
    const r = await rig();
    const before = serializeSnapshot(r.engine.current.durable);
    // The start again under the same id: acknowledged, not decided again (no WAL event, nothing answered).
    const cut = r.proxy.armCut();
    const outcome = await r.send({ id: 'start-1', userId: 'u1', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    await cut;
    expect(r.proxy.cuts).toBe(1);
    expect(outcome).toBeInstanceOf(CommitOutcomeUnknownError);
    expect(serializeSnapshot(r.engine.current.durable)).toBe(before);
    expect(await replayed(r)).toBe(before);
    expect(r.fatal).toEqual([]);
  });

  it('with something else in the WAL after the step: onFatal, and the engine decides nothing more', async () => {
    const r = await rig();
    const walKey = partitionKeys(r.prefix, undefined).wal;
    const writer = createClient({ url: redisUrl });
    await writer.connect();
    try {
      // Another writer's record lands after the step's, before the engine can read.
      const cut = r.proxy.armCut({ beforeCut: async () => void (await writer.xAdd(walKey, '*', { data: '{"type":"someone.else"}' })) });
      const outcome = await r.send(route);
      await cut;
      expect(r.fatal).toHaveLength(1);
      expect(String(r.fatal[0])).toContain("commit's outcome cannot be told");
      expect(outcome).toBe(r.fatal[0]);
    } finally {
      await writer.close();
    }
    expect(places(r.effects)).toEqual([]);
    await expect(r.engine.submit({ kind: 'timer' })).rejects.toBe(r.fatal[0]);
  });

  it('with the log unreachable for longer than commitOutcomeResolveMs: onFatal', async () => {
    const r = await rig();
    const cut = r.proxy.armCut({ beforeCut: async () => r.proxy.refuseConnections(true) });
    const startedAt = performance.now();
    const outcome = await r.send(route);
    await cut;
    // Read again every commitOutcomeReadEveryMs until the bound (less than one wait) is spent.
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual((limits.commitOutcomeResolveMs ?? 0) - commitOutcomeReadEveryMs);
    expect(r.fatal).toHaveLength(1);
    expect(String(r.fatal[0])).toContain('could not be read within');
    expect(outcome).toBe(r.fatal[0]);
    expect(places(r.effects)).toEqual([]);
    r.proxy.refuseConnections(false);
  });
});

describe('a commit Redis refuses', () => {
  it('leaves the state, the WAL and the command as they were, without reading the WAL or onFatal', async () => {
    const r = await rig();
    const before = serializeSnapshot(r.engine.current.durable);
    const walBefore = await walLength(r);
    const deadLetters = partitionKeys(r.prefix, undefined).deadLetters;
    const writer = createClient({ url: redisUrl });
    await writer.connect();
    try {
      await writer.set(deadLetters, 'not a stream'); // the script refuses before its first write (WRONGTYPE)
      const outcome = await r.send(route);
      expect(String(outcome)).toContain('WRONGTYPE');
      expect(outcome).not.toBeInstanceOf(CommitOutcomeUnknownError);
    } finally {
      await writer.del(deadLetters);
      await writer.close();
    }
    expect(serializeSnapshot(r.engine.current.durable)).toBe(before);
    expect(await walLength(r)).toBe(walBefore);
    expect(await r.direct.pendingCommandCount()).toBe(1);
    expect(places(r.effects)).toEqual([]);
    expect(r.fatal).toEqual([]);
  });

  it('issued while the client is offline (never sent): fails at once, without reading the WAL or onFatal', async () => {
    const r = await rig();
    const before = serializeSnapshot(r.engine.current.durable);
    r.proxy.refuseConnections(true);
    r.proxy.dropConnections();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the client has seen its connection close
    const startedAt = performance.now();
    const outcome = await r.send(route);
    expect(outcome).toBeInstanceOf(ClientOfflineError);
    expect(performance.now() - startedAt).toBeLessThan(commitOutcomeReadEveryMs);
    r.proxy.refuseConnections(false);
    expect(serializeSnapshot(r.engine.current.durable)).toBe(before);
    expect(await replayed(r)).toBe(before);
    expect(places(r.effects)).toEqual([]);
    expect(r.fatal).toEqual([]);
  });
});
