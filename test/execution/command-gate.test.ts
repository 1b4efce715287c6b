import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/contract/commands.js';
import { SessionReadiness } from '../../src/engine/session-readiness.js';
import type { CommandDelivery } from '../../src/model/command-delivery.js';
import type { AccountCheckRunner } from '../../src/services/execution/command-gate.js';
import { CommandGate } from '../../src/services/execution/command-gate.js';
import { silentLogger } from '../../src/util/logger.js';

// The command gate holds a command whose session is not reconciled yet, or whose account check reads the exchange,
// and orders a fleet command (a route) after the commands held before it. A session's control command (/stop) must
// not wait behind a held route: a route held behind another user's account check held every /stop read after it.

let seq = 0;
const delivery = (command: Record<string, unknown>): CommandDelivery => ({ entryId: `e${(seq += 1)}`, raw: JSON.stringify(command), deliveryCount: 1 });
const idOf = (d: CommandDelivery): string => (JSON.parse(d.raw) as { id: string }).id;
const turns = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function rig(unready: string[] = []): {
  gate: CommandGate;
  decided: string[];
  readiness: SessionReadiness;
  releaseCheck: () => void;
  read: (...commands: Record<string, unknown>[]) => void;
} {
  const decided: string[] = [];
  const readiness = new SessionReadiness(unready);
  let releaseCheck: () => void = () => undefined;
  const checkDone = new Promise<void>((resolve) => (releaseCheck = resolve));
  // Only a session.start needs a check here; it answers when the test says.
  const checks: AccountCheckRunner = { needed: (c: Command) => c.type === 'session.start', run: () => checkDone };
  const gate = new CommandGate(
    readiness,
    async (deliveries) => {
      for (const d of deliveries) decided.push(idOf(d));
    },
    65_536,
    silentLogger(),
    100,
    checks,
  );
  const read = (...commands: Record<string, unknown>[]): void => {
    for (const d of gate.route(commands.map(delivery), 0)) decided.push(idOf(d));
  };
  return { gate, decided, readiness, releaseCheck: () => releaseCheck(), read };
}

const route = { id: 'route', userId: 'signals', type: 'signals.route', source: 'signals', signals: [{ symbol: 'BTCUSDT', weight: 0.1 }] };

describe('the command gate', () => {
  it("decides another user's /stop at once while a route waits behind a start's account check", async () => {
    const { decided, releaseCheck, read } = rig();
    read({ id: 'start-a', userId: 'a', type: 'session.start', mode: 'paper', capitalUsd: 1_000 }, route, { id: 'stop-b', userId: 'b', type: 'session.stop' });
    await turns();
    expect(decided).toEqual(['stop-b']);
    // A non-control command of b still waits for the route read before it.
    read({ id: 'horizon-b', userId: 'b', type: 'session.set_horizon', hours: 2 });
    await turns();
    expect(decided).toEqual(['stop-b']);
    releaseCheck();
    await turns();
    expect(decided).toEqual(['stop-b', 'start-a', 'route', 'horizon-b']);
  });

  it("keeps a session's own order: its /stop waits for its earlier held command, a route read between them or not", async () => {
    const first = rig();
    first.read(route);
    first.read({ id: 'start-c', userId: 'c', type: 'session.start', mode: 'paper', capitalUsd: 1_000 }, { id: 'stop-c', userId: 'c', type: 'session.stop' });
    await turns();
    expect(first.decided).toEqual(['route']);
    first.releaseCheck();
    await turns();
    expect(first.decided).toEqual(['route', 'start-c', 'stop-c']);

    // A start held for its check, a route held behind it, then the same user's /stop: the stop waits for the start
    // (decided before it, it would find no session and the start would then open one), not for the route.
    const second = rig();
    second.read({ id: 'start-e', userId: 'e', type: 'session.start', mode: 'paper', capitalUsd: 1_000 }, route, {
      id: 'stop-e',
      userId: 'e',
      type: 'session.stop',
    });
    await turns();
    expect(second.decided).toEqual([]);
    second.releaseCheck();
    await turns();
    expect(second.decided.indexOf('start-e')).toBeLessThan(second.decided.indexOf('stop-e'));
    expect([...second.decided].sort()).toEqual(['route', 'start-e', 'stop-e']);
  });

  it('holds a session.exit until its session is reconciled, like the session’s other commands', async () => {
    const { decided, readiness, read } = rig(['d']);
    read({ id: 'exit-d', userId: 'd', type: 'session.exit', symbol: 'BTCUSDT' });
    await turns();
    expect(decided).toEqual([]);
    readiness.markReady('d');
    await turns();
    expect(decided).toEqual(['exit-d']);
  });
});
