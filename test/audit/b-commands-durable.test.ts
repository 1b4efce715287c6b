import { describe, expect, it } from 'vitest';
import type { ChildService } from '../support/child.js';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { useChildFixture } from '../support/child-fixture.js';
import { waitFor } from '../support/wait.js';

// Audit failure B: commands over fire-and-forget Pub/Sub are lost while the executor is down or restarting.
// Here commands sit in a Redis stream with a consumer group: appended while the service is down, they are
// all processed once it starts; with a SIGKILL mid-stream, none is lost and none is applied twice.

const users = Array.from({ length: 8 }, (_, i) => `b-user-${i}`);

function commandsBatch(tag: string, count: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i += 1) {
    const userId = users[i % users.length] ?? 'b-user-0';
    const id = `${tag}-${i}`;
    const kind = Math.floor(i / users.length) % 5;
    if (kind === 0) out.push({ id, userId, type: 'session.start', mode: 'paper', capitalUsd: 1000 + i });
    else if (kind === 1) out.push({ id, userId, type: 'session.set_stoploss', pct: 1 + (i % 40) });
    else if (kind === 2) out.push({ id, userId, type: 'session.set_horizon', hours: 1 + (i % 20) });
    else if (kind === 3) out.push({ id, userId, type: i % 2 === 0 ? 'session.pause' : 'session.resume' });
    else out.push({ id, userId, type: 'status' });
  }
  return out;
}

describe('audit B: no command lost or applied twice across downtime and SIGKILL', () => {
  const f = useChildFixture('audit-b', { seed: 3, priceStepMs: 100 });
  const start = (): Promise<ChildService> => f.start();

  // Incremental reader of the outbound stream: final replies (done / rejected) counted per command id.
  const counts = new Map<string, number>();
  let cursor = '0';
  async function finalReplies(): Promise<Map<string, number>> {
    for (;;) {
      const batch = await f.log.tailOutbound(cursor, 1000, 1);
      if (batch.length === 0) return counts;
      for (const record of batch) {
        const e = JSON.parse(record.data) as OutboundEvent;
        if (e.type === 'reply' && e.status !== 'accepted') counts.set(e.commandId, (counts.get(e.commandId) ?? 0) + 1);
      }
      cursor = batch[batch.length - 1]?.id ?? cursor;
    }
  }

  it('processes every command appended while the service was down, exactly once, and survives SIGKILL mid-stream', async () => {
    const whileDown = commandsBatch('down', 120);
    for (const c of whileDown) await f.log.appendCommand(JSON.stringify(c));

    await start();
    await waitFor(
      'all commands sent while down to be answered',
      async () => {
        const r = await finalReplies();
        return whileDown.every((c) => r.has(String(c.id)));
      },
      60_000,
    );

    const midStream = commandsBatch('mid', 3000);
    await Promise.all(midStream.map((c) => f.log.appendCommand(JSON.stringify(c))));
    // Kill as soon as the service is visibly part-way through the batch.
    await waitFor(
      'part of the batch to be processed',
      async () => {
        const r = await finalReplies();
        return midStream.some((c) => r.has(String(c.id)));
      },
      60_000,
      1,
    );
    await f.service?.kill('SIGKILL');
    const atKill = new Map(await finalReplies());
    const answeredAtKill = midStream.filter((c) => atKill.has(String(c.id))).length;
    // The kill must really land mid-stream, or this test would prove nothing about it.
    expect(answeredAtKill).toBeLessThan(midStream.length);

    const afterKill = commandsBatch('after', 80);
    for (const c of afterKill) await f.log.appendCommand(JSON.stringify(c));
    await start();

    const everything = [...whileDown, ...midStream, ...afterKill];
    const replies = await waitFor(
      'every command to be answered after the restart',
      async () => {
        const r = await finalReplies();
        return everything.every((c) => r.has(String(c.id))) ? r : undefined;
      },
      90_000,
    );

    const lost = everything.filter((c) => !replies.has(String(c.id)));
    const twice = [...replies.entries()].filter(([, n]) => n !== 1);
    expect(lost).toEqual([]);
    expect(twice).toEqual([]);
    expect(await f.log.pendingCommandCount()).toBe(0);
  });
});
