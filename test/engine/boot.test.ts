import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { CoreConfig } from '../../src/core/config.js';
import type { Effect } from '../../src/core/outputs.js';
import type { BootOptions } from '../../src/engine/boot.js';
import { boot, startBoot } from '../../src/engine/boot.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { MemoryLog } from '../../src/log/memory-log.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { btcFilters, T0 } from '../core/fixtures.js';
import { quietAccount } from '../support/quiet-account.js';
import { logHolding } from '../support/paper-exchange.js';
import type { WalEvent } from '../../src/core/events.js';
import { toUsd } from '../../src/model/decimal.js';

// The kernel's boot(): the start-up path the execution service and the deterministic simulation share.
// Exchange reads are retried with the injected sleep (never the wall clock), an unreadable account is logged
// and skipped, and an order whose outcome is unknown is queried again, boundedly.

const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'] };

const account = quietAccount;

interface Booted {
  inputs: string[];
  sleeps: number[];
  effects: Effect[];
  errors: string[];
}

async function bootWith(
  log: MemoryLog,
  clock: ManualClock,
  accountOf: BootOptions['accountOf'],
  attempts = 3,
): Promise<Booted & Awaited<ReturnType<typeof boot>>> {
  const seen: Booted = { inputs: [], sleeps: [], effects: [], errors: [] };
  const logger = pino({ level: 'error' }, { write: (line: string) => void seen.errors.push((JSON.parse(line) as { msg: string }).msg) });
  const result = await boot({
    log,
    config,
    clock,
    logger,
    loadFilters: async () => ({ paper: { BTCUSDT: btcFilters } }),
    accountOf,
    onEffects: (d) => seen.effects.push(...d.effects),
    onFatal: (error) => {
      throw error;
    },
    onEngine: (engine) => engine.observe((input) => seen.inputs.push(input.kind)),
    retry: { attempts, readDelayMs: 300, sleep: async (ms) => void seen.sleeps.push(ms) },
  });
  return { ...seen, ...result };
}

/** A log holding one open session for u1 and, with `withOrder`, an entry planned but never answered. */
async function logWithSession(withOrder: boolean): Promise<{ log: MemoryLog; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const log = openMemoryLog({ nowMs: () => clock.nowMs() });
  await log.init();
  const { engine } = await bootWith(log, clock, () => account());
  await engine.submit({ kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 50_000, ask: 50_010, time: clock.nowMs() } });
  await log.appendCommand(JSON.stringify({ id: 'start-1', userId: 'u1', type: 'session.start', mode: 'paper', capitalUsd: 10_000 }));
  if (withOrder)
    await log.appendCommand(JSON.stringify({ id: 'sig-1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }));
  const deliveries = await log.readCommands('boot-test', 10, 0);
  await engine.submitBatch(deliveries.map((delivery) => ({ kind: 'command', delivery })));
  await engine.drain();
  return { log, clock };
}

/** startBoot on quiet accounts, retries 1 ms apart, with `extra` options on top. */
function startBootWith(log: MemoryLog, clock: ManualClock, extra: Partial<BootOptions> = {}) {
  return startBoot({
    log,
    config,
    clock,
    logger: pino({ level: 'silent' }),
    loadFilters: async () => ({ paper: { BTCUSDT: btcFilters } }),
    accountOf: () => account(),
    onEffects: () => undefined,
    onFatal: (error) => {
      throw error;
    },
    retry: { attempts: 3, readDelayMs: 300, sleep: async () => new Promise((resolve) => setTimeout(resolve, 1)) },
    ...extra,
  });
}

/** startBoot on quiet accounts with the given request budget (and reconcile concurrency). */
function startBootOnBudget(log: MemoryLog, clock: ManualClock, budget: BootOptions['budget'], reconcileConcurrency?: number) {
  return startBootWith(log, clock, { budget, ...(reconcileConcurrency !== undefined ? { reconcileConcurrency } : {}) });
}

describe('kernel boot()', () => {
  it('replays the log, then reads each open session with the injected retries', async () => {
    const { log, clock } = await logWithSession(false);
    let stopReads = 0;
    const flaky = account({
      listProtectiveStops: async () => {
        stopReads += 1;
        if (stopReads < 3) throw new Error('503');
        return [];
      },
    });
    const booted = await bootWith(log, clock, () => flaky);
    expect(booted.replay.replayedEvents).toBeGreaterThan(0);
    expect(booted.engine.current.durable.sessions.get('u1')?.status).toBe('active');
    expect(booted.inputs).toEqual(['boot', 'stops_listed', 'reconcile']);
    // Linear back-off through the injected sleep: 300 ms after the first failure, 600 ms after the second.
    expect(booted.sleeps).toEqual([300, 600]);
    expect(booted.errors).toEqual([]);
  });

  it('logs an account it cannot read and carries on with the replayed view', async () => {
    const { log, clock } = await logWithSession(false);
    const down = account({
      getPositions: async () => {
        throw new Error('503');
      },
    });
    const booted = await bootWith(log, clock, () => down);
    expect(booted.inputs).toEqual(['boot', 'stops_listed']);
    expect(booted.sleeps).toEqual([300, 600, 900]);
    expect(booted.errors).toHaveLength(1);
    expect(booted.engine.current.durable.sessions.get('u1')?.status).toBe('active');
  });

  it('marks a session ready before its account check at boot, which may wait for the budget (~77 weight a session)', async () => {
    const { log, clock } = await logWithSession(false);
    let release: (problems: string[]) => void = () => undefined;
    const checked = new Promise<string[]>((resolve) => {
      release = resolve;
    });
    const inputs: string[] = [];
    const started = await startBootWith(log, clock, {
      onEngine: (engine) => engine.observe((input) => inputs.push(input.kind)),
      recheckAccount: () => ({ weight: 77, run: () => checked }),
    });
    // The check hangs; a command for the session need not wait for it.
    await started.readiness.whenReady('u1', false);
    expect(inputs).not.toContain('account_rechecked');
    release(['the account is in hedge mode']);
    await started.reconciled;
    expect(inputs.at(-1)).toBe('account_rechecked');
    expect(started.engine.current.durable.sessions.get('u1')?.paused).toBe(true);
  });

  it('skips users without an account', async () => {
    const { log, clock } = await logWithSession(true);
    const booted = await bootWith(log, clock, () => null);
    expect(booted.inputs).toEqual(['boot']);
  });

  it('queries an order left unknown by its client order id, again while the answer stays unknown, boundedly', async () => {
    const { log, clock } = await logWithSession(true);
    const queried: string[] = [];
    const unreachable = account({
      queryOrder: async (_symbol, clientOrderId) => {
        queried.push(clientOrderId);
        return { kind: 'unknown', reason: 'timeout' };
      },
    });
    const booted = await bootWith(log, clock, () => unreachable, 3);
    expect(queried.length).toBe(3);
    expect(new Set(queried).size).toBe(1);
    expect(booted.inputs).toEqual(['boot', 'query_result', 'query_result', 'query_result', 'stops_listed', 'reconcile']);

    const { log: log2, clock: clock2 } = await logWithSession(true);
    let answers = 0;
    const answersSecondTime = account({
      queryOrder: async () => ((answers += 1) === 1 ? { kind: 'unknown', reason: 'timeout' } : { kind: 'not_found' }),
    });
    const again = await bootWith(log2, clock2, () => answersSecondTime, 3);
    expect(answers).toBe(2);
    expect(again.inputs.filter((k) => k === 'query_result')).toHaveLength(2);
  });

  it('reads a session a control command waits for on the priority lane while the normal lane is spent', async () => {
    const { log, clock } = await logWithSession(false);
    const lanes: string[] = [];
    // The normal lane stays refused (a fleet's periodic checks spent it); the priority lane admits.
    const budget = {
      admit: async (lane: 'priority' | 'normal') => {
        lanes.push(lane);
        return lane === 'priority' ? { ok: true as const } : { ok: false as const, reason: 'normal lane spent' };
      },
    };
    const started = await startBootOnBudget(log, clock, budget);
    expect(started.readiness.isReady('u1')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(started.readiness.isReady('u1')).toBe(false);
    await started.readiness.whenReady('u1', true);
    expect(lanes).toContain('priority');
    started.cancel();
    await started.reconciled;
  });

  it('starts the reads of a session a control command waits for while every worker waits for the normal lane', async () => {
    const clock = new ManualClock(T0);
    const session = (userId: string): WalEvent => ({
      type: 'session.started',
      userId,
      mode: 'paper',
      capitalUsd: toUsd(1_000),
      stopLossPct: null,
      horizonDeadlineMs: null,
      atMs: T0,
    });
    const log = await logHolding(clock, [{ type: 'engine.initialized', epoch: 'urgent' }, session('u1'), session('u2')]);
    const budget = {
      admit: async (lane: 'priority' | 'normal') => (lane === 'priority' ? { ok: true as const } : { ok: false as const, reason: 'normal lane spent' }),
    };
    const started = await startBootOnBudget(log, clock, budget, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The one worker holds u1, waiting for the normal lane; a stop for u2 must not wait for it.
    await started.readiness.whenReady('u2', true);
    expect(started.readiness.isReady('u1')).toBe(false);
    await started.readiness.whenReady('u1', true);
    await started.reconciled;
  });
});
