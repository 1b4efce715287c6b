import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { maxDeadLetterPayloadBytes } from '../../src/log/dead-letter.js';
import type { EngineLog } from '../../src/log/port.js';

// One contract, three adapters: every behaviour the engine relies on, checked against Redis, SQLite and memory alike.

export interface LogUnderTest {
  log: EngineLog;
  /** A second, independent handle on the same log (another process, or the same one after a restart). */
  reopen: () => Promise<EngineLog>;
  cleanup: () => Promise<void>;
}

/** Each adapter is opened with reclaimIdleMs = this, so tests can wait past it. */
export const contractReclaimIdleMs = 50;

/** Small retention bounds, so the contract can see them act (a trim pass after every append or ack). */
export const contractLimits = {
  reclaimIdleMs: contractReclaimIdleMs,
  maxOutboundEntries: 3,
  maxOutboundEntriesHard: 8,
  durableOutboundGroups: ['telegram'],
  outboundTrimEveryEntries: 1,
  commandTrimEveryAckedEntries: 1,
  maxDeadLetterEntries: 3,
};

export function logContract(name: string, open: () => Promise<LogUnderTest>): void {
  describe(`log contract: ${name}`, () => {
    const opened: LogUnderTest[] = [];
    const handles: EngineLog[] = [];
    async function setup(): Promise<LogUnderTest> {
      const t = await open();
      opened.push(t);
      await t.log.init();
      return t;
    }
    async function second(t: LogUnderTest): Promise<EngineLog> {
      const h = await t.reopen();
      handles.push(h);
      await h.init();
      return h;
    }
    afterEach(async () => {
      for (const h of handles.splice(0)) await h.close();
      for (const t of opened.splice(0)) {
        await t.log.close();
        await t.cleanup();
      }
    });

    it('delivers appended commands once, and an acked command is no longer pending', async () => {
      const { log } = await setup();
      const a = await log.appendCommand('{"n":1}');
      const b = await log.appendCommand('{"n":2}');
      const got = await log.readCommands('c1', 10, 10);
      expect(got.map((d) => [d.entryId, d.raw, d.deliveryCount])).toEqual([
        [a, '{"n":1}', 1],
        [b, '{"n":2}', 1],
      ]);
      expect(await log.readCommands('c2', 10, 10)).toEqual([]);
      expect(await log.pendingCommandCount()).toBe(2);
      await log.commit({ wal: [], outbound: [], ack: [a, b], deadLetters: [] });
      expect(await log.pendingCommandCount()).toBe(0);
      await sleep(contractReclaimIdleMs * 2);
      expect(await log.reclaimStaleCommands('c2', 10)).toEqual([]);
    });

    it('hands an unacked command to another consumer with a growing delivery count', async () => {
      const { log } = await setup();
      const id = await log.appendCommand('x');
      await log.readCommands('dead', 10, 10);
      await sleep(contractReclaimIdleMs * 2);
      const first = await log.reclaimStaleCommands('alive', 10);
      expect(first.map((d) => [d.entryId, d.deliveryCount])).toEqual([[id, 2]]);
      await sleep(contractReclaimIdleMs * 2);
      const again = await log.reclaimStaleCommands('alive', 10);
      expect(again.map((d) => [d.entryId, d.deliveryCount])).toEqual([[id, 3]]);
    });

    it('does not reclaim a command before it has been idle for reclaimIdleMs', async () => {
      const { log } = await setup();
      await log.appendCommand('x');
      await log.readCommands('busy', 10, 10);
      expect(await log.reclaimStaleCommands('other', 10)).toEqual([]);
    });

    it('commits WAL, outbound, acks and dead letters together and returns WAL ids in order', async () => {
      const { log } = await setup();
      const a = await log.appendCommand('ok');
      const b = await log.appendCommand('{bad');
      await log.readCommands('c', 10, 10);
      const ids = await log.commit({
        wal: ['{"e":1}', '{"e":2}', '{"e":3}'],
        outbound: ['{"o":1}'],
        ack: [a],
        deadLetters: [{ entryId: b, raw: '{bad', reason: 'not JSON' }],
      });
      expect(ids).toHaveLength(3);
      const wal = await log.readWal(null, 10);
      expect(wal.map((r) => r.id)).toEqual(ids);
      expect(wal.map((r) => r.data)).toEqual(['{"e":1}', '{"e":2}', '{"e":3}']);
      expect(await log.pendingCommandCount()).toBe(0);
      const dead = await log.readDeadLetters(10);
      expect(dead.map((d) => [d.entryId, d.raw, d.reason])).toEqual([[b, '{bad', 'not JSON']]);
      expect((await log.tailOutbound('0', 10, 1)).map((r) => r.data)).toEqual(['{"o":1}']);
    });

    it('reads the WAL after an id exclusively, in order, in batches', async () => {
      const { log } = await setup();
      const ids = await log.commit({ wal: Array.from({ length: 7 }, (_, i) => `{"i":${i}}`), outbound: [], ack: [], deadLetters: [] });
      expect((await log.readWal(ids[2] ?? null, 3)).map((r) => r.id)).toEqual(ids.slice(3, 6));
      expect((await log.readWal(ids[6] ?? null, 3)).map((r) => r.id)).toEqual([]);
    });

    it('keeps the snapshot and drops the WAL up to it, not after it', async () => {
      const { log } = await setup();
      expect(await log.loadSnapshot()).toBeNull();
      const ids = await log.commit({ wal: ['{"a":1}', '{"a":2}', '{"a":3}'], outbound: [], ack: [], deadLetters: [] });
      await log.saveSnapshot({ walId: ids[1] ?? '', data: '{"state":2}' });
      expect(await log.loadSnapshot()).toEqual({ walId: ids[1], data: '{"state":2}' });
      expect((await log.readWal(null, 10)).map((r) => r.id)).toEqual([ids[2]]);
      expect((await log.readWal(ids[1] ?? null, 10)).map((r) => r.data)).toEqual(['{"a":3}']);
    });

    it('keeps a snapshot of a megabyte whole, and a small one saved after it replaces it whole', async () => {
      const t = await setup();
      const { log } = t;
      const ids = await log.commit({ wal: ['{"a":1}', '{"a":2}'], outbound: [], ack: [], deadLetters: [] });
      // Not a repetition: a part put back in the wrong place or left out changes the text.
      const big = JSON.stringify({ ids: Array.from({ length: 110_000 }, (_, i) => `c:${i}`) });
      expect(big.length).toBeGreaterThan(1_000_000);
      await log.saveSnapshot({ walId: ids[0] ?? '', data: big });
      expect(await log.loadSnapshot()).toEqual({ walId: ids[0], data: big });
      await log.saveSnapshot({ walId: ids[1] ?? '', data: '{"small":true}' });
      expect(await (await second(t)).loadSnapshot()).toEqual({ walId: ids[1], data: '{"small":true}' });
    });

    it('appends fill-ledger entries with the WAL events that carry them; a snapshot never trims them', async () => {
      const t = await setup();
      const { log } = t;
      const entry = (userId: string, sessionId: string, n: number) => ({ userId, sessionId, data: `{"n":${n}}` });
      const ids = await log.commit({
        wal: ['{"w":0}', '{"w":1}', '{"w":2}'],
        outbound: [],
        ack: [],
        deadLetters: [],
        ledger: [
          { walIndex: 1, ...entry('alice', 'alice:1', 1) },
          { walIndex: 2, ...entry('bob', 'bob:1', 2) },
          { walIndex: 2, ...entry('alice', 'alice:1', 3) },
        ],
      });
      const more = await log.commit({ wal: ['{"w":3}'], outbound: [], ack: [], deadLetters: [], ledger: [{ walIndex: 0, ...entry('alice', 'alice:2', 4) }] });
      await log.saveSnapshot({ walId: more[0] ?? '', data: 'S' });
      expect(await log.readWal(null, 10)).toEqual([]);
      const all = await log.readLedger({ afterId: null, maxEntries: 10 });
      expect(all.records.map((r) => [r.walId, r.data])).toEqual([
        [ids[1], '{"n":1}'],
        [ids[2], '{"n":2}'],
        [ids[2], '{"n":3}'],
        [more[0], '{"n":4}'],
      ]);
      expect(all.nextAfterId).toBeNull();
      // Selected by user, by session; paged.
      const data = async (q: { userId?: string; sessionId?: string }) =>
        (await log.readLedger({ afterId: null, maxEntries: 10, ...q })).records.map((r) => r.data);
      expect(await data({ userId: 'alice' })).toEqual(['{"n":1}', '{"n":3}', '{"n":4}']);
      expect(await data({ sessionId: 'alice:1' })).toEqual(['{"n":1}', '{"n":3}']);
      expect(await data({ userId: 'carol' })).toEqual([]);
      const walked: string[] = [];
      for (let afterId: string | null = null, pages = 0; pages < 10; pages += 1) {
        const page = await log.readLedger({ afterId, maxEntries: 2, userId: 'alice' });
        walked.push(...page.records.map((r) => r.data));
        if (page.nextAfterId === null) break;
        afterId = page.nextAfterId;
      }
      expect(walked).toEqual(['{"n":1}', '{"n":3}', '{"n":4}']);
      // Another handle (another process, a restart) reads the same ledger.
      expect((await (await second(t)).readLedger({ afterId: null, maxEntries: 10 })).records).toEqual(all.records);
    });

    it('refuses a ledger entry without its WAL event, and writes nothing of that batch', async () => {
      const { log } = await setup();
      await expect(
        log.commit({ wal: ['{"w":1}'], outbound: ['{"o":1}'], ack: [], deadLetters: [], ledger: [{ walIndex: 1, userId: 'u', sessionId: 's', data: '{}' }] }),
      ).rejects.toThrow(/WAL event 1/);
      expect(await log.readWal(null, 10)).toEqual([]);
      expect(await log.tailOutbound('0', 10, 1)).toEqual([]);
      expect((await log.readLedger({ afterId: null, maxEntries: 10 })).records).toEqual([]);
    });

    it('shows a second handle everything committed by the first', async () => {
      const t = await setup();
      const id = await t.log.appendCommand('{"k":1}');
      const walIds = await t.log.commit({ wal: ['{"w":1}'], outbound: ['{"o":1}'], ack: [], deadLetters: [] });
      await t.log.saveSnapshot({ walId: walIds[0] ?? '', data: 'S' });
      const other = await second(t);
      expect((await other.readCommands('c', 10, 10)).map((d) => d.entryId)).toEqual([id]);
      expect(await other.loadSnapshot()).toEqual({ walId: walIds[0], data: 'S' });
      expect((await other.tailOutbound('0', 10, 1)).map((r) => r.data)).toEqual(['{"o":1}']);
    });

    it('round-trips a 1 MB entry and non-JSON bytes untouched', async () => {
      const { log } = await setup();
      const big = 'x'.repeat(1024 * 1024);
      const odd = 'not json \u0000 \u00e9 \ud83d\ude00';
      await log.appendCommand(big);
      await log.appendCommand(odd);
      const got = await log.readCommands('c', 10, 10);
      expect(got[0]?.raw.length).toBe(big.length);
      expect(got[1]?.raw).toBe(odd);
    });

    it('gives each outbound group every event, redelivers pending ones until acked', async () => {
      const { log } = await setup();
      await log.commit({ wal: [], outbound: ['{"e":1}', '{"e":2}'], ack: [], deadLetters: [] });
      await log.initOutboundGroup('telegram');
      await log.initOutboundGroup('dashboard');
      const tg = await log.readOutbound('telegram', 'bot-1', 10, 10);
      const db = await log.readOutbound('dashboard', 'web-1', 10, 10);
      expect(tg.map((r) => r.data)).toEqual(['{"e":1}', '{"e":2}']);
      expect(db.map((r) => r.data)).toEqual(['{"e":1}', '{"e":2}']);
      expect(await log.readOutbound('telegram', 'bot-1', 10, 10)).toEqual([]);
      // "Restart": the unacked events are still this consumer's until acked.
      expect((await log.readOutboundPending('telegram', 'bot-1', 10)).map((r) => r.data)).toEqual(['{"e":1}', '{"e":2}']);
      await log.ackOutbound('telegram', [tg[0]?.id ?? '']);
      expect((await log.readOutboundPending('telegram', 'bot-1', 10)).map((r) => r.data)).toEqual(['{"e":2}']);
      await log.initOutboundGroup('telegram'); // idempotent: keeps its position
      expect(await log.readOutbound('telegram', 'bot-1', 10, 10)).toEqual([]);
    });

    it('keeps the newest outbound entries, and older ones a durable group has not acknowledged, up to the hard cap', async () => {
      const { log } = await setup();
      const commitOne = async (n: number): Promise<void> => void (await log.commit({ wal: [], outbound: [`{"n":${n}}`], ack: [], deadLetters: [] }));
      const kept = async (): Promise<number[]> => (await log.tailOutbound('0', 100, 1)).map((r) => (JSON.parse(r.data) as { n: number }).n);
      for (let n = 1; n <= 5; n += 1) await commitOne(n);
      expect(await kept()).toEqual([3, 4, 5]); // no durable group yet: the newest 3

      await log.initOutboundGroup('telegram'); // created at the oldest entry still there (3)
      await log.initOutboundGroup('console'); // not durable: holds nothing back
      for (let n = 6; n <= 7; n += 1) await commitOne(n);
      expect(await kept()).toEqual([3, 4, 5, 6, 7]); // telegram has read nothing

      const read = await log.readOutbound('telegram', 'bot', 3, 10); // 3, 4, 5 delivered
      await log.ackOutbound('telegram', [read[0]?.id ?? '']); // 3 acknowledged; 4 and 5 pending
      await commitOne(8);
      expect(await kept()).toEqual([4, 5, 6, 7, 8]); // 3 goes; the oldest pending (4) stays
      expect((await log.readOutboundPending('telegram', 'bot', 10)).map((r) => r.data)).toEqual(['{"n":4}', '{"n":5}']);

      await log.ackOutbound(
        'telegram',
        read.slice(1).map((r) => r.id),
      );
      const rest = await log.readOutbound('telegram', 'bot', 10, 10);
      await log.ackOutbound(
        'telegram',
        rest.map((r) => r.id),
      );
      await commitOne(9);
      expect(await kept()).toEqual([7, 8, 9]); // all acknowledged: back to the newest 3

      await log.readOutbound('console', 'printer', 100, 10); // a reader that is not durable changes nothing
      for (let n = 10; n <= 12; n += 1) await commitOne(n);
      const late = await log.readOutbound('telegram', 'bot', 2, 10); // 9 and 10 pending
      expect(late.map((r) => r.data)).toEqual(['{"n":9}', '{"n":10}']);
      for (let n = 13; n <= 25; n += 1) await commitOne(n); // telegram reads none of these
      expect(await kept()).toEqual([18, 19, 20, 21, 22, 23, 24, 25]); // the hard cap (8) wins, even over pending ones
      // The pending entries the cap took are gone from the group's list too; the relay is not stuck on them.
      expect(await log.readOutboundPending('telegram', 'bot', 10)).toEqual([]);
      expect((await log.readOutbound('telegram', 'bot', 100, 10)).map((r) => r.data)).toEqual([
        '{"n":18}',
        '{"n":19}',
        '{"n":20}',
        '{"n":21}',
        '{"n":22}',
        '{"n":23}',
        '{"n":24}',
        '{"n":25}',
      ]);
    });

    it('drops acknowledged and dead-lettered command entries, never an undelivered or pending one', async () => {
      const { log } = await setup();
      for (let n = 0; n < 30; n += 1) {
        const id = await log.appendCommand(`{"n":${n}}`);
        expect((await log.readCommands('c', 10, 10)).map((d) => d.entryId)).toEqual([id]);
        const dead = n % 3 === 0 ? [{ entryId: id, raw: 'bad', reason: 'refused' }] : [];
        await log.commit({ wal: [], outbound: [], ack: dead.length > 0 ? [] : [id], deadLetters: dead });
      }
      expect(await log.commandEntryCount()).toBe(0); // 30 commands handled, none kept

      const appended: string[] = [];
      for (const x of ['a', 'b', 'c', 'd', 'e']) appended.push(await log.appendCommand(`{"x":"${x}"}`));
      const [a = '', b = '', c = '', d = '', e = ''] = appended;
      expect((await log.readCommands('dead', 3, 10)).map((x) => x.entryId)).toEqual([a, b, c]);
      await log.commit({ wal: [], outbound: [], ack: [a, c], deadLetters: [] }); // b stays pending; d, e undelivered
      const held = await log.commandEntryCount();
      expect(held).toBeGreaterThanOrEqual(3); // b, d, e (and c may linger behind pending b)
      expect(held).toBeLessThanOrEqual(4);
      await sleep(contractReclaimIdleMs * 2);
      const reclaimed = await log.reclaimStaleCommands('alive', 10);
      expect(reclaimed.map((x) => [x.entryId, x.raw, x.deliveryCount])).toEqual([[b, '{"x":"b"}', 2]]);
      expect((await log.readCommands('alive', 10, 10)).map((x) => [x.entryId, x.raw])).toEqual([
        [d, '{"x":"d"}'],
        [e, '{"x":"e"}'],
      ]);
      await log.commit({ wal: [], outbound: [], ack: [b, d, e], deadLetters: [] });
      expect(await log.pendingCommandCount()).toBe(0);
      expect(await log.commandEntryCount()).toBe(0);
    });

    it('holds the caps and acknowledges every command when one commit carries more than the caps and 2 500 acks', async () => {
      const { log } = await setup();
      await log.initOutboundGroup('telegram'); // durable: only the hard cap (8) limits what is kept
      const commands = 2_500;
      for (let n = 0; n < commands; n += 500) await Promise.all(Array.from({ length: 500 }, (_, i) => log.appendCommand(`{"n":${n + i}}`)));
      const read = await log.readCommands('c', commands + 10, 10);
      expect(read).toHaveLength(commands);
      const [dead1, dead2, dead3, dead4, ...acked] = read;
      const deadLetters = [dead1, dead2, dead3, dead4].map((d, i) => ({ entryId: d?.entryId ?? '', raw: d?.raw ?? '', reason: `refused ${i}` }));
      await log.commit({
        wal: [],
        outbound: Array.from({ length: 20 }, (_, n) => `{"o":${n}}`),
        ack: acked.map((d) => d.entryId),
        deadLetters,
      });
      expect(await log.pendingCommandCount()).toBe(0);
      expect((await log.tailOutbound('0', 100, 1)).map((r) => (JSON.parse(r.data) as { o: number }).o)).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
      expect((await log.readDeadLetters(10)).map((x) => x.reason)).toEqual(['refused 1', 'refused 2', 'refused 3']);
    });

    it('keeps the newest maxDeadLetterEntries dead letters and counts them without reading them', async () => {
      const { log } = await setup();
      expect(await log.deadLetterCount()).toBe(0);
      const kill = async (...ns: number[]): Promise<void> => {
        const deadLetters = [];
        for (const n of ns) deadLetters.push({ entryId: await log.appendCommand(`bad ${n}`), raw: `bad ${n}`, reason: `reason ${n}` });
        await log.readCommands('c', 10, 10);
        await log.commit({ wal: [], outbound: [], ack: [], deadLetters });
      };
      await kill(1);
      await kill(2, 3);
      expect(await log.deadLetterCount()).toBe(3);
      await kill(4, 5);
      expect(await log.deadLetterCount()).toBe(3); // the cap (3) holds
      expect((await log.readDeadLetters(10)).map((x) => [x.raw, x.reason])).toEqual([
        ['bad 3', 'reason 3'],
        ['bad 4', 'reason 4'],
        ['bad 5', 'reason 5'],
      ]);
      expect((await log.readDeadLetters(2)).map((x) => x.raw)).toEqual(['bad 4', 'bad 5']); // the newest, oldest first
      expect(await log.readDeadLetters(0)).toEqual([]);
    });

    it("keeps a bounded prefix of a dead letter's payload, with the whole payload's size and sha256", async () => {
      const { log } = await setup();
      // About 1 MB of 3-byte characters: the byte bound falls inside one, and the prefix must not split it.
      const big = `{"pad":"${'\u20ac'.repeat(350_000)}"}`;
      const small = 'not json \u00e9';
      const bigId = await log.appendCommand('{"pad":"…"}');
      const smallId = await log.appendCommand(small);
      await log.readCommands('c', 10, 10);
      await log.commit({
        wal: [],
        outbound: [],
        ack: [],
        deadLetters: [
          { entryId: bigId, raw: big, reason: 'too big' },
          { entryId: smallId, raw: small, reason: 'not JSON' },
        ],
      });
      const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
      const [kept, whole] = await log.readDeadLetters(10);
      expect(kept?.entryId).toBe(bigId);
      const keptBytes = Buffer.byteLength(kept?.raw ?? '', 'utf8');
      expect(keptBytes).toBeLessThanOrEqual(maxDeadLetterPayloadBytes);
      expect(keptBytes).toBeGreaterThan(maxDeadLetterPayloadBytes - 3);
      expect(big.startsWith(kept?.raw ?? 'x')).toBe(true);
      expect(kept?.raw.endsWith('\u20ac')).toBe(true);
      expect(kept).toMatchObject({ reason: 'too big', rawBytes: Buffer.byteLength(big, 'utf8'), rawSha256: sha256(big), rawTruncated: true });
      expect(whole).toMatchObject({
        entryId: smallId,
        raw: small,
        reason: 'not JSON',
        rawBytes: Buffer.byteLength(small, 'utf8'),
        rawSha256: sha256(small),
        rawTruncated: false,
      });
      expect(await log.deadLetterCount()).toBe(2);
    });

    it('tails only entries newer than lastOutboundId', async () => {
      const { log } = await setup();
      await log.commit({ wal: [], outbound: ['{"old":1}'], ack: [], deadLetters: [] });
      const from = await log.lastOutboundId();
      await log.commit({ wal: [], outbound: ['{"new":1}'], ack: [], deadLetters: [] });
      expect((await log.tailOutbound(from, 10, 1)).map((r) => r.data)).toEqual(['{"new":1}']);
    });

    it('wakes a blocked command read when another handle appends', async () => {
      const t = await setup();
      const other = await second(t);
      const pending = t.log.readCommands('waiter', 10, 10_000);
      await sleep(50);
      const id = await other.appendCommand('{"late":true}');
      const got = await pending;
      expect(got.map((d) => d.entryId)).toEqual([id]);
    });
  });
}
