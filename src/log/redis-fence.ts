import { createHash } from 'node:crypto';

// Fenced writes (issue 13): a script whose writes happen only while the writer's lease is current. The lease key
// carries the partition's hash tag like every other key of the partition, so the check and the writes run in one
// script on one node: nothing can come between them. src/cluster/lease.ts claims and renews the lease.

/** Thrown when Redis refuses a write because the writer's lease is gone or someone else's: nothing was written. */
export class StaleLeaseError extends Error {
  override name = 'StaleLeaseError';
  constructor(
    readonly leaseKey: string,
    detail: string,
  ) {
    super(`stale lease on ${leaseKey}: ${detail}`);
  }
}

/** The writer's side of a lease, as a fenced log sees it (src/cluster/lease.ts implements it). */
export interface LogFence {
  /** The lease value to check in the write, or null when the writer knows it no longer holds the lease. */
  current(): string | null;
  /** Redis refused a write: the lease is stale, the writer must stop writing this partition at once. */
  refused(error: StaleLeaseError): void;
}

/** What runs a script on the right node: a client or a cluster client (both route by the first key). */
export interface ScriptRunner {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

export interface Script {
  text: string;
  sha: string;
}

export function script(text: string): Script {
  return { text, sha: createHash('sha1').update(text).digest('hex') };
}

/** EVALSHA, loading the script on a node that does not have it yet (a fresh node, or after SCRIPT FLUSH). */
export async function runScript(client: ScriptRunner, s: Script, keys: string[], args: string[]): Promise<unknown> {
  const options = { keys, arguments: args };
  try {
    return await client.evalSha(s.sha, options);
  } catch (error) {
    if (!String(error).includes('NOSCRIPT')) throw error;
    return client.eval(s.text, options);
  }
}

/** The marker of a fenced script's refusal (an error reply starting with it). */
const staleLeaseMarker = 'STALE_LEASE';

/**
 * A script of `dataKeyCount` keys whose body runs only if, when a lease key follows them, that key holds ARGV[1]
 * (the body's own arguments start at ARGV[2]). `#!lua` makes Redis refuse a script that may write up front when
 * out of memory, instead of at a write halfway through (Redis does not roll a script back).
 */
export function fencedScript(dataKeyCount: number, body: string): Script {
  return script(`#!lua
if #KEYS == ${dataKeyCount + 1} then
  local current = redis.call('GET', KEYS[${dataKeyCount + 1}])
  if current ~= ARGV[1] then
    return redis.error_reply('${staleLeaseMarker} held by ' .. tostring(current))
  end
end
${body}`);
}

/** The fence of one write: the lease key and the value the writer believes it holds (null: unfenced). */
export interface WriteFence {
  leaseKey: string;
  value: string;
}

/** Runs a fencedScript; a refusal becomes StaleLeaseError (and nothing was written). */
export async function runFenced(client: ScriptRunner, s: Script, dataKeys: string[], args: string[], fence: WriteFence | null): Promise<unknown> {
  const keys = fence === null ? dataKeys : [...dataKeys, fence.leaseKey];
  try {
    return await runScript(client, s, keys, [fence?.value ?? '', ...args]);
  } catch (error) {
    const message = String((error as Error).message ?? error);
    if (fence !== null && message.includes(staleLeaseMarker)) throw new StaleLeaseError(fence.leaseKey, message);
    throw error;
  }
}
