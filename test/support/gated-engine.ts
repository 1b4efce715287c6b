import { expect } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Input } from '../../src/core/decide.js';
import type { Engine } from '../../src/engine/engine.js';
import { ManualClock } from '../../src/engine/clock.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import type { CommitBatch } from '../../src/log/port.js';
import { T0 } from '../core/fixtures.js';
import { bootBtcEngine } from './btc-engine.js';

// An engine (bootBtcEngine's) on a memory log whose commits, once booted, wait until the test lands them, in order: an
// engine whose log is slow, driven one commit at a time.

const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'] };

export interface HeldCommit {
  batch: CommitBatch;
  resolve: (ids: string[]) => void;
  /** Fails the commit (the log refused it). */
  reject: (error: Error) => void;
}

export interface GatedEngine {
  engine: Engine;
  /** Commits sent and not yet landed, oldest first. */
  held: HeldCommit[];
  /** Lands the oldest held commit. */
  land(): Promise<void>;
  /** What the engine adopted, in order: a command's entry id, else the input's kind. */
  decided: string[];
}

export async function gatedEngine(): Promise<GatedEngine> {
  const clock = new ManualClock(T0);
  const log = openMemoryLog({ nowMs: () => clock.nowMs() });
  await log.init();
  const commitNow = log.commit.bind(log);
  const held: HeldCommit[] = [];
  let hold = false;
  log.commit = (batch) => (hold ? new Promise<string[]>((resolve, reject) => held.push({ batch, resolve, reject })) : commitNow(batch));
  const decided: string[] = [];
  const engine = await bootBtcEngine({
    log,
    config,
    clock,
    onEffects: () => undefined,
    onEngine: (created) =>
      created.observe((input) => decided.push(input.kind === 'command' ? input.delivery.entryId : input.kind), { stateOfEachDecision: false }),
  });
  decided.length = 0;
  hold = true;
  return {
    engine,
    held,
    decided,
    async land() {
      const next = held.shift();
      if (!next) throw new Error('no commit is held');
      next.resolve(await commitNow(next.batch));
    },
  };
}

/** A command that cannot be read: dead-lettered and answered, so its step writes (and commits). */
export const unreadable = (entryId: string): Input => ({ kind: 'command', delivery: { entryId, raw: `not json ${entryId}`, deliveryCount: 1 } });

/** Lets the engine run until `held` has `count` commits waiting (a step may begin a turn of the event loop later). */
export async function untilHeld(held: readonly HeldCommit[], count: number): Promise<void> {
  for (let turn = 0; turn < 50 && held.length < count; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  expect(held.length).toBe(count);
}
