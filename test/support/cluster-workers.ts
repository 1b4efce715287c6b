import type { Command } from '../../src/contract/commands.js';
import { buildCommand } from '../../src/contract/commands.js';
import { parseOutboundEvent } from '../../src/contract/outbound.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { replayLog } from '../../src/engine/engine.js';
import { appendRoutedCommand, routeCommand } from '../../src/log/command-router.js';
import type { ClusterPartitionLogs } from '../../src/log/partition-logs.js';
import { partitionOfUser } from '../../src/log/partition.js';
import { toQty } from '../../src/model/decimal.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import type { ChildService } from './child.js';
import { spawnExecution } from './child.js';
import { redisUrl } from './redis.js';
import { clusterUrls } from './redis-cluster.js';

// What the cluster tests with worker processes share (issue 13): workers as child processes on the test cluster,
// the commands they are sent, the answers they owe, and the check that every engine's positions equal the simulator.
// No test-runner imports here: the cluster bench (bench/cluster.ts) uses it too.

export function command(fields: { type: Command['type'] } & Record<string, unknown>): Command {
  const { type, ...rest } = fields;
  const built = buildCommand(type, rest as never);
  if (!built.ok) throw new Error(built.reason);
  return built.command;
}

/** A worker as a child process on the cluster (the single Redis holds only its rate budget and key store). */
export function spawnWorker(opts: {
  prefix: string;
  sim: Pick<SimulatorHandle, 'restBaseUrl' | 'wsBaseUrl'>;
  partitionCount: number;
  workerId: string;
  symbols: string[];
}): Promise<ChildService> {
  return spawnExecution({
    redisUrl,
    prefix: opts.prefix,
    restBaseUrl: opts.sim.restBaseUrl,
    wsBaseUrl: opts.sim.wsBaseUrl,
    extra: ['--cluster-urls', clusterUrls.join(','), '--partitions', String(opts.partitionCount), '--worker-id', opts.workerId],
    env: { QE_SYMBOLS: opts.symbols.join(',') },
  });
}

/** The partitions a worker runs, from the last line it printed about them. */
export function runningOf(w: ChildService): number[] {
  const lines = w
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{"workerId"'));
  const last = lines[lines.length - 1];
  return last ? (JSON.parse(last) as { running: number[] }).running : [];
}

/** The commands sent through the producers' router, and the final answers (done / rejected) every partition gave. */
export class ClusterTraffic {
  readonly sent: Command[] = [];
  /** Final answers per `partition/commandId`, read incrementally from every partition's outbound stream. */
  readonly answers = new Map<string, number>();
  private readonly cursors = new Map<number, string>();

  constructor(
    private readonly logs: ClusterPartitionLogs,
    private readonly partitionCount: number,
  ) {}

  async send(c: Command): Promise<void> {
    this.sent.push(c);
    await appendRoutedCommand(this.logs, c);
  }

  async readAnswers(): Promise<Map<string, number>> {
    for (let p = 0; p < this.partitionCount; p += 1) {
      const log = await this.logs.log(p);
      for (;;) {
        const batch = await log.tailOutbound(this.cursors.get(p) ?? '0', 1000, 1);
        if (batch.length === 0) break;
        for (const record of batch) {
          const parsed = parseOutboundEvent(record.data);
          if (!parsed.ok) throw new Error(`partition ${p}: ${parsed.reason}`);
          const e = parsed.event;
          if (e.type === 'reply' && e.status !== 'accepted') this.answers.set(`${p}/${e.commandId}`, (this.answers.get(`${p}/${e.commandId}`) ?? 0) + 1);
        }
        this.cursors.set(p, batch[batch.length - 1]?.id ?? '0');
      }
    }
    return this.answers;
  }

  /** Every (partition, command id) an answer is owed for. */
  owed(cs: Command[]): string[] {
    return cs.flatMap((c) => routeCommand(c, this.partitionCount).map((r) => `${r.partition}/${c.id}`));
  }

  async allAnswered(cs: Command[]): Promise<boolean> {
    const a = await this.readAnswers();
    return this.owed(cs).every((k) => a.has(k));
  }

  /** Whether every user's position in its partition's engine (the WAL replayed here) equals the simulator's. */
  async positionsMatch(sim: SimulatorHandle, users: string[], symbols: string[]): Promise<boolean> {
    for (let p = 0; p < this.partitionCount; p += 1) {
      const { durable } = await replayLog(await this.logs.log(p), defaultCoreConfig);
      for (const userId of users.filter((u) => partitionOfUser(u, this.partitionCount) === p)) {
        for (const symbol of symbols) {
          const engineQty = durable.sessions[userId]?.positions[symbol]?.qty ?? '0';
          if (engineQty !== toQty(sim.position(paperCredentials(userId).apiKey, symbol))) return false;
        }
      }
    }
    return true;
  }
}
