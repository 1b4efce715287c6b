import { ClientClosedError, ClientOfflineError, ErrorReply } from '@redis/client';
import { randomBytes } from 'node:crypto';
import { boundDeadLetter } from './dead-letter.js';
import type { CommitBatch, LedgerAppend, LogLimits, Snapshot } from './port.js';
import { CommitOutcomeUnknownError, walIdAt } from './port.js';
import type { PartitionKeys } from './partition.js';
import type { ScriptRunner, WriteFence } from './redis-fence.js';
import { fencedScript, runFenced, runScript, script, StaleLeaseError } from './redis-fence.js';

// The Redis commit as one Lua script: WAL events (with the fill-ledger entries each carries), outbound events,
// dead letters and the XACK of the commands, in one atomic step (a script runs alone, like MULTI/EXEC did).
// A script rather than MULTI because a fenced commit (src/log/redis-fence.ts) must first check that the writer's
// lease is still current, and refuse everything if not: inside MULTI a failing check cannot stop the commands
// queued after it. Every key carries the partition's hash tag, so on a cluster the script runs on one node.
// The snapshot's save is fenced the same way: a stale writer must not replace a successor's snapshot or trim the
// WAL under it.

// KEYS: commands, wal, ledger, outbound, deadLetters[, lease]. ARGV: the lease value expected, the command group,
// the outbound hard cap, the dead-letter cap, then counted sections (see commitArguments).
// Redis does not roll a script back: every refusal it can foresee comes before the first write: the lease and
// out-of-memory (fencedScript), the key types (here), the entry ids to acknowledge (checked by the caller).
// Outbound and dead-letter appends are trimmed with an exact MAXLEN once after the batch's appends: nothing sees the
// stream between a script's commands, so the cap holds atomically with every append, as with a MAXLEN on each XADD
// (the outbound's softer retention runs now and then, in redis-log.ts). The batch's acknowledgements go in one XACK
// per acksPerXack ids. Each redis.call costs the script about a microsecond of its own (arguments copied in, the
// reply converted back): an XACK and a MAXLEN per command were a quarter of a 100-command commit's time in Redis in a
// script alone, and an eighth of the engine's commits' (7.0 → 6.2 µs a command, median of six interleaved pairs).
/**
 * Ids one XACK of the commit acknowledges at most: Lua's unpack puts them all on its C stack, which holds 8 000
 * values (LUAI_MAXCSTACK in Redis's Lua 5.1).
 */
const acksPerXack = 1_000;

const commitScript = fencedScript(
  5,
  `for k = 1, 5 do
  local t = redis.call('TYPE', KEYS[k])['ok']
  if t ~= 'stream' and t ~= 'none' then
    return redis.error_reply('WRONGTYPE commit key ' .. KEYS[k] .. ' holds a ' .. t)
  end
end
local at = 5
local function take()
  local v = ARGV[at]
  at = at + 1
  return v
end
local walIds = {}
for w = 1, tonumber(take()) do
  local walId = redis.call('XADD', KEYS[2], '*', 'data', take())
  walIds[w] = walId
  for _ = 1, tonumber(take()) do
    redis.call('XADD', KEYS[3], '*', 'walId', walId, 'userId', take(), 'sessionId', take(), 'data', take())
  end
end
local outbound = tonumber(take())
for _ = 1, outbound do
  redis.call('XADD', KEYS[4], '*', 'data', take())
end
if outbound > 0 then
  redis.call('XTRIM', KEYS[4], 'MAXLEN', ARGV[3])
end
local deadLetters = tonumber(take())
for _ = 1, deadLetters do
  redis.call('XADD', KEYS[5], '*', 'entryId', take(), 'data', take(), 'reason', take(), 'rawBytes', take(), 'rawSha256', take())
end
if deadLetters > 0 then
  redis.call('XTRIM', KEYS[5], 'MAXLEN', ARGV[4])
end
local acks = tonumber(take())
local from = at
while from < at + acks do
  local to = math.min(from + ${acksPerXack} - 1, at + acks - 1)
  redis.call('XACK', KEYS[1], ARGV[2], unpack(ARGV, from, to))
  from = to + 1
end
return walIds`,
);

// A snapshot is stored as a hash: walId, parts (a count) and part:0 … part:<parts-1>, whose concatenation is the
// state's JSON (a snapshot saved before parts existed has one `data` field instead: loadSnapshot reads both). One
// command carrying a whole snapshot blocked Redis, and every commit behind it, for as long as it took to copy: at
// 10 000 sessions a 6 MB snapshot script ran 49–68 ms in Redis (SLOWLOG), and the engine's step that committed
// behind it took 100 ms (bench sweep, BENCH_STEP_LOG). So a snapshot longer than a part is written part by part, a
// command each, to a staging hash of its own, and the fenced script that ends the save renames the staging hash
// over the snapshot: the snapshot key only ever holds a whole one. Only after it is stored may the history it covers
// go, and that goes in bounded steps too: the WAL since the last snapshot is at least 4 times its size (engine.ts,
// snapshotWalBytesPerSnapshotByte), and one exact XTRIM of it ran 19–29 ms at 10 000 sessions (SLOWLOG).

/** Snapshot characters per part (and per command of a save): a 256 Ki-character HSET runs in about a millisecond. */
export const defaultSnapshotPartChars = 256 * 1024;
/** A staging hash left by a save that never finished (its writer died) expires after this long (ms). */
export const snapshotStagingTtlMs = 10 * 60_000;
/** WAL entries one trim command of a save drops at most (whole stream nodes of up to 100 entries each). */
export const walTrimEntriesPerCommand = 1_000;

/** Checks a snapshot part size as given (an option, a flag): a positive integer. */
export function assertSnapshotPartChars(partChars: number): void {
  if (!(Number.isInteger(partChars) && partChars >= 1)) throw new Error(`snapshot part size must be a positive integer, got ${partChars}`);
}

// KEYS: snapshot[, lease]. ARGV: the lease value expected, the snapshot's WAL id, its data (one part). The DEL drops
// the parts of a larger snapshot before.
const snapshotScript = fencedScript(
  1,
  `redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'walId', ARGV[2], 'parts', '1', 'part:0', ARGV[3])
return 1`,
);

// KEYS: staging. ARGV: the part's index, the part, the staging hash's TTL (ms). Unfenced: a staging hash is one
// save's own (a random name), and nothing reads it until the fenced script below renames it.
const snapshotPartScript = script(`redis.call('HSET', KEYS[1], 'part:' .. ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`);

// KEYS: snapshot, staging[, lease]. ARGV: the lease value expected, the snapshot's WAL id, its part count. A staging
// hash missing a part (expired, or a part's write lost) is refused before any write.
const snapshotCommitScript = fencedScript(
  2,
  `local held = redis.call('HLEN', KEYS[2])
if held ~= tonumber(ARGV[3]) then
  return redis.error_reply('SNAPSHOT_INCOMPLETE staging ' .. KEYS[2] .. ' holds ' .. held .. ' of ' .. ARGV[3] .. ' parts')
end
redis.call('HSET', KEYS[2], 'walId', ARGV[2], 'parts', ARGV[3])
redis.call('RENAME', KEYS[2], KEYS[1])
redis.call('PERSIST', KEYS[1])
return 1`,
);

// KEYS: wal[, lease]. ARGV: the lease value expected, the MINID, the most entries to drop (whole nodes, `~`; 0: the
// exact trim of what is left, at most part of one node). Returns the entries dropped.
const walTrimScript = fencedScript(
  1,
  `if ARGV[3] == '0' then
  return redis.call('XTRIM', KEYS[1], 'MINID', ARGV[2])
end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[2], 'LIMIT', ARGV[3])`,
);

const streamIdPattern = /^\d+-\d+$/;

/** The script's arguments for one batch; the ledger is checked first (all or nothing, before any write). */
function commitArguments(batch: CommitBatch, group: string, limits: LogLimits): string[] {
  const ledgerOf = new Map<number, LedgerAppend[]>();
  for (const l of batch.ledger ?? []) {
    walIdAt(batch.wal, l.walIndex); // a ledger entry without its WAL event is refused before any write
    ledgerOf.set(l.walIndex, [...(ledgerOf.get(l.walIndex) ?? []), l]);
  }
  const args = [group, String(limits.maxOutboundEntriesHard), String(limits.maxDeadLetterEntries), String(batch.wal.length)];
  batch.wal.forEach((data, i) => {
    const ledger = ledgerOf.get(i) ?? [];
    args.push(data, String(ledger.length), ...ledger.flatMap((l) => [l.userId, l.sessionId, l.data]));
  });
  args.push(String(batch.outbound.length), ...batch.outbound);
  const deadLetters = batch.deadLetters.map(boundDeadLetter);
  args.push(String(deadLetters.length), ...deadLetters.flatMap((dl) => [dl.entryId, dl.raw, dl.reason, String(dl.rawBytes), dl.rawSha256]));
  const acks = [...batch.ack, ...batch.deadLetters.map((d) => d.entryId)];
  for (const id of acks) if (!streamIdPattern.test(id)) throw new Error(`not a stream entry id: ${JSON.stringify(id)}`);
  args.push(String(acks.length), ...acks);
  return args;
}

/**
 * Commits one batch; returns the WAL ids in order. With a fence (the writer's lease), the commit happens only if
 * the lease key holds exactly the writer's value; else StaleLeaseError and nothing is written. Rejects with
 * CommitOutcomeUnknownError when the script may have run though its answer was lost (scriptMayHaveRun).
 */
export async function commitBatch(
  client: ScriptRunner,
  keys: PartitionKeys,
  group: string,
  limits: LogLimits,
  batch: CommitBatch,
  fence: WriteFence | null,
): Promise<string[]> {
  const dataKeys = [keys.commands, keys.wal, keys.ledger, keys.outbound, keys.deadLetters];
  // Arguments first: a batch refused here was never sent, a certain failure.
  const args = commitArguments(batch, group, limits);
  let ids: unknown[];
  try {
    ids = (await runFenced(client, commitScript, dataKeys, args, fence)) as unknown[];
  } catch (error) {
    throw scriptMayHaveRun(error) ? new CommitOutcomeUnknownError(error) : error;
  }
  return ids.map(String);
}

/**
 * Whether a script run that failed may have run all the same. It certainly did not when Redis answered with an error
 * (ErrorReply, StaleLeaseError: the script refuses before its first write, see above), nor when the client never sent
 * it: closed, or not connected (ClientOfflineError: disableOfflineQueue refuses a command at once rather than queue
 * it, src/log/redis-connection.ts). Anything else may have come after Redis ran it: the socket closed or reset while
 * the reply was on its way (@redis/client then rejects what was written and what was still queued alike, with the
 * socket's error), a timeout.
 */
export function scriptMayHaveRun(error: unknown): boolean {
  return !(error instanceof ErrorReply || error instanceof StaleLeaseError || error instanceof ClientClosedError || error instanceof ClientOfflineError);
}

/**
 * Saves a snapshot (see above): in one fenced script when it fits one part, else part by part to a staging hash and
 * a fenced script that renames it over the snapshot. Either way the snapshot key changes in one step, and only under
 * the writer's lease.
 */
export async function saveSnapshotFenced(
  client: ScriptRunner,
  keys: PartitionKeys,
  snapshot: Snapshot,
  trimMinId: string,
  fence: WriteFence | null,
  partChars: number = defaultSnapshotPartChars,
): Promise<void> {
  assertSnapshotPartChars(partChars);
  const { data } = snapshot;
  if (data.length <= partChars) {
    await runFenced(client, snapshotScript, [keys.snapshot], [snapshot.walId, data], fence);
  } else {
    // The partition's hash tag leads keys.snapshot, so the staging hash shares its slot (RENAME needs that on a cluster).
    const staging = `${keys.snapshot}:staging:${randomBytes(6).toString('hex')}`;
    let parts = 0;
    for (let from = 0; from < data.length; parts += 1) {
      let to = Math.min(data.length, from + partChars);
      // Never between the two halves of a surrogate pair: each part goes to Redis as UTF-8, where half a pair is lost.
      if (to < data.length && isHighSurrogate(data.charCodeAt(to - 1)) && to - 1 > from) to -= 1;
      await runScript(client, snapshotPartScript, [staging], [String(parts), data.slice(from, to), String(snapshotStagingTtlMs)]);
      from = to;
    }
    await runFenced(client, snapshotCommitScript, [keys.snapshot, staging], [snapshot.walId, String(parts)], fence);
  }
  // The history the snapshot covers, whole nodes at a time, then the rest of the last one exactly.
  const trim = (limit: number): Promise<unknown> => runFenced(client, walTrimScript, [keys.wal], [trimMinId, String(limit)], fence);
  for (;;) {
    const dropped = Number(await trim(walTrimEntriesPerCommand));
    if (dropped === 0) break;
  }
  await trim(0);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * A snapshot as stored (saveSnapshotFenced): its parts joined in order, or the one `data` field of a snapshot saved
 * before parts existed. Null when there is none. A snapshot with a part missing is corrupt: thrown, never booted from.
 */
export function snapshotOfFields(fields: Record<string, string>): Snapshot | null {
  const { walId } = fields;
  if (!walId) return null;
  if (fields.parts === undefined) return fields.data === undefined ? null : { walId, data: fields.data };
  const count = Number(fields.parts);
  if (!(Number.isInteger(count) && count >= 1)) throw new Error(`snapshot at ${walId}: part count ${JSON.stringify(fields.parts)} is not a positive integer`);
  const parts: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const part = fields[`part:${i}`];
    if (part === undefined) throw new Error(`snapshot at ${walId}: part ${i} of ${count} is missing`);
    parts.push(part);
  }
  return { walId, data: parts.join('') };
}
