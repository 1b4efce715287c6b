import { hostname } from 'node:os';
import type { EngineLog, WriterLostError, WriterOwner } from '../../log/port.js';

// The engine's claim on the log it writes (a SQLite file: src/log/sqlite-writer.ts), made before anything else
// starts: a second engine on the same file is refused with the first one named, instead of both trading from their
// own states. Logs that arbitrate writers elsewhere (Redis) have nothing to claim here.

/** The line a start prints when it took a log over from an engine that is gone (or silent): who, and why. */
export function takeoverNote(where: string, from: WriterOwner, why: string): string {
  return `took over ${where} from ${from.what}, pid ${from.pid} (${why})`;
}

/**
 * Claims `log` for this process (`what`: `quant-engine all`). Returns the line to print (the holder taken over, or
 * null), or throws WriterTakenError while another engine holds the log. `onLost`: the claim was taken over while
 * this engine was silent past the stale bound; it must stop at once (nothing it writes lands any more). The claim
 * itself ends with the log (close releases it).
 */
export async function claimLogWriter(log: EngineLog, what: string, where: string, onLost: (error: WriterLostError) => void): Promise<string | null> {
  if (!log.claimWriter) return null;
  const from = (await log.claimWriter({ pid: process.pid, host: hostname(), what }, onLost)).tookOverFrom;
  if (from === null) return null;
  return takeoverNote(where, from, from.why === 'silent' ? `silent since ${new Date(from.beatAtMs).toISOString()}` : from.why);
}
