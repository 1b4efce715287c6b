import { describe, expect, it } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Decision, Input } from '../../src/core/decide.js';
import type { Engine } from '../../src/engine/engine.js';
import { bootBtcEngine } from '../support/btc-engine.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { MemoryLog } from '../../src/log/memory-log.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { parseOutboundEvent } from '../../src/contract/outbound.js';
import { T0 } from '../core/fixtures.js';

// Control first (issue 12 item 2): a signals.route to every user runs in bounded steps (maxUsersPerRouteStep),
// a /stop read with it or arriving meanwhile is decided before the route reaches that user, and a crash between
// two steps neither routes a user twice nor leaves one out; the route is answered and acknowledged once.

const users = 300;
const config: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT'], maxUsersPerRouteStep: 50 };
const userIds = Array.from({ length: users }, (_, i) => `u${String(i).padStart(4, '0')}`);

interface Run {
  engine: Engine;
  /** Every decision, in the order the engine made them, with the input's command type (or kind). */
  decided: { what: string; decision: Decision }[];
  /** Continuations held back (when not submitted at once, to crash between steps). */
  held: Input[];
}

async function start(log: MemoryLog, clock: ManualClock, autoContinue: boolean): Promise<Run> {
  const run: Run = { engine: undefined as unknown as Engine, decided: [], held: [] };
  const engine = await bootBtcEngine({
    log,
    config,
    clock,
    onEffects: (d) => {
      // As the execution service does: a route's next step queues behind whatever is waiting.
      if (d.continuation) {
        if (autoContinue) void run.engine.submitContinuation(d.continuation);
        else run.held.push(d.continuation);
      }
    },
    onEngine: (created) =>
      created.observe((input, decision) => {
        const what = input.kind === 'command' ? (JSON.parse(input.delivery.raw) as { id: string }).id : input.kind;
        run.decided.push({ what, decision });
      }),
  });
  run.engine = engine;
  await engine.submit({ kind: 'feed_started', venue: 'paper', symbols: ['BTCUSDT'] });
  await engine.submit({ kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 50_000, ask: 50_010, time: clock.nowMs() } });
  return run;
}

async function consume(log: MemoryLog, engine: Engine, commands: object[]): Promise<void> {
  for (const c of commands) await log.appendCommand(JSON.stringify(c));
  const deliveries = await log.readCommands('exec', commands.length, 0);
  await engine.submitBatch(deliveries.map((delivery): Input => ({ kind: 'command', delivery })));
}

async function withSessions(): Promise<{ log: MemoryLog; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const log = openMemoryLog({ nowMs: () => clock.nowMs() });
  await log.init();
  const { engine } = await start(log, clock, true);
  await consume(
    log,
    engine,
    userIds.map((userId) => ({ id: `start-${userId}`, userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000 })),
  );
  return { log, clock };
}

const route = { id: 'route-1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] };

/** Users with an entry order planned, once per order, over every decision of every run. */
function entriesByUser(runs: Run[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const run of runs)
    for (const { decision } of run.decided)
      for (const e of decision.wal) if (e.type === 'order.planned') counts.set(e.order.userId, (counts.get(e.order.userId) ?? 0) + 1);
  return counts;
}

async function repliesTo(log: MemoryLog, commandId: string): Promise<{ status: string; result: unknown }[]> {
  const records = await log.tailOutbound('0', 100_000, 0);
  return records.map((r) => parseOutboundEvent(r.data)).flatMap((e) => (e.ok && e.event.type === 'reply' && e.event.commandId === commandId ? [e.event] : []));
}

describe('control commands are never decided behind a fan-out', () => {
  it('decides a /stop read with a 300-user route, or arriving meanwhile, before the route reaches its user', async () => {
    const { log, clock } = await withSessions();
    const run = await start(log, clock, true);
    // The last user's /stop is read in the same batch, after the route.
    await consume(log, run.engine, [route, { id: 'stop-last', userId: userIds[users - 1], type: 'session.stop' }]);
    // Another /stop arrives while the route's first steps are done: it goes in before the route's later steps.
    await consume(log, run.engine, [{ id: 'stop-later', userId: userIds[200], type: 'session.stop' }]);
    await run.engine.drain();

    const order = run.decided.map((d) => d.what);
    const routeSteps = order.filter((w) => w === 'route-1').length;
    expect(routeSteps).toBe(users / config.maxUsersPerRouteStep);
    expect(order.indexOf('stop-last')).toBeLessThan(order.indexOf('route-1'));
    expect(order.indexOf('stop-later')).toBeLessThan(order.lastIndexOf('route-1'));
    const entries = entriesByUser([run]);
    expect(entries.get(userIds[users - 1] ?? '')).toBeUndefined();
    expect(entries.get(userIds[200] ?? '')).toBeUndefined();
    expect(entries.size).toBe(users - 2);

    // Answered once, when its last step is done, with every user; acknowledged (nothing left pending).
    const replies = await repliesTo(log, 'route-1');
    expect(replies).toHaveLength(1);
    const routed = (replies[0]?.result as { routed: { userId: string; skipped?: string }[] }).routed;
    // Routed to the sessions active when each step ran: the two stopping ones are not among them.
    expect(routed.map((r) => r.userId)).toEqual(userIds.filter((_, i) => i !== 200 && i !== users - 1));
    expect(routed.every((r) => r.skipped === undefined)).toBe(true);
    expect(log.commands()).toHaveLength(0);
  });

  it('a crash between two steps of a route neither routes a user twice nor leaves one out', async () => {
    const { log, clock } = await withSessions();
    const before = await start(log, clock, false);
    await consume(log, before.engine, [route]);
    expect(before.held).toHaveLength(1); // the route's next step, lost in the crash below
    await before.engine.submit(before.held.shift() as Input); // one more step, then the crash
    expect(entriesByUser([before]).size).toBe(2 * config.maxUsersPerRouteStep);
    expect(await repliesTo(log, 'route-1')).toHaveLength(0);
    expect(log.commands()).toHaveLength(1); // not acknowledged while part-way

    // Restart from the log; the unacknowledged route is reclaimed and goes on from the user it had reached.
    clock.advance(60_000);
    const after = await start(log, clock, true);
    const redelivered = await log.reclaimStaleCommands('exec', 10);
    expect(redelivered).toHaveLength(1);
    await after.engine.submitBatch(redelivered.map((delivery): Input => ({ kind: 'command', delivery })));
    await after.engine.drain();

    const entries = entriesByUser([before, after]);
    expect(entries.size).toBe(users);
    expect([...entries.values()].every((n) => n === 1)).toBe(true);
    const replies = await repliesTo(log, 'route-1');
    expect(replies).toHaveLength(1);
    expect((replies[0]?.result as { routed: { userId: string }[] }).routed.map((r) => r.userId)).toEqual(userIds);
    expect(log.commands()).toHaveLength(0);
  });
});
