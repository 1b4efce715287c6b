import { Registry } from 'prom-client';
import { registerDlqDepth, registerEventLoopDelay } from '../../metrics/engine-metrics.js';
import type { EngineLog } from '../../log/port.js';

// The dashboard's own metrics, in a registry of its own (never prom-client's global one, so several
// dashboards in one process, e.g. in tests, never clash). /metrics serves this text followed by the text of
// the registry handed in by the engine (engine-metrics), so neither has to know the other's metric names.

/** What /metrics needs from a prom-client Registry (the engine's). */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export interface DashboardMetrics {
  registry: Registry;
  /** Dashboard metrics text, then the engine's when given. */
  text(): Promise<{ contentType: string; body: string }>;
  close(): void;
}

/**
 * Both exposition texts in one: the engine's (`other`) wins a name both define (e.g. qe_dlq_depth when the
 * engine runs in this process), since a metric family may appear only once in a scrape.
 */
export function mergeMetricTexts(own: string, other: string): string {
  if (!other.trim()) return own;
  const taken = new Set([...other.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
  const kept = own
    .split(/^(?=# HELP )/m)
    .filter((block) => !taken.has(block.match(/^# HELP (\S+)/)?.[1] ?? ''))
    .join('');
  return kept.trim() ? `${kept.trimEnd()}\n${other}` : other;
}

/** `logs`: the one log, or every partition's on a cluster. */
export function createDashboardMetrics(logs: readonly EngineLog[], engine?: MetricsSource): DashboardMetrics {
  const registry = new Registry();
  registerDlqDepth(registry, logs);
  const loopDelay = registerEventLoopDelay(
    registry,
    'qe_dashboard_event_loop_delay_seconds',
    'Event-loop delay of the dashboard process since the previous scrape, by quantile',
  );
  return {
    registry,
    async text() {
      const own = await registry.metrics();
      const other = engine ? await engine.metrics() : '';
      return { contentType: registry.contentType, body: mergeMetricTexts(own, other) };
    },
    close() {
      loopDelay.stop();
    },
  };
}
