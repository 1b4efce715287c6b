import { createHash } from 'node:crypto';
import { boundDeadLetter } from './dead-letter.js';
import type { CommitBatch, LedgerAppend, LogLimits } from './port.js';
import { walIdAt } from './port.js';
import type { PartitionKeys } from './partition.js';

// The Redis commit as one Lua script: WAL events (with the fill-ledger entries each carries), outbound events,
// dead letters and the XACK of the commands, in one atomic step (a script runs alone, like MULTI/EXEC did).
// A script rather than MULTI because a fenced commit (src/cluster/lease.ts) must first check that the writer's
// lease is still current, and refuse everything if not: inside MULTI a failing check cannot stop the commands
// queued after it. Every key carries the partition's hash tag, so on a cluster the script runs on one node.

/** Thrown when Redis refuses a commit because the writer's lease is gone or someone else's: nothing was written. */
export class StaleLeaseError extends Error {
  override name = 'StaleLeaseError';
  constructor(
    readonly leaseKey: string,
    detail: string,
  ) {
    super(`stale lease on ${leaseKey}: ${detail}`);
  }
}

/** The marker of the script's refusal (an error reply starting with it). */
const staleLeaseMarker = 'STALE_LEASE';

// KEYS: commands, wal, ledger, outbound, deadLetters[, lease]. ARGV: the lease value expected ('' when KEYS has no
// lease), the command group, the outbound hard cap, the dead-letter cap, then counted sections (see commitArguments).
// Redis does not roll a script back: every refusal it can foresee comes before the first write. The `#!lua`
// line makes Redis refuse the whole script up front when out of memory (not at a write halfway through); the
// key types are checked here; the entry ids to acknowledge were checked by the caller.
const commitScript = `#!lua
for k = 1, 5 do
  local t = redis.call('TYPE', KEYS[k])['ok']
  if t ~= 'stream' and t ~= 'none' then
    return redis.error_reply('WRONGTYPE commit key ' .. KEYS[k] .. ' holds a ' .. t)
  end
end
if #KEYS == 6 then
  local current = redis.call('GET', KEYS[6])
  if current ~= ARGV[1] then
    return redis.error_reply('${staleLeaseMarker} held by ' .. tostring(current))
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
return walIds`;

const streamIdPattern = /^\d+-\d+$/;

const commitScriptSha = createHash('sha1').update(commitScript).digest('hex');

/** The script's arguments for one batch; the ledger is checked first (all or nothing, before any write). */
function commitArguments(batch: CommitBatch, fenceValue: string, group: string, limits: LogLimits): string[] {
  const ledgerOf = new Map<number, LedgerAppend[]>();
  for (const l of batch.ledger ?? []) {
    walIdAt(batch.wal, l.walIndex); // a ledger entry without its WAL event is refused before any write
    ledgerOf.set(l.walIndex, [...(ledgerOf.get(l.walIndex) ?? []), l]);
  }
  const args = [fenceValue, group, String(limits.maxOutboundEntriesHard), String(limits.maxDeadLetterEntries), String(batch.wal.length)];
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

/** What runs a script on the right node: a client or a cluster client (both route by the first key). */
export interface ScriptRunner {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** EVALSHA, loading the script on a node that does not have it yet (a fresh node, or after SCRIPT FLUSH). */
export async function runScript(client: ScriptRunner, script: string, sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown> {
  try {
    return await client.evalSha(sha, options);
  } catch (error) {
    if (!String(error).includes('NOSCRIPT')) throw error;
    return client.eval(script, options);
  }
}

/**
 * Commits one batch; returns the WAL ids in order. With `fenceValue` (the writer's lease value), the commit
 * happens only if the lease key holds exactly that value; else StaleLeaseError and nothing is written.
 */
export async function commitBatch(
  client: ScriptRunner,
  keys: PartitionKeys,
  group: string,
  limits: LogLimits,
  batch: CommitBatch,
  fenceValue: string | null,
): Promise<string[]> {
  const scriptKeys = [keys.commands, keys.wal, keys.ledger, keys.outbound, keys.deadLetters];
  if (fenceValue !== null) scriptKeys.push(keys.lease);
  const options = { keys: scriptKeys, arguments: commitArguments(batch, fenceValue ?? '', group, limits) };
  try {
    const ids = (await runScript(client, commitScript, commitScriptSha, options)) as unknown[];
    return ids.map(String);
  } catch (error) {
    const message = String((error as Error).message ?? error);
    if (message.includes(staleLeaseMarker)) throw new StaleLeaseError(keys.lease, message);
    throw error;
  }
}

/** The writer's side of a lease, as a fenced log sees it (src/cluster/lease.ts implements it). */
export interface LogFence {
  /** The lease value to check in the commit, or null when the writer knows it no longer holds the lease. */
  current(): string | null;
  /** Redis refused a commit: the lease is stale, the writer must stop writing this partition at once. */
  refused(error: StaleLeaseError): void;
}
