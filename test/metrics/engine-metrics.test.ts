import { describe, expect, it } from 'vitest';
import { serveMetrics } from '../../src/metrics/serve-metrics.js';
import { commandId, useHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// The execution service's Prometheus metrics, fed by a real run: commands, an order that fills, a bad
// command in the dead-letter stream, quotes from the simulator's feed.

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('engine metrics', () => {
  const harness = useHarness({ label: 'metrics', metrics: true });

  it('counts command latency, orders by outcome, feed age per symbol and DLQ depth, served over HTTP', async () => {
    const h = harness();
    const registry = h.metrics?.registry;
    if (!registry) throw new Error('no metrics');
    const start = await h.send({ id: commandId('m'), userId: 'metrics-user', type: 'session.start', capitalUsd: 10_000 });
    await h.reply(start, 'done');
    const route = await h.send({
      id: commandId('r'),
      userId: 'signals',
      type: 'signals.route',
      signals: [{ symbol: 'BTCUSDT', weight: 0.3 }],
      userIds: ['metrics-user'],
    });
    await h.reply(route, 'done');
    await h.log.appendCommand('{"id":"bad-1","userId":"metrics-user","type":"session.set_stoploss","pct":"abc"}');
    await h.reply('bad-1', 'rejected');
    await waitFor('a fill', () => h.service.engine.current.durable.orders.values().some((o) => o.status === 'FILLED'));

    const server = await serveMetrics(registry, 0);
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(sample(text, 'qe_command_latency_seconds_count')).toBeGreaterThanOrEqual(3);
      expect(sample(text, 'qe_orders_total', '{outcome="FILLED"}')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'qe_commands_total', '{outcome="rejected"}')).toBe(1);
      expect(sample(text, 'qe_dlq_depth')).toBe(1);
      const age = sample(text, 'qe_feed_age_seconds', '{venue="paper",symbol="BTCUSDT"}');
      expect(age).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'qe_event_loop_delay_seconds', '{quantile="0.99"}')).toBeGreaterThan(0);
      expect(sample(text, 'qe_sessions', '{status="active"}')).toBe(1);
      expect(sample(text, 'qe_trading_rules_unreadable', '{venue="paper"}')).toBe(0);
      expect(sample(text, 'qe_trading_rules_unreadable', '{venue="live"}')).toBe(0);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
