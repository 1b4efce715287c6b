import type { Command } from '../../src/contract/commands.js';
import { appendRoutedCommand } from '../../src/log/command-router.js';
import type { ClusterPartitionLogs } from '../../src/log/partition-logs.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import type { ChildService } from './child.js';
import { spawnExecution } from './child.js';
import { answerReader, owedAnswers, positionsEqualSimulator } from './partition-answers.js';
import { redisUrl } from './redis.js';
import { clusterUrls } from './redis-cluster.js';

// Worker processes on the test cluster and the commands they are sent (issue 13), for the zombie test and the
// cluster bench (bench/cluster.ts): no test-runner imports here. The answer and position checks are
// partition-answers.ts's.

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

/** The commands sent through the producers' router, and the final answers (done / rejected) every partition gave. */
export class ClusterTraffic {
  readonly sent: Command[] = [];
  private readonly reader: ReturnType<typeof answerReader>;

  constructor(
    private readonly logs: ClusterPartitionLogs,
    private readonly partitionCount: number,
  ) {
    this.reader = answerReader(logs, partitionCount);
  }

  async send(c: Command): Promise<void> {
    this.sent.push(c);
    await appendRoutedCommand(this.logs, c);
  }

  /** Final answers per `partition/commandId`, read up to now. */
  readAnswers(): Promise<Map<string, number>> {
    return this.reader.read();
  }

  owed(cs: Command[]): string[] {
    return owedAnswers(cs, this.partitionCount);
  }

  allAnswered(cs: Command[]): Promise<boolean> {
    return this.reader.allAnswered(cs);
  }

  positionsMatch(sim: SimulatorHandle, users: string[], symbols: string[]): Promise<boolean> {
    return positionsEqualSimulator(this.logs, this.partitionCount, users, symbols, sim);
  }
}
