import { createClient } from '@redis/client';
import { describe, expect, it } from 'vitest';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { streamNames } from '../../src/log/port.js';
import { useHarness } from '../support/harness.js';
import { allOutbound } from '../support/outbound.js';
import { redisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

// One command that makes the engine throw must not stop it, nor take the commands read with it. A probe
// found both: the service exited ("engine state cannot be trusted") on a valid command, crashed on each of
// its 5 redeliveries, and every command of its batch was dead-lettered with it. Here a bug is planted in
// the decision of one command (the signal-source check throws for user "poison") and the poison is
// appended in one atomic batch between 60 innocent commands, among them users named like Object.prototype
// members (which used to crash the core for real).

/** The signal-source list; asking it about "poison" throws, as a bug in a handler would. */
class PlantedBugList extends Array<string> {
  override includes(value: string): boolean {
    if (value === 'poison') throw new TypeError('planted bug in the decision');
    return super.includes(value);
  }
}

const prototypeUsers = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'];

describe('a poison command inside a batch', () => {
  const harness = useHarness({ label: 'poison', config: { signalSourceIds: PlantedBugList.from(['signals']) as string[] } });

  it('is dead-lettered alone with the error; the engine stays up and answers every other command once', async () => {
    const h = harness();
    const innocent: string[] = [];
    const entries: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      innocent.push(`ok-a${i}`);
      entries.push(JSON.stringify({ id: `ok-a${i}`, userId: `user-${i}`, type: 'status' }));
    }
    entries.push(JSON.stringify({ id: 'poison-1', userId: 'poison', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.1 }] }));
    for (const [i, userId] of prototypeUsers.entries()) {
      for (const type of ['status', 'session.pause', 'session.stop']) {
        innocent.push(`ok-p${i}-${type}`);
        entries.push(JSON.stringify({ id: `ok-p${i}-${type}`, userId, type }));
      }
      innocent.push(`ok-p${i}-sl`);
      entries.push(JSON.stringify({ id: `ok-p${i}-sl`, userId, type: 'session.set_stoploss', pct: 5 }));
    }
    for (let i = 0; i < 20; i += 1) {
      innocent.push(`ok-b${i}`);
      entries.push(JSON.stringify({ id: `ok-b${i}`, userId: `user-${i}`, type: 'status' }));
    }
    const raw = createClient({ url: redisUrl, disableOfflineQueue: true });
    await raw.connect();
    const multi = raw.multi();
    for (const data of entries) multi.xAdd(`${h.prefix}${streamNames.commands}`, '*', { data });
    await multi.exec();
    raw.destroy();

    const replies = await waitFor(
      'every command answered',
      async () => {
        const out = (await allOutbound(h.log)).filter((e): e is Extract<OutboundEvent, { type: 'reply' }> => e.type === 'reply');
        return [...innocent, 'poison-1'].every((id) => out.some((r) => r.commandId === id)) && (await h.log.pendingCommandCount()) === 0 ? out : undefined;
      },
      30_000,
    );
    for (const id of innocent) {
      const answers = replies.filter((r) => r.commandId === id);
      expect(answers, id).toHaveLength(1);
      expect(answers[0]?.reason ?? '', id).not.toMatch(/could not decide|delivered \d+ times/);
    }
    expect(replies.filter((r) => r.commandId === 'poison-1')).toEqual([
      expect.objectContaining({ status: 'rejected', reason: expect.stringMatching(/could not decide.*planted bug/) }),
    ]);
    const dead = await h.log.readDeadLetters(100);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.reason).toMatch(/planted bug/);
    const alerts = (await allOutbound(h.log)).filter((e) => e.type === 'alert' && e.kind === 'engine_error');
    expect(alerts).toEqual([expect.objectContaining({ userId: 'poison' })]);
    // Still deciding: a session for "constructor" starts, reports itself and stops.
    await h.send({ id: 'after-1', userId: 'constructor', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
    expect((await h.reply('after-1')).status).toBe('done');
    await h.send({ id: 'after-2', userId: 'constructor', type: 'status' });
    expect(await h.reply('after-2', 'done')).toMatchObject({ result: { session: { userId: 'constructor', status: 'active' } } });
  });
});
