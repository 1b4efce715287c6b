import { partitionPoint } from '../model/partition.js';
import { boundDeadLetter } from './dead-letter.js';
import type { CommandDelivery } from '../model/command-delivery.js';
import type { CommitBatch, EngineLog, LedgerRecord, LogLimits, LogRecord, Snapshot, StoredDeadLetter } from './port.js';
import { defaultLogLimits, walIdAt } from './port.js';

// The log in memory, with the same semantics as the Redis and SQLite adapters (same contract suite).
// For the deterministic simulation: no I/O, no timers, time from the injected clock, so a run is a pure
// function of its seed. `crash()`-free by design: the simulation "crashes" the engine, never the log.

interface CommandEntry {
  id: number;
  data: string;
  deliveries: number;
  deliveredAtMs: number | null;
}

export interface MemoryLogOptions {
  limits?: Partial<LogLimits>;
  nowMs?: () => number;
  /** Nobody reads this log's outbound stream (EngineLog.outboundUnread): its entries take ids and are not kept. */
  outboundUnread?: boolean;
}

export interface MemoryLog extends EngineLog {
  /** The command entries still held, in order: undelivered or pending (acknowledged ones are dropped). */
  commands(): readonly { id: string; data: string }[];
}

export function openMemoryLog(opts: MemoryLogOptions = {}): MemoryLog {
  const limits: LogLimits = { ...defaultLogLimits, ...opts.limits };
  const now = opts.nowMs ?? (() => Date.now());
  const unread = opts.outboundUnread === true;
  let nextId = 1;
  let commands: CommandEntry[] = [];
  let wal: LogRecord[] = [];
  /** The fill ledger: appended with the WAL, never trimmed. */
  const ledger: (LedgerRecord & { userId: string; sessionId: string })[] = [];
  const outbound: LogRecord[] = [];
  const deadLetters: StoredDeadLetter[] = [];
  const groups = new Map<string, { lastId: number; pending: Map<string, string> }>();
  let snapshot: Snapshot | null = null;
  const id = (): string => String(nextId++);
  // Blocked readers wake on the next append; with blockMs = 0 (the simulation) nothing ever waits.
  let wakeReaders: (() => void)[] = [];
  const waitForAppend = (blockMs: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, blockMs);
      wakeReaders.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  /** Retention (see LogLimits): the newest maxOutboundEntries, plus what a durable group still needs, up to the hard cap. */
  const trimOutbound = (): void => {
    let floor = Number.POSITIVE_INFINITY;
    for (const name of limits.durableOutboundGroups) {
      const g = groups.get(name);
      if (!g) continue;
      floor = Math.min(floor, g.lastId + 1);
      for (const pendingId of g.pending.keys()) floor = Math.min(floor, Number(pendingId));
    }
    while (outbound.length > limits.maxOutboundEntriesHard) outbound.shift();
    while (outbound.length > limits.maxOutboundEntries && Number(outbound[0]?.id) < floor) outbound.shift();
    // Pending entries the hard cap took are gone for their group too, as in the other adapters.
    const oldest = Number(outbound[0]?.id ?? Number.POSITIVE_INFINITY);
    for (const g of groups.values()) for (const pendingId of [...g.pending.keys()]) if (Number(pendingId) < oldest) g.pending.delete(pendingId);
  };

  /** Commits a batch at once (EngineLog.commitNow): the memory log writes nowhere else, so nothing to wait for. */
  const commitNow = (batch: CommitBatch): string[] => {
    // All or nothing, as in the other adapters: a ledger entry without its WAL event is refused before any write.
    const ledgerEntries = batch.ledger;
    if (ledgerEntries !== undefined) for (const l of ledgerEntries) walIdAt(batch.wal, l.walIndex);
    const ids = batch.wal.map((data) => {
      const record = { id: id(), data };
      wal.push(record);
      return record.id;
    });
    if (ledgerEntries !== undefined)
      for (const l of ledgerEntries) ledger.push({ id: id(), walId: walIdAt(ids, l.walIndex), userId: l.userId, sessionId: l.sessionId, data: l.data });
    // Unread, an entry only takes its id (no text made of it: a backtest's every equity sample).
    if (unread) nextId += batch.outbound.length;
    else for (const data of batch.outbound) outbound.push({ id: id(), data });
    if (batch.outbound.length > 0 && !unread) trimOutbound();
    for (const dl of batch.deadLetters) deadLetters.push({ ...boundDeadLetter(dl), id: id() });
    if (deadLetters.length > limits.maxDeadLetterEntries) deadLetters.splice(0, deadLetters.length - limits.maxDeadLetterEntries);
    // An acknowledged (or dead-lettered) command is done with: dropped at once, as in SQLite. (Most batches, an
    // equity sample's, acknowledge nothing: no set of nothing is made for them.)
    if (batch.ack.length > 0 || batch.deadLetters.length > 0) {
      const acked = new Set([...batch.ack, ...batch.deadLetters.map((d) => d.entryId)]);
      commands = commands.filter((c) => !acked.has(String(c.id)));
    }
    return ids;
  };

  const log: MemoryLog = {
    outboundUnread: unread,
    commands: () => commands.map((c) => ({ id: String(c.id), data: c.data })),
    async init() {},
    async appendCommand(data) {
      const entry = { id: nextId++, data, deliveries: 0, deliveredAtMs: null };
      commands.push(entry);
      const waiting = wakeReaders;
      wakeReaders = [];
      for (const wake of waiting) wake();
      return String(entry.id);
    },
    async readCommands(_consumer, maxEntries, blockMs) {
      if (blockMs > 0 && !commands.some((c) => c.deliveries === 0)) await waitForAppend(blockMs);
      const fresh = commands.filter((c) => c.deliveries === 0).slice(0, maxEntries);
      for (const c of fresh) {
        c.deliveries = 1;
        c.deliveredAtMs = now();
      }
      return fresh.map((c): CommandDelivery => ({ entryId: String(c.id), raw: c.data, deliveryCount: 1 }));
    },
    async reclaimStaleCommands(_consumer, maxEntries) {
      const stale = commands
        .filter((c) => c.deliveries > 0 && c.deliveredAtMs !== null && now() - c.deliveredAtMs >= limits.reclaimIdleMs)
        .slice(0, maxEntries);
      for (const c of stale) {
        c.deliveries += 1;
        c.deliveredAtMs = now();
      }
      return stale.map((c): CommandDelivery => ({ entryId: String(c.id), raw: c.data, deliveryCount: c.deliveries }));
    },
    async commit(batch) {
      return commitNow(batch);
    },
    commitNow,
    async readWal(afterId, maxEntries) {
      const after = afterId === null ? 0 : Number(afterId);
      // Ids ascend: the first record after `after` by binary search, so a replay in batches is not quadratic.
      const first = partitionPoint(wal.length, (i) => Number(wal[i]?.id) <= after);
      return wal.slice(first, first + Math.max(0, maxEntries));
    },
    async loadSnapshot() {
      return snapshot;
    },
    async saveSnapshot(s) {
      snapshot = s;
      wal = wal.filter((r) => Number(r.id) > Number(s.walId));
    },
    async readLedger(query) {
      const after = query.afterId === null ? 0 : Number(query.afterId);
      const max = Math.floor(query.maxEntries);
      if (!(max >= 1)) return { records: [], nextAfterId: query.afterId };
      // From the first entry after `after` (ids ascend: binary search), up to a page: a whole ledger read in pages is
      // one pass over it, where a filter of every entry per page made a backtest's ledger of 500 000 entries (a year
      // at a trade a minute) 500 passes of 500 000.
      const records: LedgerRecord[] = [];
      for (let i = partitionPoint(ledger.length, (at) => Number(ledger[at]?.id) <= after); i < ledger.length && records.length < max; i += 1) {
        const r = ledger[i] as (typeof ledger)[number];
        if (query.userId !== undefined && r.userId !== query.userId) continue;
        if (query.sessionId !== undefined && r.sessionId !== query.sessionId) continue;
        records.push({ id: r.id, walId: r.walId, data: r.data });
      }
      return { records, nextAfterId: records.length < max ? null : (records[records.length - 1]?.id ?? null) };
    },
    async initOutboundGroup(group) {
      if (!groups.has(group)) groups.set(group, { lastId: 0, pending: new Map() });
    },
    async readOutbound(group, _consumer, maxEntries) {
      const g = groups.get(group);
      if (!g) throw new Error(`NOGROUP ${group}`);
      const fresh = outbound.filter((r) => Number(r.id) > g.lastId).slice(0, maxEntries);
      for (const r of fresh) g.pending.set(r.id, r.data);
      const last = fresh[fresh.length - 1];
      if (last) g.lastId = Number(last.id);
      return fresh;
    },
    async readOutboundPending(group, _consumer, maxEntries) {
      const g = groups.get(group);
      return g ? [...g.pending.entries()].slice(0, maxEntries).map(([rid, data]) => ({ id: rid, data })) : [];
    },
    async ackOutbound(group, ids) {
      const g = groups.get(group);
      for (const i of ids) g?.pending.delete(i);
    },
    async tailOutbound(afterId, maxEntries) {
      return outbound.filter((r) => Number(r.id) > Number(afterId.split('-')[0])).slice(0, maxEntries);
    },
    async lastOutboundId() {
      return outbound[outbound.length - 1]?.id ?? '0';
    },
    async readDeadLetters(maxEntries) {
      return maxEntries >= 1 ? deadLetters.slice(-Math.floor(maxEntries)) : [];
    },
    async deadLetterCount() {
      return deadLetters.length;
    },
    async pendingCommandCount() {
      return commands.filter((c) => c.deliveries > 0).length;
    },
    async commandEntryCount() {
      return commands.length;
    },
    async close() {},
  };
  return log;
}
