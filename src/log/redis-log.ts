import { readStoredDeadLetter } from './dead-letter.js';
import type { CommandDelivery } from '../model/command-delivery.js';
import type { CommitBatch, EngineLog, LedgerRecord, LogLimits, LogRecord, Snapshot, StoredDeadLetter } from './port.js';
import { CommitOutcomeUnknownError, defaultLogLimits, maxLedgerScanEntries, streamNames } from './port.js';
import { partitionKeys } from './partition.js';
import { assertSnapshotPartChars, commitBatch, saveSnapshotFenced, snapshotOfFields } from './redis-commit.js';
import type { LogFence, WriteFence } from './redis-fence.js';
import { StaleLeaseError } from './redis-fence.js';
import type { RedisConnection } from './redis-connection.js';
import { connectRedis, sendToNodeOf } from './redis-connection.js';
import type { ReplicaAcks } from './replica-acks.js';
import { assertReplicaAcks, awaitReplicas, ReplicaAckError, unconfirmed } from './replica-acks.js';

// The log on Redis Streams. Commands: XADD to cmd:exec, read with XREADGROUP (group exec), acknowledged by
// XACK inside the same script that appends the WAL and the outbound events (src/log/redis-commit.ts), so
// "decided" and "acknowledged" cannot come apart. A consumer that dies leaves its entries pending; XAUTOCLAIM hands them
// to a live consumer and XPENDING tells how often each was delivered.
// The client is node-redis with disableOfflineQueue: a write issued while disconnected fails at once
// instead of being replayed later behind our back (which could duplicate it).
// One log is one partition (src/log/partition.ts) of a single Redis or of a Redis Cluster; with a fence, every
// commit is refused unless the writer's lease is still current (src/cluster/lease.ts).

type Client = RedisConnection;

interface StreamMessage {
  id: string;
  message: Record<string, string>;
}

function asMessages(reply: unknown): StreamMessage[] {
  if (!Array.isArray(reply)) return [];
  const out: StreamMessage[] = [];
  for (const stream of reply as { messages?: (StreamMessage | null)[] }[]) {
    for (const m of stream.messages ?? []) if (m) out.push(m);
  }
  return out;
}

/** A stream entry as Redis sends it: its id, then its fields and values in turn. */
type RawStreamEntry = [id: string, fields: string[]];

/** The entry's `data` field ('' if none; the last one if several, as the client's own transform reads it). */
function walRecordOf([id, fields]: RawStreamEntry): LogRecord {
  let data = '';
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'data') data = fields[i + 1] as string;
  return { id, data };
}

/** The smallest stream id strictly greater than `id` (for exclusive ranges and MINID trims). */
function nextId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  return `${ms}-${BigInt(seq) + 1n}`;
}

/** One retention pass reads at most this many of the oldest outbound entries (it runs every outboundTrimEveryEntries). */
const maxOutboundTrimScanEntries = 2_000;

export interface RedisLogOptions {
  /** A single Redis; or, instead, `clusterUrls`: root nodes of a Redis Cluster (then `partition` is required). */
  url?: string;
  clusterUrls?: string[];
  prefix?: string;
  /** The partition this log is (keys tagged `{p<n>}`); undefined = today's untagged keys (single Redis only). */
  partition?: number;
  /** The writer's lease: every commit checks it atomically and is refused (StaleLeaseError) once it is stale. */
  fence?: LogFence;
  limits?: Partial<LogLimits>;
  /** Each commit and snapshot counts only once this many replicas hold it (src/log/replica-acks.ts). */
  replicaAcks?: ReplicaAcks;
  /** A snapshot is written in parts of at most this many characters, a command each (default defaultSnapshotPartChars). */
  snapshotPartChars?: number;
}

export async function openRedisLog(opts: RedisLogOptions): Promise<EngineLog> {
  const prefix = opts.prefix ?? '';
  const limits: LogLimits = { ...defaultLogLimits, ...opts.limits };
  // Refused at open, not at the first snapshot's save (a warning then, and no snapshot ever saved).
  if (opts.snapshotPartChars !== undefined) assertSnapshotPartChars(opts.snapshotPartChars);
  if (opts.clusterUrls && opts.partition === undefined) throw new Error('a log on a Redis Cluster needs a partition (its keys must share a slot)');
  const key = partitionKeys(prefix, opts.partition);
  if (opts.replicaAcks) assertReplicaAcks(opts.replicaAcks);
  /**
   * The first unconfirmed write (ReplicaAckError): from then on this log writes nothing more. Its owner drops the
   * partition on being told (onUnconfirmed) and boots it again from what the log holds, but the drop closes the log
   * asynchronously: a commit decided meanwhile, from a state that lacks the unconfirmed step the master may hold, would
   * land after it in the WAL (an order planned twice, on replay). Refused before anything is sent: a certain failure.
   */
  let unconfirmedWrite: ReplicaAckError | null = null;
  const refuseAfterUnconfirmed = (): void => {
    if (unconfirmedWrite) throw unconfirmedWrite;
  };
  const noteUnconfirmed = (error: unknown): never => {
    if (error instanceof ReplicaAckError) unconfirmedWrite ??= error;
    throw error;
  };
  /** After a write on `client`: waits for the replicas when acknowledged commits are asked for. */
  const replicated = (): Promise<void> => (opts.replicaAcks ? awaitReplicas(client, key.wal, opts.replicaAcks).catch(noteUnconfirmed) : Promise.resolve());
  const group = streamNames.commandGroup;
  const client: Client = await connectRedis(opts);
  // Blocking reads hold their connection; a second one keeps writes flowing meanwhile.
  const blocking: Client = await connectRedis(opts);

  async function createGroup(stream: string, name: string, from: string): Promise<void> {
    try {
      await client.xGroupCreate(stream, name, from, { MKSTREAM: true });
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  async function deliveryCounts(ids: string[], consumer: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (ids.length === 0) return counts;
    const sorted = [...ids].sort((a, b) => compareIds(a, b));
    const pending = await client.xPendingRange(key.commands, group, sorted[0] ?? '-', sorted[sorted.length - 1] ?? '+', ids.length + 100, { consumer });
    for (const p of pending as { id: string; deliveriesCounter: number }[]) counts.set(p.id, p.deliveriesCounter);
    return counts;
  }

  let outboundSinceTrim = 0;
  /** Retention (see LogLimits): the newest maxOutboundEntries, plus what a durable group still needs. */
  async function trimOutbound(): Promise<void> {
    const length = await client.xLen(key.outbound);
    if (length <= limits.maxOutboundEntries) return;
    let floor: string | null = null; // entries from here on are still needed by a durable group
    const groups = (await client.xInfoGroups(key.outbound)) as unknown as { name: string; pending: number; 'last-delivered-id': string }[];
    for (const g of groups) {
      if (!limits.durableOutboundGroups.includes(g.name)) continue;
      const needed = g.pending > 0 ? ((await client.xPending(key.outbound, g.name)) as { firstId: string | null }).firstId : null;
      const candidate = needed ?? nextId(g['last-delivered-id']);
      if (floor === null || compareIds(candidate, floor) < 0) floor = candidate;
    }
    // Streams have no offsets: the boundary of the newest maxOutboundEntries is found by reading the excess.
    const excess = (await client.xRange(key.outbound, '-', '+', {
      COUNT: Math.min(length - limits.maxOutboundEntries, maxOutboundTrimScanEntries),
    })) as StreamMessage[];
    const last = excess[excess.length - 1];
    if (!last) return;
    const cutoff = floor !== null && compareIds(floor, nextId(last.id)) < 0 ? floor : nextId(last.id);
    await client.xTrim(key.outbound, 'MINID', cutoff);
  }

  let ackedSinceCommandTrim = 0;
  /** The trim pass in flight, if any: at most one at a time. */
  let commandTrim: Promise<void> | null = null;
  /**
   * Drops acknowledged command entries: every entry older than both the oldest pending entry of the `exec`
   * group and the first one it has not delivered yet. Why this is safe without a lock: the group's
   * last-delivered id (L) is read first, the pending summary (oldest pending P) after. Every entry up to L that
   * is not pending at that second read has been acknowledged and can never become pending again (`>` reads
   * only deliver entries after the then last-delivered id, which is at least L; XAUTOCLAIM takes only pending
   * ones). The cut, min(P, L + 1), therefore never removes an undelivered or pending entry, even while other
   * consumers read and acknowledge concurrently.
   */
  async function trimCommands(): Promise<void> {
    const groups = (await client.xInfoGroups(key.commands)) as unknown as { name: string; 'last-delivered-id': string }[];
    const exec = groups.find((g) => g.name === group);
    if (!exec) return; // no group yet: nothing has been delivered, so nothing acknowledged
    const pending = (await client.xPending(key.commands, group)) as { pending: number; firstId: string | null };
    let cutoff = nextId(exec['last-delivered-id']);
    if (Number(pending.pending) > 0 && pending.firstId !== null && compareIds(pending.firstId, cutoff) < 0) cutoff = pending.firstId;
    // Exact (not `~`) so what is left is exactly what is still needed; a pass runs once per many acks.
    await client.xTrim(key.commands, 'MINID', cutoff);
  }

  /** Asked for since the running pass read the group: the pass runs once more, so no acked entry is left behind. */
  let commandTrimAgain = false;
  function requestCommandTrim(): void {
    commandTrimAgain = true;
    if (commandTrim) return;
    commandTrim = (async () => {
      while (commandTrimAgain) {
        commandTrimAgain = false;
        await trimCommands().catch(() => undefined);
      }
      // Cleared in the same step as the last check: a request can never fall between the two.
      commandTrim = null;
    })();
  }

  /** Runs a write of the partition under the writer's lease (if the log is fenced); a refusal revokes the lease. */
  async function fenced<T>(write: (fence: WriteFence | null) => Promise<T>): Promise<T> {
    if (!opts.fence) return write(null);
    const value = opts.fence.current();
    if (value === null) throw new StaleLeaseError(key.lease, 'the lease is not held');
    try {
      return await write({ leaseKey: key.lease, value });
    } catch (error) {
      if (error instanceof StaleLeaseError) opts.fence.refused(error);
      throw error;
    }
  }

  const log: EngineLog = {
    async init() {
      await createGroup(key.commands, group, '0');
      // Best effort: a stream left untrimmed by an earlier version (or a crash before a pass) shrinks now.
      await trimCommands().catch(() => undefined);
    },

    async appendCommand(data) {
      return client.xAdd(key.commands, '*', { data });
    },

    async readCommands(consumer, maxEntries, blockMs) {
      const reply = await blocking.xReadGroup(group, consumer, { key: key.commands, id: '>' }, { COUNT: maxEntries, BLOCK: blockMs });
      return asMessages(reply).map((m): CommandDelivery => ({ entryId: m.id, raw: m.message.data ?? '', deliveryCount: 1 }));
    },

    async reclaimStaleCommands(consumer, maxEntries) {
      const reply = (await client.xAutoClaim(key.commands, group, consumer, limits.reclaimIdleMs, '0-0', { COUNT: maxEntries })) as {
        messages: (StreamMessage | null)[];
        deletedMessages: string[];
      };
      // Entries trimmed away while pending can never be processed: drop them from the pending list.
      if (reply.deletedMessages.length > 0) await client.xAck(key.commands, group, reply.deletedMessages);
      const messages = reply.messages.filter((m): m is StreamMessage => m !== null);
      const counts = await deliveryCounts(
        messages.map((m) => m.id),
        consumer,
      );
      return messages.map((m): CommandDelivery => ({ entryId: m.id, raw: m.message.data ?? '', deliveryCount: counts.get(m.id) ?? 2 }));
    },

    async commit(batch: CommitBatch) {
      refuseAfterUnconfirmed();
      const walIds = await fenced((fence) => commitBatch(client, key, group, limits, batch, fence)).catch((error: unknown) => {
        // With acknowledged commits, a commit whose answer was lost is one no replica was seen to hold: reading the
        // master's WAL could not tell whether it survives a failover. It is unconfirmed (the partition boots again).
        if (opts.replicaAcks && error instanceof CommitOutcomeUnknownError) return noteUnconfirmed(unconfirmed(key.wal, opts.replicaAcks));
        throw error;
      });
      await replicated();
      outboundSinceTrim += batch.outbound.length;
      if (outboundSinceTrim >= limits.outboundTrimEveryEntries) {
        outboundSinceTrim = 0;
        // Best effort: the commit has happened; a failed trim is retried after the next batch of appends.
        await trimOutbound().catch(() => undefined);
      }
      ackedSinceCommandTrim += batch.ack.length + batch.deadLetters.length;
      if (ackedSinceCommandTrim >= limits.commandTrimEveryAckedEntries) {
        ackedSinceCommandTrim = 0;
        // Best effort, and off the commit path: the decision loop never waits for a trim (awaiting it here cost
        // a third of the command throughput). Acknowledged entries stay until the pass.
        requestCommandTrim();
      }
      return walIds;
    },

    async readWal(afterId, maxEntries) {
      const start = afterId === null ? '-' : `(${afterId}`;
      // Sent as a raw command: the client's XRANGE reply transform makes two objects an entry (the entry, its fields)
      // that are dropped at once; boot's replay reads every WAL entry through here.
      const entries = (await sendToNodeOf(client, key.wal, ['XRANGE', key.wal, start, '+', 'COUNT', String(maxEntries)])) as RawStreamEntry[];
      return entries.map(walRecordOf);
    },

    async loadSnapshot() {
      return snapshotOfFields(await client.hGetAll(key.snapshot));
    },

    async saveSnapshot(snapshot: Snapshot) {
      refuseAfterUnconfirmed();
      await fenced((fence) => saveSnapshotFenced(client, key, snapshot, nextId(snapshot.walId), fence, opts.snapshotPartChars));
      await replicated();
    },

    async readLedger(query) {
      const max = Math.floor(query.maxEntries);
      if (!(max >= 1)) return { records: [], nextAfterId: query.afterId };
      const filtered = query.userId !== undefined || query.sessionId !== undefined;
      const records: LedgerRecord[] = [];
      let cursor = query.afterId;
      let scanned = 0;
      // Streams have no secondary index: a filtered read scans forward, at most maxLedgerScanEntries per page.
      for (;;) {
        const count = filtered ? Math.min(maxLedgerScanEntries - scanned, Math.max(max, 500)) : max - records.length;
        const entries = (await client.xRange(key.ledger, cursor === null ? '-' : `(${cursor}`, '+', { COUNT: count })) as StreamMessage[];
        for (const m of entries) {
          scanned += 1;
          cursor = m.id;
          const f = m.message;
          if ((query.userId !== undefined && f.userId !== query.userId) || (query.sessionId !== undefined && f.sessionId !== query.sessionId)) continue;
          records.push({ id: m.id, walId: f.walId ?? '', data: f.data ?? '' });
          if (records.length === max) return { records, nextAfterId: m.id };
        }
        if (entries.length < count) return { records, nextAfterId: null };
        if (scanned >= maxLedgerScanEntries) return { records, nextAfterId: cursor };
      }
    },

    async initOutboundGroup(name) {
      await createGroup(key.outbound, name, '0');
    },

    async readOutbound(name, consumer, maxEntries, blockMs) {
      const reply = await blocking.xReadGroup(name, consumer, { key: key.outbound, id: '>' }, { COUNT: maxEntries, BLOCK: blockMs });
      return asMessages(reply).map((m) => ({ id: m.id, data: m.message.data ?? '' }));
    },

    async readOutboundPending(name, consumer, maxEntries) {
      // Not XREADGROUP from 0: an entry trimmed while pending comes back as nil there, which the client cannot
      // parse. List the pending ids, fetch each, and drop the ones trimmed away (the hard cap) from the list.
      const pending = (await client.xPendingRange(key.outbound, name, '-', '+', maxEntries, { consumer })) as { id: string }[];
      const found = await Promise.all(pending.map(async (p) => ((await client.xRange(key.outbound, p.id, p.id)) as StreamMessage[])[0] ?? null));
      const gone = pending.filter((_, i) => found[i] === null).map((p) => p.id);
      if (gone.length > 0) await client.xAck(key.outbound, name, gone);
      return found.filter((m): m is StreamMessage => m !== null).map((m) => ({ id: m.id, data: m.message.data ?? '' }));
    },

    async ackOutbound(name, ids) {
      if (ids.length > 0) await client.xAck(key.outbound, name, ids);
    },

    async tailOutbound(afterId, maxEntries, blockMs) {
      const reply = await blocking.xRead({ key: key.outbound, id: afterId }, { COUNT: maxEntries, BLOCK: blockMs });
      return asMessages(reply).map((m) => ({ id: m.id, data: m.message.data ?? '' }));
    },

    async lastOutboundId() {
      const last = (await client.xRevRange(key.outbound, '+', '-', { COUNT: 1 })) as StreamMessage[];
      return last[0]?.id ?? '0-0';
    },

    async readDeadLetters(maxEntries) {
      if (!(maxEntries >= 1)) return []; // COUNT 0 or less would not mean "none"
      const entries = (await client.xRevRange(key.deadLetters, '+', '-', { COUNT: maxEntries })) as StreamMessage[];
      return entries.reverse().map((m): StoredDeadLetter => {
        const f = m.message;
        return readStoredDeadLetter(
          m.id,
          f.entryId ?? '',
          f.data ?? '',
          f.reason ?? '',
          f.rawBytes === undefined ? null : Number(f.rawBytes),
          f.rawSha256 ?? null,
        );
      });
    },

    async deadLetterCount() {
      return client.xLen(key.deadLetters);
    },

    async pendingCommandCount() {
      const summary = (await client.xPending(key.commands, group)) as { pending: number };
      return Number(summary.pending);
    },

    async commandEntryCount() {
      await commandTrim; // an inspection counts what a finished trim pass left
      return client.xLen(key.commands);
    },

    async close() {
      await commandTrim;
      blocking.destroy();
      await client.close();
    },
  };
  return log;
}

function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm) || BigInt(as) - BigInt(bs);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
