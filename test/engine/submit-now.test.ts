import { describe, expect, it } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Input } from '../../src/core/decide.js';
import { quoteOf } from '../../src/core/venues.js';
import type { Engine } from '../../src/engine/engine.js';
import { committedAtOnce } from '../../src/engine/engine.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { MemoryLog } from '../../src/log/memory-log.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { T0 } from '../core/fixtures.js';
import { bootBtcEngine } from '../support/btc-engine.js';

// Engine.submitNow (the backtest's way in, src/backtest/venue.ts): a batch that writes nothing is decided and
// adopted at once, with no log commit and no promise; one that writes is committed as the running step, or at once
// by a log that can (the memory log's commitNow); while a step runs, the batch queues behind it as submitBatch's
// would. Either way each input is decided once, in order.

const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'] };

/** `atOnce`: the memory log as it is (it commits at once); else a log that answers a commit after a round trip. */
async function engineWithCounters(atOnce = false): Promise<{ engine: Engine; decided: string[]; commits: () => number }> {
  const clock = new ManualClock(T0);
  const memory = openMemoryLog({ nowMs: () => clock.nowMs() });
  let commits = 0;
  const { commitNow, ...withoutCommitNow } = memory;
  const log: MemoryLog = atOnce
    ? {
        ...memory,
        commitNow: (batch) => {
          commits += 1;
          return (commitNow as NonNullable<typeof commitNow>)(batch);
        },
      }
    : {
        ...withoutCommitNow,
        commit: async (batch) => {
          commits += 1;
          // A real log answers after a round trip: the event loop turns while a step commits.
          await new Promise((resolve) => setImmediate(resolve));
          return memory.commit(batch);
        },
      };
  await log.init();
  const decided: string[] = [];
  const engine = await bootBtcEngine({
    log,
    config,
    clock,
    onEffects: () => undefined,
    onEngine: (created) => created.observe((input) => decided.push(input.kind), { stateOfEachDecision: false }),
  });
  await engine.submit({ kind: 'feed_started', venue: 'paper', symbols: ['BTCUSDT'] });
  decided.length = 0;
  return { engine, decided, commits: () => commits };
}

const tick: Input = { kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 50_000, ask: 50_010, time: T0 } };
/** A command that cannot be read: dead-lettered and answered (it writes, so its step commits). */
const unreadable: Input = { kind: 'command', delivery: { entryId: '1-0', raw: 'not json', deliveryCount: 1 } };

describe('Engine.submitNow', () => {
  it('decides a batch that writes nothing at once: no promise, no commit, the state and observers up to date', async () => {
    const { engine, decided, commits } = await engineWithCounters();
    const before = commits();
    expect(engine.submitNow([tick, { kind: 'timer' }])).toBeNull();
    expect(decided).toEqual(['tick', 'timer']);
    expect(commits()).toBe(before);
    expect(quoteOf(engine.current.market.venues, 'paper', 'BTCUSDT')?.bid).toBe(50_000);
    expect(engine.pendingInputs).toBe(0);
  });

  it('commits a batch that writes as the running step; what comes meanwhile is decided after it', async () => {
    const { engine, decided, commits } = await engineWithCounters();
    const before = commits();
    const committing = engine.submitNow([unreadable]);
    expect(committing).not.toBeNull();
    // Not decided yet in the observers' eyes (they hear of a step once it is committed), and the engine is busy:
    expect(decided).toEqual([]);
    const queued = engine.submitNow([tick]);
    expect(queued).not.toBeNull();
    await Promise.all([committing, queued]);
    expect(decided).toEqual(['command', 'tick']);
    expect(commits()).toBe(before + 1);
    expect(engine.pendingInputs).toBe(0);
    // Idle again: the next quiet batch takes the fast path.
    expect(engine.submitNow([tick])).toBeNull();
  });

  it('commits a batch that writes at once on a log that can: committed and heard of before it returns, no step left running', async () => {
    const { engine, decided, commits } = await engineWithCounters(true);
    const before = commits();
    expect(engine.submitNow([unreadable])).toBe(committedAtOnce);
    expect(decided).toEqual(['command']);
    expect(commits()).toBe(before + 1);
    expect(engine.pendingInputs).toBe(0);
    // Nothing runs: the next batch is decided at once too, not queued behind a step.
    expect(engine.submitNow([tick])).toBeNull();
    expect(decided).toEqual(['command', 'tick']);
  });
});
