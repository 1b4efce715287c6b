import { describe, expect, it } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Input } from '../../src/core/decide.js';
import type { Engine } from '../../src/engine/engine.js';
import { bootBtcEngine } from '../support/btc-engine.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { MemoryLog } from '../../src/log/memory-log.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { serializeSnapshot } from '../../src/contract/snapshot.js';
import { T0 } from '../core/fixtures.js';
import { allOutbound } from '../support/outbound.js';

// An engine step's decisions may share the maps they make (DecideOptions.owned) instead of copying the sessions and
// orders per decision, when no observer reads each decision's own state. It must decide exactly what copying does,
// a poison command in the middle of the step included (a decision that throws may have written shared maps: the
// step is decided again without sharing).

/** The signal-source list; asking it about "poison" throws, as a bug in a handler would. */
class PlantedBugList extends Array<string> {
  override includes(value: string): boolean {
    if (value === 'poison') throw new TypeError('planted bug in the decision');
    return super.includes(value);
  }
}

const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'], signalSourceIds: PlantedBugList.from(['signals']) as string[] };
const users = Array.from({ length: 40 }, (_, i) => `u${i}`);

async function run(share: boolean, commands: object[][]): Promise<{ wal: string; outbound: string; state: string; shared: boolean }> {
  const clock = new ManualClock(T0);
  const log: MemoryLog = openMemoryLog({ nowMs: () => clock.nowMs() });
  await log.init();
  /** The sessions map of each session.start's state: starts that share maps hand on one and the same. */
  const sessionMaps: object[] = [];
  const engine = await bootBtcEngine({
    log,
    config,
    clock,
    onEffects: () => undefined,
    onEngine: (created: Engine) =>
      created.observe(
        (input, d) => {
          if (input.kind === 'command' && input.delivery.raw.includes('"session.start"')) sessionMaps.push(d.state.durable.sessions);
        },
        { stateOfEachDecision: !share },
      ),
  });
  await engine.submit({ kind: 'feed_started', venue: 'paper', symbols: ['BTCUSDT'] });
  await engine.submit({ kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 50_000, ask: 50_010, time: clock.nowMs() } });
  for (const batch of commands) {
    for (const c of batch) await log.appendCommand(JSON.stringify(c));
    const deliveries = await log.readCommands('exec', batch.length, 0);
    clock.advance(1_000);
    await engine.submitBatch(deliveries.map((delivery): Input => ({ kind: 'command', delivery })));
  }
  const wal = (await log.readWal(null, 100_000)).map((r) => r.data);
  const outbound = await allOutbound(log);
  return {
    wal: JSON.stringify(wal),
    outbound: JSON.stringify(outbound),
    state: serializeSnapshot(engine.current.durable),
    shared: new Set(sessionMaps).size === 1,
  };
}

const batches = (poison: boolean): object[][] => [
  users.map((userId) => ({ id: `start-${userId}`, userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000, stopLossPct: 20 })),
  [
    { id: 'route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] },
    ...users.map((userId, i) => ({ id: `sl-${userId}`, userId, type: 'session.set_stoploss', pct: 5 + (i % 10) })),
    ...(poison ? [{ id: 'poison-1', userId: 'poison', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.1 }] }] : []),
    ...users.slice(0, 10).map((userId) => ({ id: `stop-${userId}`, userId, type: 'session.stop' })),
  ],
];

describe('decisions of one step sharing the maps they make', () => {
  it('decide what copying per decision decides', async () => {
    const copied = await run(false, batches(false));
    const shared = await run(true, batches(false));
    expect([copied.shared, shared.shared]).toEqual([false, true]);
    expect(shared.wal).toBe(copied.wal);
    expect(shared.outbound).toBe(copied.outbound);
    expect(shared.state).toBe(copied.state);
  });

  it('with a poison command in the middle, decide what copying decides (the poison set aside alone)', async () => {
    const copied = await run(false, batches(true));
    const shared = await run(true, batches(true));
    expect(shared.wal).toBe(copied.wal);
    expect(shared.outbound).toBe(copied.outbound);
    expect(shared.state).toBe(copied.state);
    expect(copied.outbound).toMatch(/planted bug/);
  });
});
