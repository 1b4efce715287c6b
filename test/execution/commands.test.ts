import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { maxDeadLetterPayloadBytes } from '../../src/log/dead-letter.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import type { Harness } from '../support/harness.js';
import { useHarness } from '../support/harness.js';
import { allOutbound } from '../support/outbound.js';
import { waitFor } from '../support/wait.js';

// The execution service against a real Redis and the simulator: duplicates have one effect, bad input is
// answered, kept in the dead-letter stream, and never stops the engine or costs another command.

async function walEvents(h: Harness): Promise<WalEvent[]> {
  return (await h.log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent);
}

describe('execution service: commands', () => {
  const harness = useHarness({ label: 'exec-commands' });

  it('applies a command delivered twice only once', async () => {
    const h = harness();
    const start = { id: 'dup-start', userId: 'dup-user', type: 'session.start', mode: 'paper', capitalUsd: 10_000 };
    await h.send(start);
    await h.send(start);
    await h.reply('dup-start', 'done');
    h.sim.faults.forcePostOnlyReject = true;
    const route = { id: 'dup-route', userId: 'signals', type: 'signals.route', userIds: ['dup-user'], signals: [{ symbol: 'ETHUSDT', weight: 0.4 }] };
    await h.send(route);
    await h.send(route);
    await waitFor('the fill', () => h.sim.position(paperCredentials('dup-user').apiKey, 'ETHUSDT') !== 0);
    // A third copy after everything settled: still nothing new.
    await h.send(route);
    await waitFor('all copies consumed', async () => (await h.log.pendingCommandCount()) === 0 && h.service.engine.pendingInputs === 0);
    await h.service.settle();
    h.sim.faults.forcePostOnlyReject = false;

    const events = await walEvents(h);
    expect(events.filter((e) => e.type === 'command.processed' && e.commandId === 'dup-route')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'session.started' && e.userId === 'dup-user')).toHaveLength(1);
    const orders = h.sim.orders().filter((o) => o.accountKey === paperCredentials('dup-user').apiKey);
    // One post-only attempt (refused by the exchange, so not in its order book) and one bounded fallback.
    expect(orders.map((o) => o.timeInForce)).toEqual(['IOC']);
    const planned = events.filter((e): e is Extract<WalEvent, { type: 'order.planned' }> => e.type === 'order.planned' && e.order.userId === 'dup-user');
    expect(planned.map((e) => e.order.timeInForce)).toEqual(['GTX', 'IOC']);
    const replies = (await allOutbound(h.log)).filter((e) => e.type === 'reply' && e.commandId === 'dup-route');
    expect(replies).toHaveLength(1);
  });

  it('answers bad input with a clear reason, keeps it in the dead-letter stream, and carries on', async () => {
    const h = harness();
    const bad = [
      '{"id":"bad-sl","userId":"u-bad","type":"session.set_stoploss","pct":"abc"}',
      'this is not JSON',
      JSON.stringify({ id: 'bad-type', userId: 'u-bad', type: 'session.explode' }),
      JSON.stringify({ id: 'bad-huge', userId: 'u-bad', type: 'status', pad: 'x'.repeat(1024 * 1024) }),
      JSON.stringify({ id: 'bad-neg', userId: 'u-bad', type: 'session.start', mode: 'paper', capitalUsd: -5 }),
    ];
    for (const raw of bad) await h.log.appendCommand(raw);
    await h.send({ id: 'good-after-bad', userId: 'u-good', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
    await h.reply('good-after-bad', 'done');

    const slReply = await h.reply('bad-sl', 'rejected');
    expect(slReply.reason).toMatch(/pct/);
    expect((await h.reply('bad-type', 'rejected')).reason).toMatch(/type/);
    expect((await h.reply('bad-neg', 'rejected')).reason).toMatch(/capitalUsd/);
    const replies = await allOutbound(h.log);
    expect(replies.some((e) => e.type === 'reply' && e.status === 'rejected' && e.reason === 'command is not valid JSON')).toBe(true);
    expect(replies.some((e) => e.type === 'reply' && e.status === 'rejected' && /bytes; the limit is/.test(e.reason ?? ''))).toBe(true);

    const dead = await h.log.readDeadLetters(100);
    expect(dead).toHaveLength(bad.length);
    // Each payload is kept whole up to maxDeadLetterPayloadBytes (the 1 MB one as a prefix), sized and hashed in full.
    expect(dead.map((d) => d.raw)).toEqual(bad.map((raw) => raw.slice(0, maxDeadLetterPayloadBytes)));
    expect(dead.map((d) => [d.rawBytes, d.rawSha256, d.rawTruncated])).toEqual(
      bad.map((raw) => [Buffer.byteLength(raw), createHash('sha256').update(raw).digest('hex'), Buffer.byteLength(raw) > maxDeadLetterPayloadBytes]),
    );
    expect(await h.log.pendingCommandCount()).toBe(0);
  });

  it('rejects live mode unless it is enabled and the user approved', async () => {
    const h = harness();
    await h.send({ id: 'live-try', userId: 'u-live', type: 'session.start', mode: 'live', capitalUsd: 1_000 });
    expect((await h.reply('live-try', 'rejected')).reason).toMatch(/live trading is disabled/);
  });

  it('stops a session: flatten, then done', async () => {
    const h = harness();
    await h.send({ id: 'stop-start', userId: 'stopper', type: 'session.start', mode: 'paper', capitalUsd: 10_000, stopLossPct: 50 });
    await h.reply('stop-start', 'done');
    h.sim.faults.forcePostOnlyReject = true;
    await h.send({ id: 'stop-route', userId: 'signals', type: 'signals.route', userIds: ['stopper'], signals: [{ symbol: 'SOLUSDT', weight: -0.5 }] });
    await waitFor('a short', () => h.sim.position(paperCredentials('stopper').apiKey, 'SOLUSDT') < 0);
    h.sim.faults.forcePostOnlyReject = false;
    await h.send({ id: 'stop-now', userId: 'stopper', type: 'session.stop' });
    await h.reply('stop-now', 'accepted');
    await h.reply('stop-now', 'done');
    expect(h.sim.position(paperCredentials('stopper').apiKey, 'SOLUSDT')).toBe(0);
    expect(h.service.engine.current.durable.sessions.get('stopper')?.status).toBe('closed');
  });
});
