import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Input } from '../../src/core/decide.js';
import type { Engine } from '../../src/engine/engine.js';
import { boot } from '../../src/engine/boot.js';
import { ManualClock } from '../../src/engine/clock.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import type { CommitBatch } from '../../src/log/port.js';
import { btcFilters, T0 } from '../core/fixtures.js';
import { quietAccount } from '../support/quiet-account.js';

// Pipelined commits (engine.ts maxStepsCommitting): on a log that lands commits in the order they were called or not
// at all (EngineLog.ordersCommits, the Redis log's commit count), the engine decides and sends the next step while the
// one before it is still committing. A step whose predecessor failed fails too, and the engine goes on from the state
// it committed; a step that lands although its predecessor failed is fatal (the log then holds what the engine does not).

const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'] };
const account = quietAccount();

interface Held {
  batch: CommitBatch;
  resolve: (ids: string[]) => void;
  reject: (error: unknown) => void;
}

/** An engine on a memory log whose commits, once `hold` is on, wait until the test lands or refuses them, in order. */
async function gatedEngine(): Promise<{
  engine: Engine;
  held: Held[];
  land: () => Promise<void>;
  refuse: () => void;
  decided: string[];
  fatal: unknown[];
  deadLetters: () => Promise<string[]>;
}> {
  const clock = new ManualClock(T0);
  const log = openMemoryLog({ nowMs: () => clock.nowMs() });
  await log.init();
  const commitNow = log.commit.bind(log);
  const held: Held[] = [];
  let hold = false;
  log.commit = (batch) => (hold ? new Promise<string[]>((resolve, reject) => held.push({ batch, resolve, reject })) : commitNow(batch));
  Object.defineProperty(log, 'ordersCommits', { value: true });
  const decided: string[] = [];
  const fatal: unknown[] = [];
  const { engine } = await boot({
    log,
    config,
    clock,
    onEffects: () => undefined,
    onEngine: (created) =>
      created.observe((input) => decided.push(input.kind === 'command' ? input.delivery.entryId : input.kind), { stateOfEachDecision: false }),
    logger: pino({ level: 'silent' }),
    loadFilters: async () => ({ paper: { BTCUSDT: btcFilters } }),
    accountOf: () => account,
    onFatal: (error) => fatal.push(error),
    retry: { attempts: 1, readDelayMs: 0, sleep: async () => undefined },
  });
  decided.length = 0;
  hold = true;
  return {
    engine,
    held,
    decided,
    fatal,
    async land() {
      const next = held.shift();
      if (!next) throw new Error('no commit is held');
      next.resolve(await commitNow(next.batch));
    },
    refuse() {
      const next = held.shift();
      if (!next) throw new Error('no commit is held');
      next.reject(new Error('refused'));
    },
    async deadLetters() {
      return (await log.readDeadLetters(100)).map((d) => d.entryId);
    },
  };
}

/** A command that cannot be read: dead-lettered and answered, so its step writes (and commits). */
const unreadable = (entryId: string): Input => ({ kind: 'command', delivery: { entryId, raw: `not json ${entryId}`, deliveryCount: 1 } });

/** Lets the engine run until `held` has `count` commits waiting (each step is begun after a turn of the event loop). */
async function untilHeld(held: readonly Held[], count: number): Promise<void> {
  for (let turn = 0; turn < 50 && held.length < count; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  expect(held.length).toBe(count);
}

describe('pipelined commits', () => {
  it('sends the next step while the one before it commits, and adopts them in order', async () => {
    const { engine, held, land, decided, fatal } = await gatedEngine();
    const first = engine.submit(unreadable('1-1'));
    await untilHeld(held, 1);
    const second = engine.submit(unreadable('1-2'));
    // The second step's commit is on its way before the first one's has landed.
    await untilHeld(held, 2);
    expect(decided).toEqual([]);
    await land();
    await first;
    expect(decided).toEqual(['1-1']);
    await land();
    await second;
    expect(decided).toEqual(['1-1', '1-2']);
    expect(fatal).toEqual([]);
  });

  it('fails the step begun after a failed one, and goes on from the state it committed', async () => {
    const { engine, held, land, refuse, decided, fatal, deadLetters } = await gatedEngine();
    const first = engine.submit(unreadable('2-1'));
    await untilHeld(held, 1);
    const second = engine.submit(unreadable('2-2'));
    await untilHeld(held, 2);
    refuse(); // the first
    refuse(); // the second, sent with the first's state behind it: the log refuses it (out of order)
    await expect(first).rejects.toThrow('refused');
    await expect(second).rejects.toThrow('refused');
    expect(decided).toEqual([]);
    // Nothing of either is in the state: the second command, redelivered, is decided again from the committed state.
    const again = engine.submit(unreadable('2-2'));
    await untilHeld(held, 1);
    await land();
    await again;
    expect(decided).toEqual(['2-2']);
    expect(await deadLetters()).toEqual(['2-2']);
    expect(fatal).toEqual([]);
  });

  it('is fatal when a step lands although the one before it failed', async () => {
    const { engine, held, land, refuse, decided, fatal } = await gatedEngine();
    const first = engine.submit(unreadable('3-1'));
    await untilHeld(held, 1);
    const second = engine.submit(unreadable('3-2'));
    await untilHeld(held, 2);
    refuse();
    await land(); // a log that did not keep the order: the second step's events landed without the first's
    await expect(first).rejects.toThrow('refused');
    await expect(second).rejects.toThrow(/the log holds a step the engine does not/);
    expect(fatal).toHaveLength(1);
    expect(decided).toEqual([]);
  });
});
