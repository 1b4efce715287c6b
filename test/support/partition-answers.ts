import type { Command } from '../../src/contract/commands.js';
import { buildCommand } from '../../src/contract/commands.js';
import { parseOutboundEvent } from '../../src/contract/outbound.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { replayLog } from '../../src/engine/engine.js';
import { routeCommand } from '../../src/log/command-router.js';
import type { ClusterPartitionLogs } from '../../src/log/partition-logs.js';
import { partitionOfUser } from '../../src/log/partition.js';
import { toQty } from '../../src/model/decimal.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import type { ChildService } from './child.js';

// What the cluster tests (takeover, failover) check across partitions: final answers per partition and command,
// what is owed, which partitions a worker runs, and whether every engine's positions equal the simulator's.

export function command(fields: { type: Command['type'] } & Record<string, unknown>): Command {
  const { type, ...rest } = fields;
  const built = buildCommand(type, rest as never);
  if (!built.ok) throw new Error(built.reason);
  return built.command;
}

/** The partitions a worker process runs, from the last line it printed about them. */
export function runningOf(w: ChildService): number[] {
  const lines = w
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{"workerId"'));
  const last = lines[lines.length - 1];
  return last ? (JSON.parse(last) as { running: number[] }).running : [];
}

/** Every (partition, command id) an answer is owed for. */
export const owedAnswers = (cs: Command[], partitionCount: number): string[] =>
  cs.flatMap((c) => routeCommand(c, partitionCount).map((r) => `${r.partition}/${c.id}`));

/** Reads final answers (done / rejected) per `partition/commandId` from every partition's outbound, incrementally. */
export function answerReader(logs: ClusterPartitionLogs, partitionCount: number) {
  const answers = new Map<string, number>();
  const cursors = new Map<number, string>();
  async function read(): Promise<Map<string, number>> {
    for (let p = 0; p < partitionCount; p += 1) {
      const log = await logs.log(p);
      for (;;) {
        const batch = await log.tailOutbound(cursors.get(p) ?? '0', 1000, 1);
        if (batch.length === 0) break;
        for (const record of batch) {
          const parsed = parseOutboundEvent(record.data);
          if (!parsed.ok) throw new Error(`partition ${p}: ${parsed.reason}`);
          const e = parsed.event;
          if (e.type === 'reply' && e.status !== 'accepted') answers.set(`${p}/${e.commandId}`, (answers.get(`${p}/${e.commandId}`) ?? 0) + 1);
        }
        cursors.set(p, batch[batch.length - 1]?.id ?? '0');
      }
    }
    return answers;
  }
  return {
    answers,
    read,
    allAnswered: async (cs: Command[]) => {
      const a = await read();
      return owedAnswers(cs, partitionCount).every((k) => a.has(k));
    },
  };
}

/** Every partition's engine (its WAL, replayed) holds, user by user, the position the simulator holds. */
export async function positionsEqualSimulator(
  logs: ClusterPartitionLogs,
  partitionCount: number,
  users: string[],
  symbols: string[],
  sim: SimulatorHandle,
): Promise<boolean> {
  for (let p = 0; p < partitionCount; p += 1) {
    const { durable } = await replayLog(await logs.log(p), defaultCoreConfig);
    for (const userId of users.filter((u) => partitionOfUser(u, partitionCount) === p)) {
      for (const symbol of symbols) {
        const engineQty = durable.sessions.get(userId)?.positions[symbol]?.qty ?? '0';
        if (engineQty !== toQty(sim.position(paperCredentials(userId).apiKey, symbol))) return false;
      }
    }
  }
  return true;
}
