import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { boundDeadLetter, readStoredDeadLetter } from './dead-letter.js';
import type { CommandDelivery } from '../model/command-delivery.js';
import type { CommitBatch, EngineLog, LogLimits, LogRecord } from './port.js';
import { defaultLogLimits, walIdAt } from './port.js';
import type { WriterBounds } from './sqlite-writer.js';
import { defaultWriterBounds, sqliteWriter, writerSchema } from './sqlite-writer.js';

// The log in one SQLite file: the embedded single-process default, same semantics as the Redis adapter.
// journal_mode=WAL lets the CLI append while the engine reads; synchronous=FULL makes every commit durable
// before it returns (a power cut cannot lose an acknowledged command or a WAL event). Ids are row ids.

export interface SqliteLogOptions {
  path: string;
  limits?: Partial<LogLimits>;
  /** How often a blocked read looks for new rows. */
  pollIntervalMs?: number;
  nowMs?: () => number;
  /** The writer slot's heartbeat and stale bound (sqlite-writer.ts). */
  writer?: Partial<WriterBounds>;
}

const schema = `
CREATE TABLE IF NOT EXISTS commands (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL, delivery_count INTEGER NOT NULL DEFAULT 0,
  consumer TEXT, delivered_at_ms INTEGER, acked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS commands_pending ON commands (acked, delivery_count);
CREATE TABLE IF NOT EXISTS wal (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbound (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbound_groups (name TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbound_pending (grp TEXT NOT NULL, id INTEGER NOT NULL, consumer TEXT NOT NULL, PRIMARY KEY (grp, id));
CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, entry_id TEXT NOT NULL, data TEXT NOT NULL, reason TEXT NOT NULL,
  raw_bytes INTEGER, raw_sha256 TEXT);
CREATE TABLE IF NOT EXISTS snapshot (one INTEGER PRIMARY KEY CHECK (one = 1), wal_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY AUTOINCREMENT, wal_id TEXT NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ledger_user ON ledger (user_id, id);
CREATE INDEX IF NOT EXISTS ledger_session ON ledger (session_id, id);
`;

/**
 * Brings a file written by an earlier version up to the current schema. Dead letters gained the payload's size
 * and hash (NULL on old rows: those are bounded when read); acknowledged commands used to be kept (acked = 1),
 * now an acknowledged command is deleted, so the ones left over go.
 */
function migrate(db: Database.Database): void {
  const columns = new Set((db.prepare('PRAGMA table_info(dead_letters)').all() as { name: string }[]).map((c) => c.name));
  if (!columns.has('raw_bytes')) db.exec('ALTER TABLE dead_letters ADD COLUMN raw_bytes INTEGER');
  if (!columns.has('raw_sha256')) db.exec('ALTER TABLE dead_letters ADD COLUMN raw_sha256 TEXT');
  db.prepare('DELETE FROM commands WHERE acked = 1').run();
}

interface Row {
  id: number;
  data: string;
}

export function openSqliteLog(opts: SqliteLogOptions): EngineLog {
  const limits: LogLimits = { ...defaultLogLimits, ...opts.limits };
  const pollIntervalMs = opts.pollIntervalMs ?? 20;
  const now = opts.nowMs ?? (() => Date.now());
  const db = new Database(opts.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(schema);
  db.exec(writerSchema);
  // IMMEDIATE: two processes opening an old file at once migrate one after the other, not both.
  db.transaction(() => migrate(db)).immediate();

  // Boot's replay reads the whole WAL through this: prepared once, and rows as arrays (cheaper than an object a row).
  const readWalRows = db.prepare('SELECT id, data FROM wal WHERE id > ? ORDER BY id LIMIT ?').raw(true);

  const claimNew = db.transaction((consumer: string, max: number): CommandDelivery[] => {
    const rows = db.prepare('SELECT id, data FROM commands WHERE delivery_count = 0 ORDER BY id LIMIT ?').all(max) as Row[];
    const mark = db.prepare('UPDATE commands SET delivery_count = 1, consumer = ?, delivered_at_ms = ? WHERE id = ?');
    for (const r of rows) mark.run(consumer, now(), r.id);
    return rows.map((r) => ({ entryId: String(r.id), raw: r.data, deliveryCount: 1 }));
  });

  const reclaim = db.transaction((consumer: string, max: number): CommandDelivery[] => {
    const rows = db
      .prepare('SELECT id, data, delivery_count AS n FROM commands WHERE acked = 0 AND delivery_count > 0 AND delivered_at_ms <= ? ORDER BY id LIMIT ?')
      .all(now() - limits.reclaimIdleMs, max) as (Row & { n: number })[];
    const mark = db.prepare('UPDATE commands SET delivery_count = delivery_count + 1, consumer = ?, delivered_at_ms = ? WHERE id = ?');
    for (const r of rows) mark.run(consumer, now(), r.id);
    return rows.map((r) => ({ entryId: String(r.id), raw: r.data, deliveryCount: r.n + 1 }));
  });

  /** Retention (see LogLimits): the newest maxOutboundEntries, plus what a durable group still needs, up to the hard cap. */
  function trimOutbound(): void {
    const max = (db.prepare('SELECT MAX(id) AS id FROM outbound').get() as { id: number | null }).id ?? 0;
    db.prepare('DELETE FROM outbound WHERE id <= ?').run(max - limits.maxOutboundEntriesHard);
    let floor = Number.POSITIVE_INFINITY; // entries from here on are still needed by a durable group
    for (const group of limits.durableOutboundGroups) {
      const g = db
        .prepare('SELECT last_id AS lastId, (SELECT MIN(id) FROM outbound_pending WHERE grp = name) AS firstPending FROM outbound_groups WHERE name = ?')
        .get(group) as { lastId: number; firstPending: number | null } | undefined;
      if (g) floor = Math.min(floor, g.firstPending ?? g.lastId + 1);
    }
    db.prepare('DELETE FROM outbound WHERE id <= ? AND id < ?').run(max - limits.maxOutboundEntries, Number.isFinite(floor) ? floor : max + 1);
    db.prepare('DELETE FROM outbound_pending WHERE id < (SELECT MIN(id) FROM outbound)').run();
  }

  // One engine writes the file at a time: once an engine claims it, its writes check the claim in their transaction.
  const writer = sqliteWriter(db, opts.path, { ...defaultWriterBounds, ...opts.writer }, now);

  const commit = db.transaction((batch: CommitBatch): string[] => {
    writer.check();
    const addWal = db.prepare('INSERT INTO wal (data) VALUES (?)');
    const ids = batch.wal.map((d) => String(addWal.run(d).lastInsertRowid));
    // The fill ledger: its own table, in the same transaction as the WAL rows that carry it; no snapshot trims it.
    const addLedger = db.prepare('INSERT INTO ledger (wal_id, user_id, session_id, data) VALUES (?, ?, ?, ?)');
    for (const l of batch.ledger ?? []) addLedger.run(walIdAt(ids, l.walIndex), l.userId, l.sessionId, l.data);
    const addOut = db.prepare('INSERT INTO outbound (data) VALUES (?)');
    for (const d of batch.outbound) addOut.run(d);
    if (batch.outbound.length > 0) trimOutbound();
    const addDl = db.prepare('INSERT INTO dead_letters (entry_id, data, reason, raw_bytes, raw_sha256) VALUES (?, ?, ?, ?, ?)');
    let lastDl = 0;
    for (const dl of batch.deadLetters.map(boundDeadLetter))
      lastDl = Number(addDl.run(dl.entryId, dl.raw, dl.reason, dl.rawBytes, dl.rawSha256).lastInsertRowid);
    // Row ids of dead letters are consecutive (AUTOINCREMENT, rows only ever appended): this keeps the newest
    // maxDeadLetterEntries (a gap could only make it keep fewer, never more).
    if (lastDl > 0) db.prepare('DELETE FROM dead_letters WHERE id <= ?').run(lastDl - limits.maxDeadLetterEntries);
    // An acknowledged (or dead-lettered) command is done with: it is deleted in the same transaction.
    const ack = db.prepare('DELETE FROM commands WHERE id = ?');
    for (const id of [...batch.ack, ...batch.deadLetters.map((d) => d.entryId)]) ack.run(Number(id));
    return ids;
  });

  const readGroup = db.transaction((group: string, consumer: string, max: number): LogRecord[] => {
    const g = db.prepare('SELECT last_id FROM outbound_groups WHERE name = ?').get(group) as { last_id: number } | undefined;
    if (!g) throw new Error(`NOGROUP ${group}`);
    const rows = db.prepare('SELECT id, data FROM outbound WHERE id > ? ORDER BY id LIMIT ?').all(g.last_id, max) as Row[];
    const last = rows[rows.length - 1];
    if (last) {
      db.prepare('UPDATE outbound_groups SET last_id = ? WHERE name = ?').run(last.id, group);
      const pend = db.prepare('INSERT OR REPLACE INTO outbound_pending (grp, id, consumer) VALUES (?, ?, ?)');
      for (const r of rows) pend.run(group, r.id, consumer);
    }
    return rows.map((r) => ({ id: String(r.id), data: r.data }));
  });

  async function poll<T>(blockMs: number, attempt: () => T[]): Promise<T[]> {
    const deadline = Date.now() + blockMs;
    for (;;) {
      const got = attempt();
      if (got.length > 0 || Date.now() >= deadline) return got;
      await sleep(Math.min(pollIntervalMs, Math.max(1, deadline - Date.now())));
    }
  }

  return {
    async init() {},
    async claimWriter(owner, onLost) {
      return writer.claim(owner, onLost);
    },
    async appendCommand(data) {
      return String(db.prepare('INSERT INTO commands (data) VALUES (?)').run(data).lastInsertRowid);
    },
    async readCommands(consumer, maxEntries, blockMs) {
      return poll(blockMs, () => claimNew(consumer, maxEntries));
    },
    async reclaimStaleCommands(consumer, maxEntries) {
      return reclaim(consumer, maxEntries);
    },
    async commit(batch) {
      return commit(batch);
    },
    async readWal(afterId, maxEntries) {
      const rows = readWalRows.all(afterId === null ? 0 : Number(afterId), maxEntries) as [number, string][];
      return rows.map(([id, data]) => ({ id: String(id), data }));
    },
    async loadSnapshot() {
      const row = db.prepare('SELECT wal_id AS walId, data FROM snapshot WHERE one = 1').get() as { walId: string; data: string } | undefined;
      return row ?? null;
    },
    async saveSnapshot(snapshot) {
      db.transaction(() => {
        writer.check();
        db.prepare('INSERT OR REPLACE INTO snapshot (one, wal_id, data) VALUES (1, ?, ?)').run(snapshot.walId, snapshot.data);
        db.prepare('DELETE FROM wal WHERE id <= ?').run(Number(snapshot.walId));
      })();
    },
    async readLedger(query) {
      const where = ['id > ?'];
      const args: (string | number)[] = [query.afterId === null ? 0 : Number(query.afterId)];
      if (query.userId !== undefined) {
        where.push('user_id = ?');
        args.push(query.userId);
      }
      if (query.sessionId !== undefined) {
        where.push('session_id = ?');
        args.push(query.sessionId);
      }
      if (!(query.maxEntries >= 1)) return { records: [], nextAfterId: query.afterId }; // LIMIT -1 would mean "all"
      const rows = db
        .prepare(`SELECT id, wal_id AS walId, data FROM ledger WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`)
        .all(...args, Math.floor(query.maxEntries)) as (Row & { walId: string })[];
      const records = rows.map((r) => ({ id: String(r.id), walId: r.walId, data: r.data }));
      return { records, nextAfterId: records.length < query.maxEntries ? null : (records[records.length - 1]?.id ?? null) };
    },
    async initOutboundGroup(group) {
      db.prepare('INSERT OR IGNORE INTO outbound_groups (name, last_id) VALUES (?, 0)').run(group);
    },
    async readOutbound(group, consumer, maxEntries, blockMs) {
      return poll(blockMs, () => readGroup(group, consumer, maxEntries));
    },
    async readOutboundPending(group, consumer, maxEntries) {
      const rows = db
        .prepare('SELECT o.id, o.data FROM outbound_pending p JOIN outbound o ON o.id = p.id WHERE p.grp = ? AND p.consumer = ? ORDER BY o.id LIMIT ?')
        .all(group, consumer, maxEntries) as Row[];
      return rows.map((r) => ({ id: String(r.id), data: r.data }));
    },
    async ackOutbound(group, ids) {
      const del = db.prepare('DELETE FROM outbound_pending WHERE grp = ? AND id = ?');
      db.transaction(() => {
        for (const id of ids) del.run(group, Number(id));
      })();
    },
    async tailOutbound(afterId, maxEntries, blockMs) {
      return poll(blockMs, () => {
        const rows = db.prepare('SELECT id, data FROM outbound WHERE id > ? ORDER BY id LIMIT ?').all(Number(afterId.split('-')[0]), maxEntries) as Row[];
        return rows.map((r) => ({ id: String(r.id), data: r.data }));
      });
    },
    async lastOutboundId() {
      const row = db.prepare('SELECT MAX(id) AS id FROM outbound').get() as { id: number | null };
      return String(row.id ?? 0);
    },
    async readDeadLetters(maxEntries) {
      if (!(maxEntries >= 1)) return []; // LIMIT -1 would mean "all"
      const rows = db
        .prepare(
          'SELECT id, entry_id AS entryId, data AS raw, reason, raw_bytes AS rawBytes, raw_sha256 AS rawSha256 FROM dead_letters ORDER BY id DESC LIMIT ?',
        )
        .all(maxEntries) as { id: number; entryId: string; raw: string; reason: string; rawBytes: number | null; rawSha256: string | null }[];
      return rows.reverse().map((r) => readStoredDeadLetter(String(r.id), r.entryId, r.raw, r.reason, r.rawBytes, r.rawSha256));
    },
    async deadLetterCount() {
      return (db.prepare('SELECT COUNT(*) AS n FROM dead_letters').get() as { n: number }).n;
    },
    async pendingCommandCount() {
      const row = db.prepare('SELECT COUNT(*) AS n FROM commands WHERE acked = 0 AND delivery_count > 0').get() as { n: number };
      return row.n;
    },
    async commandEntryCount() {
      return (db.prepare('SELECT COUNT(*) AS n FROM commands').get() as { n: number }).n;
    },
    async close() {
      writer.release();
      db.close();
    },
  };
}
