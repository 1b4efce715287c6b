import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { WriterClaim, WriterHolder, WriterOwner } from './port.js';
import { WriterLostError, WriterTakenError } from './port.js';
import { claimantGone } from '../util/process-gone.js';

// The writer slot of a SQLite log: one engine writes a file at a time. Two `npm start`s on one file both replayed it,
// took commands and committed from their own states: the same client order ids twice, orders sent twice, a WAL of two
// histories. The slot is one row (the holder, a random token and a heartbeat), claimed in an IMMEDIATE transaction, so
// two claims cannot both see it free. A holder is taken over only when it cannot be writing: its process is gone
// (same host, signal 0 says no such pid: a SIGKILLed engine restarts at once), or it has been silent longer than
// `staleAfterMs` (a frozen process, or a pid since reused). Every commit and snapshot of the holder checks its token in
// its own transaction, so a holder that was taken over writes nothing more.

export const writerSchema = `
CREATE TABLE IF NOT EXISTS writer (one INTEGER PRIMARY KEY CHECK (one = 1), token TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
  what TEXT NOT NULL, claimed_at_ms INTEGER NOT NULL, beat_at_ms INTEGER NOT NULL);
`;

export interface WriterBounds {
  /** How often the holder writes its heartbeat (ms). */
  beatEveryMs: number;
  /** A holder silent this long (ms) is taken over even if its pid is alive: well above a beat, a GC pause or a stall. */
  staleAfterMs: number;
}

export const defaultWriterBounds: WriterBounds = { beatEveryMs: 1_000, staleAfterMs: 10_000 };

interface HolderRow {
  token: string;
  pid: number;
  host: string;
  what: string;
  claimed_at_ms: number;
  beat_at_ms: number;
}

const holderOf = (row: HolderRow): WriterHolder => ({
  pid: row.pid,
  host: row.host,
  what: row.what,
  claimedAtMs: row.claimed_at_ms,
  beatAtMs: row.beat_at_ms,
});

/** The holder row, as every read of it selects it. */
const selectHolder = 'SELECT token, pid, host, what, claimed_at_ms, beat_at_ms FROM writer WHERE one = 1';

/** Whether the holder can still be writing: its process is there (on this host) and its heartbeat is fresh. */
function holderLive(row: HolderRow, host: string, atMs: number, staleAfterMs: number): boolean {
  return !claimantGone(row, host) && atMs - row.beat_at_ms < staleAfterMs;
}

/**
 * The engine writing `db` now, or null (no claim, or one that would be taken over): for a tool that must not change
 * the file under a running engine (`simulator reset` on `npm start`'s file).
 */
export function liveWriterOf(db: Database.Database, atMs: number, host: string, staleAfterMs = defaultWriterBounds.staleAfterMs): WriterHolder | null {
  const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'writer'").get();
  if (table === undefined) return null;
  const row = db.prepare(selectHolder).get() as HolderRow | undefined;
  return row && holderLive(row, host, atMs, staleAfterMs) ? holderOf(row) : null;
}

/** The claim's side inside the log: `check()` in every writing transaction. */
export interface SqliteWriter {
  claim(owner: WriterOwner, onLost: (error: WriterLostError) => void): WriterClaim;
  /** Throws WriterLostError (and reports it, once) when a claim was made and is no longer this log's. */
  check(): void;
  /** Ends the claim if any (the row goes, so the next engine starts at once). */
  release(): void;
}

export function sqliteWriter(db: Database.Database, path: string, bounds: WriterBounds, nowMs: () => number): SqliteWriter {
  if (!(bounds.beatEveryMs > 0 && bounds.staleAfterMs >= 2 * bounds.beatEveryMs))
    throw new Error(`writer heartbeat every ${bounds.beatEveryMs} ms must leave two beats within the stale bound ${bounds.staleAfterMs} ms`);
  const read = db.prepare(selectHolder);
  const tokenNow = db.prepare('SELECT token FROM writer WHERE one = 1').pluck();
  const beat = db.prepare('UPDATE writer SET beat_at_ms = ? WHERE one = 1 AND token = ?');
  let held: { token: string; onLost: (error: WriterLostError) => void; timer: NodeJS.Timeout } | null = null;
  let lost: WriterLostError | null = null;

  /** Another engine took the slot over: reported to the holder once, and every later write refused. */
  const loseClaim = (): WriterLostError => {
    if (lost !== null) return lost;
    lost = new WriterLostError(`this engine no longer writes ${path}: another engine took its writer slot over`);
    if (held) {
      clearInterval(held.timer);
      held.onLost(lost);
    }
    return lost;
  };

  const takeSlot = db.transaction((owner: WriterOwner, token: string, at: number): WriterClaim['tookOverFrom'] => {
    const row = read.get() as HolderRow | undefined;
    if (row && holderLive(row, owner.host, at, bounds.staleAfterMs)) {
      const since = new Date(row.claimed_at_ms).toISOString();
      throw new WriterTakenError(
        `another engine is writing ${path}: ${row.what}, pid ${row.pid} on ${row.host}, since ${since}, its last heartbeat ${at - row.beat_at_ms} ms ago. ` +
          `Stop it first; an engine silent for ${bounds.staleAfterMs / 1000} s is taken over.`,
        holderOf(row),
      );
    }
    db.prepare('INSERT OR REPLACE INTO writer (one, token, pid, host, what, claimed_at_ms, beat_at_ms) VALUES (1, ?, ?, ?, ?, ?, ?)').run(
      token,
      owner.pid,
      owner.host,
      owner.what,
      at,
      at,
    );
    if (!row) return null;
    return { ...holderOf(row), why: claimantGone(row, owner.host) ? 'its process is gone' : 'silent' };
  });

  const writer: SqliteWriter = {
    claim(owner, onLost) {
      if (held !== null || lost !== null) throw new Error(`the writer of ${path} was claimed once on this connection already`);
      const token = randomUUID();
      const tookOverFrom = takeSlot.immediate(owner, token, nowMs());
      const timer = setInterval(() => {
        try {
          if (beat.run(nowMs(), token).changes === 0) loseClaim();
        } catch {
          // Busy (another connection's write): the next beat tries again; a holder that stays silent is taken over.
        }
      }, bounds.beatEveryMs);
      timer.unref();
      held = { token, onLost, timer };
      return { tookOverFrom, release: async () => writer.release() };
    },
    check() {
      if (lost !== null) throw lost;
      if (held === null) return;
      if (tokenNow.get() !== held.token) throw loseClaim();
    },
    release() {
      if (held === null) return;
      clearInterval(held.timer);
      if (lost === null) db.prepare('DELETE FROM writer WHERE one = 1 AND token = ?').run(held.token);
      held = null;
    },
  };
  return writer;
}
