import { describe, expect, it } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { Engine } from '../../src/engine/engine.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { T0 } from '../core/fixtures.js';
import { bootBtcEngine } from '../support/btc-engine.js';

// A log whose outbound stream nobody reads (EngineLog.outboundUnread, a backtest's) keeps no outbound entries and the
// engine serializes none: its observers still hear every event, the log still gets the rest of each step (acks, dead
// letters, WAL), and the entries still take their ids (what comes after keeps its ids). A log that is read gets every
// event, serialized, as always.

const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'] };

interface Run {
  observed: OutboundEvent[];
  /** The outbound entries the engine handed the log's commits. */
  committed: string[];
  logged: string[];
  deadLetters: number;
  nextId: string;
}

async function run(outboundUnread: boolean): Promise<Run> {
  const clock = new ManualClock(T0);
  const log = openMemoryLog({ nowMs: () => clock.nowMs(), outboundUnread });
  await log.init();
  // What the engine hands the log's commits, and what its observers hear.
  const committed: string[] = [];
  const observed: OutboundEvent[] = [];
  const commit = log.commit.bind(log);
  log.commit = (batch) => commit(batch).finally(() => committed.push(...batch.outbound));
  const hear = (engine: Engine): void => engine.observe((_input, decision) => observed.push(...decision.outbound), { stateOfEachDecision: false });
  const engine = await bootBtcEngine({ log, config, clock, onEffects: () => undefined, onEngine: hear });
  // A command that cannot be read: dead-lettered and answered with a rejection (an outbound event).
  await engine.submit({ kind: 'command', delivery: { entryId: '1-0', raw: 'not json', deliveryCount: 1 } });
  const logged = (await log.tailOutbound('0', 100, 0)).map((r) => r.data);
  return { observed, committed, logged, deadLetters: await log.deadLetterCount(), nextId: await log.appendCommand('{}') };
}

describe('a log whose outbound stream nobody reads', () => {
  it('is written no outbound entries, while the observers hear every event and the step is otherwise committed', async () => {
    const unread = await run(true);
    expect(unread.observed.some((e) => e.type === 'reply')).toBe(true);
    expect(unread.logged).toEqual([]);
    // Not serialized: each entry handed on unwritten, in its place.
    expect(unread.committed).toEqual(unread.observed.map(() => ''));
    expect(unread.deadLetters).toBe(1);
    // The same step on a log that is read: every observed event is in its stream, as JSON.
    const read = await run(false);
    expect(read.observed).toEqual(unread.observed);
    expect(read.logged).toEqual(read.observed.map((e) => JSON.stringify(e)));
    expect(unread.nextId).toBe(read.nextId);
  });
});
