import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { LeaseBounds } from '../../cluster/lease-rules.js';
import { leaseValue } from '../../cluster/lease-rules.js';
import type { PartitionLease } from '../../cluster/lease.js';
import { claimLease, readLease } from '../../cluster/lease.js';
import { partitionKeys } from '../../log/partition.js';
import type { WriterOwner } from '../../log/port.js';
import { WriterLostError, WriterTakenError } from '../../log/port.js';
import type { RedisConnection } from '../../log/redis-connection.js';
import { connectRedis } from '../../log/redis-connection.js';
import { runScript, script } from '../../log/redis-fence.js';
import { claimantGone } from '../../util/process-gone.js';
import { takeoverNote } from './claim-writer.js';

// The writer of a log on a single Redis (no cluster): one execution service per key prefix. Two on one prefix both
// read the command group (each a share of the commands), decided from their own states and committed to one WAL.
// The claim is the cluster workers' partition lease (src/cluster/lease.ts) on the unpartitioned keys: a token that
// only grows, `<token>|<owner>` set NX with a TTL and renewed, every commit and snapshot fenced on it. Its TTL is
// longer than a worker's (3 s): a single engine has no standby to hand over to, so a stall or a Redis restart should
// not cost its lease. A lease whose owner's process is gone (same host: a SIGKILLed engine restarting) is taken over
// at once instead of after the TTL.

/**
 * The lease of a single-Redis engine: 30 s, renewed every second, a second of the TTL kept as a margin. An engine that
 * cannot renew it for that long (Redis unreachable) stops, where it used to wait for Redis keeping exchange news; so
 * the TTL is long enough for a Redis restart or a network blip. It only delays a takeover from another host after a
 * crash: on the same host a gone process's lease is taken at once.
 */
export const singleRedisLeaseBounds: LeaseBounds = { leaseTtlMs: 30_000, leaseRenewEveryMs: 1_000, leaseSafetyMarginMs: 1_000 };

/** Deletes the lease if it still holds the value read (the gone owner's): a claim then finds it free. */
const clearGoneScript = script(`if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`);

/** The lease's owner field: host, pid, a run id (so no two claims store one value) and what runs, '/'-separated. */
function ownerField(owner: WriterOwner): string {
  return [owner.host, String(owner.pid), randomUUID(), owner.what].map((part) => encodeURIComponent(part)).join('/');
}

function ownerOf(field: string): WriterOwner | null {
  const [host, pid, , what] = field.split('/').map((part) => decodeURIComponent(part));
  return host !== undefined && what !== undefined && Number.isSafeInteger(Number(pid)) ? { host, pid: Number(pid), what } : null;
}

export interface RedisWriter {
  lease: PartitionLease;
  /** The holder taken over (its process gone), or null when the log was free. */
  note: string | null;
  release(): Promise<void>;
}

/**
 * Claims the log at `url` under `prefix` for this process, or throws WriterTakenError naming the engine that holds
 * it. `onLost`: the lease ran out before a renewal (Redis unreachable longer than the TTL) or another engine holds it
 * now; this engine must stop at once (its writes are refused from then on).
 */
export async function claimRedisWriter(opts: {
  url: string;
  prefix: string;
  what: string;
  onLost: (error: WriterLostError) => void;
  bounds?: LeaseBounds;
}): Promise<RedisWriter> {
  const conn: RedisConnection = await connectRedis({ url: opts.url });
  const keys = partitionKeys(opts.prefix, undefined);
  const owner: WriterOwner = { pid: process.pid, host: hostname(), what: opts.what };
  const where = `the log at ${opts.url}${opts.prefix === '' ? '' : ` (prefix ${opts.prefix})`}`;
  const claim = () =>
    claimLease({
      conn,
      keys,
      owner: ownerField(owner),
      bounds: opts.bounds ?? singleRedisLeaseBounds,
      onLost: (reason) => opts.onLost(new WriterLostError(`this engine no longer writes ${where}: ${reason}`)),
    });
  try {
    let lease = await claim();
    let note: string | null = null;
    if (lease === null) {
      const held = await readLease(conn, keys);
      const holder = held && ownerOf(held.owner);
      if (held && holder && claimantGone(holder, owner.host)) {
        await runScript(conn, clearGoneScript, [keys.lease], [leaseValue(held.token, held.owner)]);
        lease = await claim();
        if (lease) note = takeoverNote(where, holder, 'its process is gone');
      }
      if (lease === null) {
        const shown: WriterOwner = holder ?? { pid: 0, host: 'unknown', what: held?.owner ?? 'unknown' };
        throw new WriterTakenError(
          `another engine is writing ${where}: ${shown.what}, pid ${shown.pid} on ${shown.host}, its lease good for ${held?.ttlMs ?? 0} ms more. ` +
            'Stop it first; a lease not renewed runs out and is taken over.',
          shown,
        );
      }
    }
    const taken = lease;
    return {
      lease: taken,
      note,
      async release() {
        await taken.release();
        await conn.close();
      },
    };
  } catch (error) {
    await conn.close();
    throw error;
  }
}
