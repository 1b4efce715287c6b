import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LeaseEvent } from '../cluster/worker.js';
import { registerEventLoopDelay } from './engine-metrics.js';

// Prometheus metrics of an execution worker on a Redis Cluster (issue 13, item 4): lease changes by kind, how long a
// claimed partition takes to boot (a takeover is the dead owner's lease TTL plus this), and the partitions it holds.
// Served by `quant-engine execution --cluster-urls … --metrics-port N` at /metrics.

/** Boot-time buckets (s): a small WAL boots in well under a second; a million events with a thousand sessions in a few. */
const bootBucketsSeconds = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30];

export interface WorkerMetrics {
  registry: Registry;
  /** Feed it the worker's onLease events. */
  onLease(event: LeaseEvent): void;
  stop(): void;
}

export function createWorkerMetrics(view: { owned(): number[]; running(): number[] }): WorkerMetrics {
  const registry = new Registry();
  const changes = new Counter({
    name: 'qe_lease_changes_total',
    help: 'Partition lease changes of this worker: claimed, or stopped by cause (lost, boot_failed, rebalanced, worker_stopping)',
    labelNames: ['change'],
    registers: [registry],
  });
  const boot = new Histogram({
    name: 'qe_partition_boot_seconds',
    help: 'A claimed partition from its claim to its service taking commands (replay, reconcile); takeover = the old lease TTL + this',
    labelNames: ['takeover'],
    buckets: bootBucketsSeconds,
    registers: [registry],
  });
  new Gauge({
    name: 'qe_worker_partitions',
    help: 'Partitions this worker holds the lease of (owned) and runs (running)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'owned' }, view.owned().length);
      this.set({ state: 'running' }, view.running().length);
    },
  });
  const loop = registerEventLoopDelay(registry, 'qe_worker_event_loop_delay_seconds', 'Event-loop delay of the worker process since the last scrape');
  return {
    registry,
    onLease(event) {
      if (event.kind === 'claimed') changes.inc({ change: 'claimed' });
      else if (event.kind === 'stopped') changes.inc({ change: event.cause });
      // Token 1 is a partition's first lease ever; any later one took over from an earlier holder.
      else boot.observe({ takeover: event.token > 1 ? 'true' : 'false' }, event.bootMs / 1000);
    },
    stop: () => loop.stop(),
  };
}
