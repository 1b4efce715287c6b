import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { registerDlqDepth } from '../../src/metrics/engine-metrics.js';

// qe_dlq_depth counts the dead-letter stream (XLEN / COUNT(*)); it never reads entries to count them: a scrape
// once read up to 10 000 whole entries (~700 ms, ~1 GB with 300 KB payloads) and saturated there.

async function depth(registry: Registry): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith('qe_dlq_depth '));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('qe_dlq_depth', () => {
  it('counts dead letters without reading any', async () => {
    const log = openMemoryLog();
    await log.commit({
      wal: [],
      outbound: [],
      ack: [],
      deadLetters: [1, 2, 3].map((n) => ({ entryId: String(n), raw: 'x'.repeat(300_000), reason: 'too big' })),
    });
    const counted = { ...log, readDeadLetters: () => Promise.reject(new Error('the depth must not read dead letters')) };
    const registry = new Registry();
    registerDlqDepth(registry, [counted]);
    expect(await depth(registry)).toBe(3);
  });

  it('counts past 10 000 (it no longer saturates at a read limit)', async () => {
    const log = openMemoryLog({ limits: { maxDeadLetterEntries: 20_000 } });
    await log.commit({
      wal: [],
      outbound: [],
      ack: [],
      deadLetters: Array.from({ length: 10_050 }, (_, n) => ({ entryId: String(n), raw: 'bad', reason: 'not JSON' })),
    });
    const registry = new Registry();
    registerDlqDepth(registry, [log]);
    expect(await depth(registry)).toBe(10_050);
  });
});
