import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { maxDeadLetterPayloadBytes } from '../../src/log/dead-letter.js';
import { streamNames } from '../../src/log/port.js';
import { useHarness } from '../support/harness.js';
import { allOutbound } from '../support/outbound.js';
import { redisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

// Fuzzing the command stream: malformed entries appended straight to Redis, interleaved with valid ones.
// The engine stays up, every bad entry is answered with a rejection and parked in the dead-letter stream
// with its reason, and every valid command is processed.

const junkValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e400', '', null, true, [], {}),
  fc.constantFrom(-1, 0, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2),
);

const badCommand = fc.oneof(
  // Right envelope, wrong or missing fields.
  fc.record({
    id: fc.string({ minLength: 1, maxLength: 10 }).map((s) => `fz-${s.replace(/[^A-Za-z0-9]/g, 'x')}`),
    userId: fc.constant('fuzz'),
    type: fc.constantFrom('session.start', 'session.set_stoploss', 'session.set_horizon', 'signals.route'),
    capitalUsd: junkValue,
    pct: junkValue,
    hours: junkValue,
    signals: junkValue,
  }),
  // Unknown types and missing ids.
  fc.record({ type: fc.string(), userId: junkValue }),
  // Not an object at all.
  junkValue,
);

describe('command stream fuzzing', () => {
  const harness = useHarness({ label: 'fuzz' });

  it('rejects and dead-letters every bad entry and processes every valid one', async () => {
    const h = harness();
    const raw = createClient({ url: redisUrl, disableOfflineQueue: true });
    await raw.connect();
    const commandsKey = `${h.prefix}${streamNames.commands}`;
    const samples = fc.sample(badCommand, { numRuns: 150, seed: 7 });
    const bad: (string | Buffer)[] = samples.map((s) => (s === undefined ? 'undefined' : JSON.stringify(s)));
    bad.push('x'.repeat(1024 * 1024), Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28]), '{"id":"trunc', '');
    const valid: string[] = [];
    // Valid commands for users named like Object.prototype members, which once crashed the engine.
    const prototypeNames = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'];
    const heapBeforeBytes = process.memoryUsage().heapUsed;
    let i = 0;
    for (const entry of bad) {
      await raw.xAdd(commandsKey, '*', { data: entry });
      i += 1;
      if (i % 10 === 0) {
        const id = `fuzz-valid-${i}`;
        valid.push(id);
        await raw.xAdd(commandsKey, '*', { data: JSON.stringify({ id, userId: `fuzz-user-${i}`, type: 'session.start', mode: 'paper', capitalUsd: 1_000 }) });
      }
      if (i % 25 === 0) {
        const userId = prototypeNames[(i / 25) % prototypeNames.length] ?? 'constructor';
        for (const type of ['status', 'session.pause', 'session.stop']) {
          const id = `fuzz-proto-${i}-${type}`;
          valid.push(id);
          await raw.xAdd(commandsKey, '*', { data: JSON.stringify({ id, userId, type }) });
        }
      }
    }
    raw.destroy();

    const replies = await waitFor(
      'every valid command answered',
      async () => {
        const out = (await allOutbound(h.log)).filter((e): e is Extract<OutboundEvent, { type: 'reply' }> => e.type === 'reply');
        return valid.every((id) => out.some((r) => r.commandId === id && r.status !== 'accepted')) && (await h.log.pendingCommandCount()) === 0
          ? out
          : undefined;
      },
      60_000,
    );

    const dead = await h.log.readDeadLetters(10_000);
    // Entries that happen to be valid commands by chance are processed, not dead-lettered; everything
    // else is in the dead-letter stream with a reason, and got a rejection reply.
    const rejected = replies.filter((r) => r.status === 'rejected');
    expect(dead.length).toBeGreaterThan(bad.length * 0.9);
    expect(dead.every((d) => d.reason.length > 0)).toBe(true);
    expect(rejected.length).toBeGreaterThanOrEqual(dead.length);
    expect(dead.some((d) => /bytes; the limit is/.test(d.reason))).toBe(true);
    // The engine is still up and deciding.
    const after = await h.send({ id: 'fuzz-after', userId: 'fuzz-final', type: 'status' });
    await h.reply(after, 'done');

    // Nothing is kept whole, nothing forever: each dead letter holds a bounded prefix (the 1 MB entry is sized
    // and hashed, not stored again), and handled entries leave the command stream (a trim pass, as every
    // commandTrimEveryAckedEntries acknowledged entries and at init, leaves none: nothing is pending now).
    expect(dead.every((d) => Buffer.byteLength(d.raw) <= maxDeadLetterPayloadBytes)).toBe(true);
    expect(dead.find((d) => d.rawBytes === 1024 * 1024)).toMatchObject({
      rawTruncated: true,
      rawSha256: createHash('sha256')
        .update('x'.repeat(1024 * 1024))
        .digest('hex'),
    });
    const probe = createClient({ url: redisUrl, disableOfflineQueue: true });
    await probe.connect();
    const dlqBytes = await probe.memoryUsage(`${h.prefix}${streamNames.deadLetters}`, { SAMPLES: 0 }).finally(() => probe.destroy());
    expect(dlqBytes).toBeLessThan(1024 * 1024);
    expect(await h.log.commandEntryCount()).toBeLessThan(bad.length + valid.length + 1);
    await h.log.init();
    expect(await h.log.commandEntryCount()).toBe(0);
    // Every valid command got exactly one final answer, and the process did not balloon on the 1 MB entry.
    for (const id of valid)
      expect(
        replies.filter((r) => r.commandId === id && r.status !== 'accepted'),
        id,
      ).toHaveLength(1);
    expect(replies.filter((r) => r.commandId.startsWith('fuzz-valid-')).every((r) => r.status === 'done')).toBe(true);
    const heapGrowthBytes = process.memoryUsage().heapUsed - heapBeforeBytes;
    expect(heapGrowthBytes).toBeLessThan(64 * 1024 * 1024);
  });
});
