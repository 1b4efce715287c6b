import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/contract/commands.js';
import { buildCommand } from '../../src/contract/commands.js';
import { routeCommand } from '../../src/log/command-router.js';
import { partitionOfUser } from '../../src/log/partition.js';

// Producers route commands to partitions (issue 13): a user's command to the user's partition, what concerns
// everyone to every partition, a route to listed users split by partition; with one partition, unchanged.

function command(json: { type: Command['type'] } & Record<string, unknown>): Command {
  const { type, ...fields } = json;
  const built = buildCommand(type, fields as never);
  if (!built.ok) throw new Error(built.reason);
  return built.command;
}

const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
const signals = [{ symbol: 'BTCUSDT', weight: 0.5 }];

describe('routing commands to partitions', () => {
  it("sends a user's commands to the user's partition, and nowhere else", () => {
    const seen = new Set<number>();
    for (const userId of users) {
      for (const type of ['session.stop', 'status', 'session.pause'] as const) {
        const routed = routeCommand(command({ type, id: `c-${userId}`, userId }), 4);
        expect(routed).toHaveLength(1);
        expect(routed[0]?.partition).toBe(partitionOfUser(userId, 4));
        seen.add(routed[0]!.partition);
      }
    }
    expect(seen.size).toBe(4); // 40 users land on every one of 4 partitions
  });

  it('fans halt_all, resume_all and users out to every partition, with the same command', () => {
    for (const type of ['admin.halt_all', 'admin.resume_all', 'admin.users'] as const) {
      const c = command({ type, id: 'a1', userId: 'operator' });
      const routed = routeCommand(c, 4);
      expect(routed.map((r) => r.partition)).toEqual([0, 1, 2, 3]);
      for (const r of routed) expect(r.command).toEqual(c);
    }
  });

  it("sends approve_live to the approved user's partition, not the admin's", () => {
    const target = users.find((u) => partitionOfUser(u, 4) !== partitionOfUser('operator', 4))!;
    const routed = routeCommand(command({ type: 'admin.approve_live', id: 'a2', userId: 'operator', targetUserId: target }), 4);
    expect(routed.map((r) => r.partition)).toEqual([partitionOfUser(target, 4)]);
  });

  it('fans a route without users out to every partition, and splits a route to listed users by partition', () => {
    expect(routeCommand(command({ type: 'signals.route', id: 'r1', userId: 'signals', signals }), 4).map((r) => r.partition)).toEqual([0, 1, 2, 3]);
    const routed = routeCommand(command({ type: 'signals.route', id: 'r2', userId: 'signals', signals, userIds: users }), 4);
    const split = routed.flatMap((r) => (r.command.type === 'signals.route' ? (r.command.userIds ?? []).map((u) => [u, r.partition] as const) : []));
    // Every listed user exactly once, in the copy of its own partition, the order of the list kept within a copy.
    expect(split.map(([u]) => u).sort()).toEqual([...users].sort());
    for (const [u, p] of split) expect(p).toBe(partitionOfUser(u, 4));
    for (const r of routed) expect(r.command).toMatchObject({ id: 'r2', signals });
    // A list that is empty still gets its answer: one copy, where the sender's commands go.
    const none = routeCommand(command({ type: 'signals.route', id: 'r3', userId: 'signals', signals, userIds: [] }), 4);
    expect(none.map((r) => r.partition)).toEqual([partitionOfUser('signals', 4)]);
  });

  it('leaves every command as it is with one partition (today)', () => {
    const cs = [
      command({ type: 'admin.halt_all', id: 'h', userId: 'operator' }),
      command({ type: 'signals.route', id: 'r', userId: 'signals', signals, userIds: users }),
      command({ type: 'session.stop', id: 's', userId: 'user-3' }),
    ];
    for (const c of cs) expect(routeCommand(c, 1)).toEqual([{ partition: 0, command: c }]);
  });
});
