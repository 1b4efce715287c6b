import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineLog, LogRecord } from '../log/port.js';

// A step whose commit answer was lost (CommitOutcomeUnknownError: the connection to Redis broke after the script was
// sent). Taken for a failure, a step that had landed left the engine on a state its own WAL disagrees with: the
// commands acknowledged, their orders never sent, the next step's WAL written from a state replay does not produce,
// and the next boot trading on another state than the one before. The WAL tells which it was: the engine is its only
// writer, so after the engine's last WAL id it holds either exactly the step's events (landed) or nothing (not).

/** What the WAL says of a step whose commit answer was lost. */
export type CommitOutcome = { kind: 'landed'; walIds: string[] } | { kind: 'not_landed' } | { kind: 'unresolvable'; reason: string };

/** How long the engine tries to read the WAL for a lost commit answer before giving up (ms, all reads together). */
export const defaultCommitOutcomeResolveMs = 30_000;
/** Wait between two reads of the WAL while the log cannot be read (ms): the client reconnects meanwhile. */
export const commitOutcomeReadEveryMs = 200;

/**
 * The outcome from what the WAL holds after the engine's last WAL id (`after`, read up to `wal.length + 1` records)
 * against the step's serialized WAL events. Anything but all of them or none of them (other records, a part of
 * them, more after them) means someone else writes this log, or it lost or reordered writes: not guessed at.
 */
export function outcomeFromWal(after: readonly LogRecord[], wal: readonly string[]): CommitOutcome {
  if (after.length === 0) return { kind: 'not_landed' };
  if (after.length === wal.length && after.every((record, i) => record.data === wal[i])) return { kind: 'landed', walIds: after.map((r) => r.id) };
  const matching = after.findIndex((record, i) => record.data !== wal[i]);
  return {
    kind: 'unresolvable',
    reason: `the WAL after the engine's last id holds ${after.length} record(s) (first ${matching === -1 ? after.length : matching} matching), the step wrote ${wal.length}`,
  };
}

/**
 * Reads the WAL after `lastWalId` until it answers (every commitOutcomeReadEveryMs, for at most `resolveMs` in all; a
 * read that hangs counts against the same bound) and tells the outcome; `unresolvable` once the bound is spent.
 * Only for a step that wrote WAL events: a step without any leaves nothing in the WAL to tell by.
 */
export async function resolveCommitOutcome(
  log: Pick<EngineLog, 'readWal'>,
  lastWalId: string | null,
  wal: readonly string[],
  resolveMs: number,
  onReadFailed: (error: unknown) => void,
): Promise<CommitOutcome> {
  if (wal.length === 0) throw new Error('a step without WAL events cannot be resolved from the WAL');
  const deadline = performance.now() + resolveMs;
  for (;;) {
    const leftMs = deadline - performance.now();
    if (leftMs <= 0) break;
    try {
      return outcomeFromWal(await withinMs(log.readWal(lastWalId, wal.length + 1), leftMs), wal);
    } catch (error) {
      onReadFailed(error);
    }
    if (deadline - performance.now() <= commitOutcomeReadEveryMs) break;
    await sleep(commitOutcomeReadEveryMs);
  }
  return { kind: 'unresolvable', reason: `the WAL could not be read within ${resolveMs} ms` };
}

/** The read's answer, or a rejection once `ms` have passed (the read's own late outcome is then ignored). */
async function withinMs<T>(read: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms)} ms`)), ms);
  });
  read.catch(() => undefined);
  try {
    return await Promise.race([read, expired]);
  } finally {
    clearTimeout(timer);
  }
}
