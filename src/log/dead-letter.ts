import { createHash } from 'node:crypto';
import type { DeadLetter } from '../model/command-delivery.js';
import type { StoredDeadLetter } from './port.js';

// What a dead letter keeps of its payload, in one place for every adapter. A dead letter is evidence for an
// operator (what came in, why it was refused), not a copy of the input: a fuzz of 1 MB malformed commands
// once stored each payload whole a second time (411 MB of dead letters). So the log keeps a prefix, the
// payload's size and its hash; the size and hash still identify the payload exactly.

/** A dead letter keeps at most this many bytes (UTF-8) of its payload; the rest is only sized and hashed. */
export const maxDeadLetterPayloadBytes = 4_096;

/** The fields the adapters store for a dead letter (everything but the adapter's own id). */
export type BoundedDeadLetter = Omit<StoredDeadLetter, 'id'>;

/**
 * The payload cut to at most maxDeadLetterPayloadBytes of UTF-8 (never mid-character), with the byte size and
 * sha256 (hex) of the whole payload as the engine read it (its UTF-8 encoding).
 */
export function boundDeadLetter(dl: DeadLetter): BoundedDeadLetter {
  const bytes = Buffer.from(dl.raw, 'utf8');
  const rawSha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length <= maxDeadLetterPayloadBytes)
    return { entryId: dl.entryId, raw: dl.raw, reason: dl.reason, rawBytes: bytes.length, rawSha256, rawTruncated: false };
  let cut = maxDeadLetterPayloadBytes;
  // Back off over UTF-8 continuation bytes (10xxxxxx) so the prefix ends on a whole character.
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut -= 1;
  return { entryId: dl.entryId, raw: bytes.subarray(0, cut).toString('utf8'), reason: dl.reason, rawBytes: bytes.length, rawSha256, rawTruncated: true };
}

/**
 * A stored dead letter as read back. Entries written before payloads were bounded have no size or hash: they
 * are bounded on read, so a reader never gets a whole payload either way.
 */
export function readStoredDeadLetter(
  id: string,
  entryId: string,
  raw: string,
  reason: string,
  rawBytes: number | null,
  rawSha256: string | null,
): StoredDeadLetter {
  if (rawBytes === null || rawSha256 === null || !Number.isFinite(rawBytes)) return { id, ...boundDeadLetter({ entryId, raw, reason }) };
  return { id, entryId, raw, reason, rawBytes, rawSha256, rawTruncated: Buffer.byteLength(raw, 'utf8') < rawBytes };
}
