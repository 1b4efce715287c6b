import type { PartitionStatus } from '../../cluster/cluster-status.js';
import { table } from './format.js';

// `quant-engine cli cluster` for people: one row per partition, a dash where a partition has no holder.

const ms = (value: number | null): string => (value === null ? '-' : `${value} ms`);

export function clusterTable(rows: readonly PartitionStatus[]): string[] {
  const held = rows.filter((r) => r.owner !== null).length;
  const owners = new Set(rows.flatMap((r) => (r.owner === null ? [] : [r.owner])));
  return [
    ...table([
      ['partition', 'owner', 'token', 'lease age', 'lease left', 'unread', 'pending'],
      ...rows.map((r) => [
        String(r.partition),
        r.owner ?? '-',
        r.token === null ? `- (last ${r.lastToken})` : String(r.token),
        ms(r.leaseAgeMs),
        ms(r.leaseRemainingMs),
        String(r.unreadCommands),
        String(r.pendingCommands),
      ]),
    ]),
    `${held} of ${rows.length} partitions held by ${owners.size} worker${owners.size === 1 ? '' : 's'}`,
  ];
}
