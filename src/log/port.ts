// The log port: command stream in, write-ahead log, outbound event stream, dead letters, snapshots.
// Two adapters implement it with the same semantics (Redis Streams, SQLite) and one contract suite
// (test/log/contract.ts) runs against both. Entries carry JSON strings; parsing and validation are the
// caller's job so a malformed entry can never crash the adapter.

import type { CommandDelivery, DeadLetter } from '../model/command-delivery.js';

/** Stream and group names; every name gets the adapter's key prefix (tests isolate themselves with it). */
export const streamNames = {
  commands: 'cmd:exec',
  commandGroup: 'exec',
  wal: 'wal:exec',
  outbound: 'evt:exec',
  deadLetters: 'dlq:cmd:exec',
  snapshot: 'snap:exec',
  /** The fill ledger (see src/contract/ledger.ts): appended with the WAL, never trimmed by a snapshot. */
  ledger: 'ledger:exec',
  /** The Telegram relay's group on the outbound stream: entries it has not acknowledged are retained. */
  telegramGroup: 'telegram',
} as const;

export interface LogRecord {
  id: string;
  /** JSON string as committed. */
  data: string;
}

/** A dead letter as stored and read back (see boundDeadLetter in dead-letter.ts). */
export interface StoredDeadLetter extends DeadLetter {
  id: string;
  /** At most maxDeadLetterPayloadBytes of the payload (a whole-character UTF-8 prefix). */
  raw: string;
  /** Size of the whole payload in bytes (UTF-8). */
  rawBytes: number;
  /** sha256 (hex) of the whole payload (UTF-8). */
  rawSha256: string;
  /** `raw` is a prefix: the payload was longer than maxDeadLetterPayloadBytes. */
  rawTruncated: boolean;
}

export interface CommitBatch {
  /** WAL events, JSON strings, appended in order. */
  wal: string[];
  /** Outbound events (replies, alerts), JSON strings. */
  outbound: string[];
  /** Command entries to acknowledge in the same atomic step. */
  ack: string[];
  /** Command entries to move to the dead-letter stream (and acknowledge) in the same atomic step. */
  deadLetters: DeadLetter[];
  /** Fill-ledger entries carried by WAL events of this batch, appended in the same atomic step (none if absent). */
  ledger?: LedgerAppend[];
}

/** One fill-ledger entry to append: the JSON of the entry and which WAL event of the batch carries it. */
export interface LedgerAppend {
  /** Index into CommitBatch.wal; the stored record gets that event's WAL id. */
  walIndex: number;
  /** Kept apart from the JSON so the adapter can select by them without parsing. */
  userId: string;
  sessionId: string;
  data: string;
}

/** A fill-ledger record as stored: its own id (ledger order), the WAL id of the event that carries it, the JSON. */
export interface LedgerRecord {
  id: string;
  walId: string;
  data: string;
}

export interface LedgerQuery {
  /** Records with id strictly after this one (null = from the start). */
  afterId: string | null;
  maxEntries: number;
  userId?: string;
  sessionId?: string;
}

export interface LedgerPage {
  records: LedgerRecord[];
  /**
   * Where the next page starts (pass it as afterId), or null once the end is reached. A page may hold fewer than
   * maxEntries records (even none) and still have a next one: an adapter that filters by scanning stops after
   * maxLedgerScanEntries records.
   */
  nextAfterId: string | null;
}

/**
 * A commit whose outcome is unknown: the request may have reached the log and been applied, but no answer came back
 * (the connection broke or timed out after the request was sent). A log rejects commit with this only then (see
 * EngineLog.commit). Only the log itself can tell what happened: the engine reads its WAL to find out before it does
 * anything else (src/engine/commit-outcome.ts).
 */
export class CommitOutcomeUnknownError extends Error {
  override name = 'CommitOutcomeUnknownError';
  constructor(cause: unknown) {
    super(`commit outcome unknown: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`, { cause });
  }
}

/** The WAL id of the batch's event at `walIndex` (a ledger entry without its event is a bug of the caller). */
export function walIdAt(ids: readonly string[], walIndex: number): string {
  const id = ids[walIndex];
  if (id === undefined) throw new Error(`ledger entry refers to WAL event ${walIndex} of a batch of ${ids.length}`);
  return id;
}

/** A filtered ledger read looks at most this many records per page (Redis filters by scanning). */
export const maxLedgerScanEntries = 10_000;

export interface Snapshot {
  /** Id of the last WAL record folded into `data`. */
  walId: string;
  data: string;
}

export interface LogLimits {
  /** A pending command idle this long is presumed orphaned by a dead consumer and reclaimed. */
  reclaimIdleMs: number;
  /** The newest outbound entries kept in any case: history for tails (dashboards, the CLI). */
  maxOutboundEntries: number;
  /**
   * Older entries are kept too while a durable group has not acknowledged them (alerts wait for a bot that
   * is down), but never more than this many entries in all.
   */
  maxOutboundEntriesHard: number;
  /** Groups whose unacknowledged entries are retained; other groups (a console printer) hold nothing back. */
  durableOutboundGroups: readonly string[];
  /** Redis applies that retention once per this many appended outbound entries (SQLite on every commit). */
  outboundTrimEveryEntries: number;
  /**
   * Redis trims acknowledged (or dead-lettered) command entries once per this many acknowledged entries: up to
   * the oldest entry still pending or not yet delivered, never past it. SQLite and memory drop an entry when
   * it is acknowledged. Between passes at most this many acknowledged entries linger (plus any acknowledged
   * after a pending one, until that one is acknowledged or reclaimed).
   */
  commandTrimEveryAckedEntries: number;
  /** The dead-letter stream keeps the newest this many entries (each at most maxDeadLetterPayloadBytes of payload). */
  maxDeadLetterEntries: number;
}

export const defaultLogLimits: LogLimits = {
  reclaimIdleMs: 5_000,
  maxOutboundEntries: 100_000,
  maxOutboundEntriesHard: 500_000,
  durableOutboundGroups: [streamNames.telegramGroup],
  outboundTrimEveryEntries: 1_000,
  commandTrimEveryAckedEntries: 100,
  maxDeadLetterEntries: 10_000,
};

/** Who claims a log's writer slot: its process and what it runs (`quant-engine all`), for the refusal it causes. */
export interface WriterOwner {
  pid: number;
  host: string;
  what: string;
}

/** The writer slot's holder, as stored. */
export interface WriterHolder extends WriterOwner {
  claimedAtMs: number;
  /** Its last heartbeat. */
  beatAtMs: number;
}

/** A held writer claim: every commit and snapshot of the log checks it until released (close releases it too). */
export interface WriterClaim {
  /** The holder taken over and why (its process gone, or its heartbeat stale), or null when the slot was free. */
  tookOverFrom: (WriterHolder & { why: 'its process is gone' | 'silent' }) | null;
  release(): Promise<void>;
}

/** Another engine holds the log's writer slot: it is alive and its heartbeat is fresh. Nothing was changed. */
export class WriterTakenError extends Error {
  override name = 'WriterTakenError';
  constructor(
    message: string,
    readonly holder: WriterOwner,
  ) {
    super(message);
  }
}

/** This engine's claim was taken over (it was silent past the stale bound): it must write nothing more. */
export class WriterLostError extends Error {
  override name = 'WriterLostError';
}

export interface EngineLog {
  /**
   * One engine writes a log at a time (a local file: SQLite). Claims the writer slot for `owner`, or rejects with
   * WriterTakenError while another engine holds it (its process alive, its heartbeat fresh). From then on every commit
   * and snapshot checks the claim in its own transaction: once another engine has taken it over, the write is refused
   * (WriterLostError, nothing written) and `onLost` is called, once. Absent on logs that do not arbitrate writers here
   * (Redis: a Redis Cluster worker's partition lease does, src/cluster/lease.ts; the in-memory log has one user).
   */
  claimWriter?(owner: WriterOwner, onLost: (error: WriterLostError) => void): Promise<WriterClaim>;
  /**
   * True for a log whose outbound stream nobody reads: a backtest's in-memory log, whose run reads each decision's
   * outbound events from the engine's observers as they are decided. The engine then does not serialize them (an
   * equity sample's JSON was 4 % of a backtest's CPU): each entry comes as '' and the log only gives it its id, so
   * the ids of everything after it are as they would be. Absent: every log a service or a tool tails (Redis, SQLite,
   * the simulation's).
   */
  readonly outboundUnread?: boolean;
  /** Creates streams and the `exec` consumer group if missing. Idempotent. */
  init(): Promise<void>;

  // --- producers (telegram, cli, dashboard, signals) ---
  /** Durably appends a command entry; resolves with its entry id only once it is stored. */
  appendCommand(data: string): Promise<string>;

  // --- execution service ---
  /** New entries for the `exec` group (each delivered to one consumer), waiting up to blockMs. */
  readCommands(consumer: string, maxEntries: number, blockMs: number): Promise<CommandDelivery[]>;
  /** Pending entries idle longer than reclaimIdleMs, claimed for `consumer`, with their delivery counts. */
  reclaimStaleCommands(consumer: string, maxEntries: number): Promise<CommandDelivery[]>;
  /**
   * Atomically: append WAL events, append outbound events, ack commands, dead-letter commands. Returns WAL ids.
   * Rejects with CommitOutcomeUnknownError when the batch may have been written all the same (a network log whose
   * connection broke after the request was sent). Any other rejection means nothing of it was written, except
   * ReplicaAckError (replica-acks.ts): then the log's owner drops the partition, which boots again from the log.
   */
  commit(batch: CommitBatch): Promise<string[]>;
  /**
   * commit, done before it returns, for a log that writes nothing outside the process (the in-memory log): a caller
   * that waits for each step before its next (the backtest, Engine.submitNow) then commits a step without the promise
   * turns of an asynchronous write. Absent on logs that do I/O (Redis, SQLite). Throws where commit rejects.
   */
  readonly commitNow?: (batch: CommitBatch) => string[];
  /** WAL records with id strictly after `afterId` (null = from the start), oldest first. */
  readWal(afterId: string | null, maxEntries: number): Promise<LogRecord[]>;
  loadSnapshot(): Promise<Snapshot | null>;
  /** Stores the snapshot, then drops WAL records up to and including snapshot.walId (never ledger records). */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Fill-ledger records in ledger order, optionally of one user and/or session; paged (see LedgerPage). */
  readLedger(query: LedgerQuery): Promise<LedgerPage>;

  // --- outbound consumers (telegram, dashboard) ---
  /** Creates the consumer group on the outbound stream from its beginning if missing. */
  initOutboundGroup(group: string): Promise<void>;
  /** New entries for this group, plus none of the pending ones (use reclaim for those). */
  readOutbound(group: string, consumer: string, maxEntries: number, blockMs: number): Promise<LogRecord[]>;
  /** This consumer's own pending (delivered, unacked) entries: re-read after a restart. */
  readOutboundPending(group: string, consumer: string, maxEntries: number): Promise<LogRecord[]>;
  ackOutbound(group: string, ids: string[]): Promise<void>;
  /** Non-group tail read (CLI waiting for its reply): entries after `afterId`, waiting up to blockMs. */
  tailOutbound(afterId: string, maxEntries: number, blockMs: number): Promise<LogRecord[]>;
  /** Id of the newest outbound entry ('0' or '0-0' style "beginning" when empty), to tail from. */
  lastOutboundId(): Promise<string>;

  // --- inspection ---
  /** The newest maxEntries dead letters, oldest first (payloads bounded: see StoredDeadLetter). */
  readDeadLetters(maxEntries: number): Promise<StoredDeadLetter[]>;
  /** Number of dead letters stored, counted without reading them. */
  deadLetterCount(): Promise<number>;
  /** Number of command entries delivered but not yet acknowledged. */
  pendingCommandCount(): Promise<number>;
  /** Number of command entries still stored: undelivered, pending, or acknowledged but not trimmed yet. */
  commandEntryCount(): Promise<number>;

  close(): Promise<void>;
}
