import { ClientClosedError, ClientOfflineError, ErrorReply } from '@redis/client';
import { boundDeadLetter } from './dead-letter.js';
import type { CommitBatch, LedgerAppend, LogLimits, Snapshot } from './port.js';
import { CommitOutcomeUnknownError, walIdAt } from './port.js';
import type { PartitionKeys } from './partition.js';
import type { ScriptRunner, WriteFence } from './redis-fence.js';
import { fencedScript, runFenced, StaleLeaseError } from './redis-fence.js';

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
// Outbound and dead-letter appends trim with an exact MAXLEN: the cap holds atomically with every append (the
// outbound's softer retention runs now and then, in redis-log.ts).
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
for _ = 1, tonumber(take()) do
  redis.call('XADD', KEYS[4], 'MAXLEN', ARGV[3], '*', 'data', take())
end
for _ = 1, tonumber(take()) do
  redis.call('XADD', KEYS[5], 'MAXLEN', ARGV[4], '*', 'entryId', take(), 'data', take(), 'reason', take(), 'rawBytes', take(), 'rawSha256', take())
end
for _ = 1, tonumber(take()) do
  redis.call('XACK', KEYS[1], ARGV[2], take())
end
return walIds`,
);

// KEYS: snapshot, wal[, lease]. ARGV: the lease value expected, the snapshot's WAL id, its data, the trim's MINID.
// Only after the snapshot is stored may the history it covers go (in the same script now).
const snapshotScript = fencedScript(
  2,
  `redis.call('HSET', KEYS[1], 'walId', ARGV[2], 'data', ARGV[3])
redis.call('XTRIM', KEYS[2], 'MINID', ARGV[4])
return 1`,
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

/** Stores the snapshot and drops the WAL before `trimMinId`, in one step; fenced like a commit. */
export async function saveSnapshotFenced(
  client: ScriptRunner,
  keys: PartitionKeys,
  snapshot: Snapshot,
  trimMinId: string,
  fence: WriteFence | null,
): Promise<void> {
  await runFenced(client, snapshotScript, [keys.snapshot, keys.wal], [snapshot.walId, snapshot.data, trimMinId], fence);
}
