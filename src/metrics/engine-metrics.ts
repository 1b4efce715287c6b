import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Decision, Input } from '../core/decide.js';
import type { EngineState } from '../core/state.js';
import { allVenues } from '../core/venues.js';
import type { EngineLog } from '../log/port.js';

// Prometheus metrics of the execution service, served at /metrics by the dashboard (or by the execution
// service's own --metrics-port). Gauges that need a read (feed age, DLQ depth) are computed when scraped,
// so nothing here runs on the decision path but two counter increments.

/** Event-loop delay histogram resolution. */
const eventLoopResolutionMs = 10;

export interface EngineMetrics {
  registry: Registry;
  /** A command batch is committed: `entryIds` were read at `readAtMs`. */
  commandsCommitted(entryIds: readonly string[], readAtMs: number, nowMs: number): void;
  /** Every decision, for orders by outcome. */
  decided(input: Input, decision: Decision): void;
  stop(): void;
}

export interface EngineMetricsSources {
  log: EngineLog;
  state: () => EngineState | null;
  nowMs: () => number;
}

/** Redis stream ids start with the append time in ms: append → commit then. Others (SQLite row ids): read → commit. */
function appendedAtMs(entryId: string, readAtMs: number): number {
  const match = /^(\d+)-\d+$/.exec(entryId);
  return match ? Number(match[1]) : readAtMs;
}

/** A gauge of a process's event-loop delay (p50, p99, max) since the previous scrape; stop() when done. */
export function registerEventLoopDelay(registry: Registry, name: string, help: string): { stop(): void } {
  const loopDelay = monitorEventLoopDelay({ resolution: eventLoopResolutionMs });
  loopDelay.enable();
  // The histogram reports nanoseconds; NaN until the loop has been sampled once.
  const seconds = (ns: number): number => (Number.isFinite(ns) ? ns / 1e9 : 0);
  new Gauge({
    name,
    help,
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      this.set({ quantile: '0.5' }, seconds(loopDelay.percentile(50)));
      this.set({ quantile: '0.99' }, seconds(loopDelay.percentile(99)));
      this.set({ quantile: '1' }, seconds(loopDelay.max));
      loopDelay.reset();
    },
  });
  return { stop: () => loopDelay.disable() };
}

/**
 * Entries in the dead-letter stream, counted when scraped (XLEN / COUNT(*): no entry is read); on a cluster, `logs`
 * is every partition's and their dead letters are summed.
 */
export function registerDlqDepth(registry: Registry, logs: readonly Pick<EngineLog, 'deadLetterCount'>[]): void {
  new Gauge({
    name: 'qe_dlq_depth',
    help: 'Entries in the command dead-letter stream (of every partition)',
    registers: [registry],
    async collect() {
      const counts = await Promise.all(logs.map((l) => l.deadLetterCount()));
      this.set(counts.reduce((sum, n) => sum + n, 0));
    },
  });
}

export function createEngineMetrics(sources: EngineMetricsSources): EngineMetrics {
  const registry = new Registry();

  const commandLatency = new Histogram({
    name: 'qe_command_latency_seconds',
    help: 'Command appended (or read, for SQLite) to decided and committed with its reply',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const orders = new Counter({
    name: 'qe_orders_total',
    help: 'Order state changes by outcome (NEW, FILLED, REJECTED, CANCELED, EXPIRED, unknown, ...)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const commands = new Counter({ name: 'qe_commands_total', help: 'Commands decided, by outcome', labelNames: ['outcome'], registers: [registry] });
  new Gauge({
    name: 'qe_feed_age_seconds',
    help: 'Time since the last quote, per venue and symbol',
    labelNames: ['venue', 'symbol'],
    registers: [registry],
    collect() {
      const state = sources.state();
      if (!state) return;
      const now = sources.nowMs();
      for (const venue of allVenues) {
        for (const [symbol, quote] of Object.entries(state.market.venues[venue].quotes)) this.set({ venue, symbol }, (now - quote.receivedAtMs) / 1000);
      }
    },
  });
  new Gauge({
    name: 'qe_trading_rules_unreadable',
    help: "1 while a venue's trading rules could not be read (its sessions are refused: the reason is in the refusal and the log), else 0",
    labelNames: ['venue'],
    registers: [registry],
    collect() {
      const state = sources.state();
      if (!state) return;
      for (const venue of allVenues) this.set({ venue }, state.market.venues[venue].rulesUnreadable === null ? 0 : 1);
    },
  });
  const loopDelay = registerEventLoopDelay(
    registry,
    'qe_event_loop_delay_seconds',
    'Event-loop delay of the engine process since the previous scrape, by quantile',
  );
  registerDlqDepth(registry, [sources.log]);
  new Gauge({
    name: 'qe_sessions',
    help: 'Sessions by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const state = sources.state();
      if (!state) return;
      const counts: Record<string, number> = { active: 0, stopping: 0, closed: 0 };
      for (const s of state.durable.sessions.values()) counts[s.status] = (counts[s.status] ?? 0) + 1;
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });

  return {
    registry,
    commandsCommitted(entryIds, readAtMs, nowMs) {
      for (const id of entryIds) commandLatency.observe(Math.max(0, nowMs - appendedAtMs(id, readAtMs)) / 1000);
    },
    decided(input, decision) {
      for (const event of decision.wal) if (event.type === 'order.status') orders.inc({ outcome: event.status });
      if (input.kind !== 'command') return;
      for (const event of decision.outbound) if (event.type === 'reply') commands.inc({ outcome: event.status });
    },
    stop() {
      loopDelay.stop();
    },
  };
}
