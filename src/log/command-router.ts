import type { Command } from '../contract/commands.js';
import type { EngineLog } from './port.js';
import { assertPartitionCount, partitionOfUser } from './partition.js';

// Producers route commands to partitions (issue 13). A user's command goes to the user's partition (the one whose
// engine holds the user's session); what concerns every user fans out, one copy per partition, each with the
// command's id (each partition's engine answers its copy; the copies never meet, so the shared id is unique
// where it matters):
// - admin.halt_all, admin.resume_all, admin.users: every partition;
// - signals.route without userIds: every partition (each routes its own active sessions);
// - signals.route with userIds: one copy per partition holding any of them, with only its own users;
// - admin.approve_live: the partition of the user it approves (where that user's session.start is decided).
// With one partition every command goes as it is, unchanged, to the one log: today's deployment.

export interface RoutedCommand {
  partition: number;
  command: Command;
}

/** Admin commands every partition answers (readers that answer a user once wait for all of them). */
export const everyPartitionTypes: ReadonlySet<Command['type']> = new Set(['admin.halt_all', 'admin.resume_all', 'admin.users']);

export function routeCommand(command: Command, partitionCount: number): RoutedCommand[] {
  assertPartitionCount(partitionCount);
  if (partitionCount === 1) return [{ partition: 0, command }];
  const every = (): RoutedCommand[] => Array.from({ length: partitionCount }, (_, partition) => ({ partition, command }));
  if (everyPartitionTypes.has(command.type)) return every();
  if (command.type === 'admin.approve_live') return [{ partition: partitionOfUser(command.targetUserId, partitionCount), command }];
  if (command.type === 'signals.route') {
    if (command.userIds === undefined) return every();
    const byPartition = new Map<number, string[]>();
    for (const userId of command.userIds) {
      const p = partitionOfUser(userId, partitionCount);
      byPartition.set(p, [...(byPartition.get(p) ?? []), userId]);
    }
    // An empty list routes to nobody: one copy, where its sender's commands go, still answers it.
    if (byPartition.size === 0) return [{ partition: partitionOfUser(command.userId, partitionCount), command }];
    return [...byPartition].sort(([a], [b]) => a - b).map(([partition, userIds]) => ({ partition, command: { ...command, userIds } }));
  }
  return [{ partition: partitionOfUser(command.userId, partitionCount), command }];
}

/** What a producer needs of one partition's log. */
export type ProducerLog = Pick<EngineLog, 'appendCommand' | 'lastOutboundId' | 'tailOutbound'>;

/** What appending a command needs of one partition's log. */
export type AppendLog = Pick<EngineLog, 'appendCommand'>;

/** The logs of every partition as a producer sees them: opened when first used. */
export interface PartitionLogs<L extends AppendLog = ProducerLog> {
  count: number;
  log(partition: number): Promise<L>;
}

/** The one way producers append a command: to each partition routeCommand names. Resolves once every copy is stored. */
export async function appendRoutedCommand(logs: PartitionLogs<AppendLog>, command: Command): Promise<{ partition: number; entryId: string }[]> {
  return Promise.all(
    routeCommand(command, logs.count).map(async ({ partition, command: copy }) => ({
      partition,
      entryId: await (await logs.log(partition)).appendCommand(JSON.stringify(copy)),
    })),
  );
}

/** One log as the single partition of a deployment without partitions (SQLite, or one Redis with today's keys). */
export function singlePartition<L extends AppendLog>(log: L): PartitionLogs<L> {
  return { count: 1, log: async () => log };
}

/** Every partition's log, in partition order (readers that follow every outbound stream). */
export function everyPartitionLog<L extends AppendLog>(logs: PartitionLogs<L>): Promise<L[]> {
  return Promise.all(Array.from({ length: logs.count }, (_, p) => logs.log(p)));
}

/** The log of the partition holding the user's session and fills. */
export function userPartitionLog<L extends AppendLog>(logs: PartitionLogs<L>, userId: string): Promise<L> {
  return logs.log(partitionOfUser(userId, logs.count));
}
