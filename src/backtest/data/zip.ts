import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { DataFileError } from './data-file-error.js';
import type { ReadMeter } from './lines.js';

// A single-entry zip (what data.binance.vision publishes: one CSV per archive) streamed through Node's zlib, with
// no dependency: the sizes and offset come from the central directory at the end of the file (a local header may
// leave them zero and put them in a data descriptor after the data), the entry's data is read as a byte range and
// inflated as it streams. Layout: PKWARE APPNOTE.TXT §4.3 (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT).

export const endOfCentralDirSignature = 0x06054b50;
export const centralEntrySignature = 0x02014b50;
export const localHeaderSignature = 0x04034b50;
/** The end-of-central-directory record: 22 bytes plus a comment of at most 65 535. */
export const endRecordBytes = 22;
const maxCommentBytes = 0xffff;
export const localHeaderBytes = 30;
export const centralEntryBytes = 46;
const methodStored = 0;
export const methodDeflate = 8;
/** Bytes of each inflated chunk handed on. */
const inflatedChunkBytes = 1 << 16;

export interface ZipEntry {
  name: string;
  /** The entry's uncompressed bytes, streamed. */
  stream: Readable;
}

/**
 * `meter`: counts the compressed bytes as they are read (lines.ts, ReadMeter). The headers are read synchronously: a
 * few small reads, each a round trip through the thread pool when asynchronous (~2 ms a file before the first line).
 */
export async function openSingleEntryZip(path: string, meter?: ReadMeter): Promise<ZipEntry> {
  return openZipEntry(path, meter);
}

function openZipEntry(path: string, meter?: ReadMeter): ZipEntry {
  const fd = openSync(path, 'r');
  const read = (buffer: Buffer, position: number): void => {
    readSync(fd, buffer, 0, buffer.length, position);
  };
  try {
    const { size } = fstatSync(fd);
    const tailBytes = Math.min(size, endRecordBytes + maxCommentBytes);
    const tail = Buffer.alloc(tailBytes);
    read(tail, size - tailBytes);
    let end = -1;
    for (let i = tailBytes - endRecordBytes; i >= 0; i -= 1) {
      if (tail.readUInt32LE(i) === endOfCentralDirSignature) {
        end = i;
        break;
      }
    }
    if (end < 0) throw new DataFileError(path, 0, 'not a zip archive (no end-of-central-directory record)');
    const entries = tail.readUInt16LE(end + 10);
    if (entries !== 1) throw new DataFileError(path, 0, `zip holds ${entries} entries; one CSV per archive expected`);
    const centralOffset = tail.readUInt32LE(end + 16);
    const central = Buffer.alloc(centralEntryBytes);
    read(central, centralOffset);
    if (central.readUInt32LE(0) !== centralEntrySignature) throw new DataFileError(path, 0, 'zip central directory is damaged');
    const method = central.readUInt16LE(10);
    const compressedSize = central.readUInt32LE(20);
    const nameLength = central.readUInt16LE(28);
    const localOffset = central.readUInt32LE(42);
    if (compressedSize === 0xffffffff || localOffset === 0xffffffff) throw new DataFileError(path, 0, 'zip64 archives are not supported');
    const nameBytes = Buffer.alloc(nameLength);
    read(nameBytes, centralOffset + centralEntryBytes);
    const local = Buffer.alloc(localHeaderBytes);
    read(local, localOffset);
    if (local.readUInt32LE(0) !== localHeaderSignature) throw new DataFileError(path, 0, 'zip local header is damaged');
    const dataStart = localOffset + localHeaderBytes + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (method !== methodStored && method !== methodDeflate) throw new DataFileError(path, 0, `zip compression method ${method} is not supported (stored or deflate)`);
    const name = nameBytes.toString('utf8');
    if (compressedSize === 0) return { name, stream: Readable.from([]) };
    const raw = createReadStream(path, { start: dataStart, end: dataStart + compressedSize - 1 });
    if (meter !== undefined) raw.on('data', (chunk) => (meter.bytesRead += chunk.length));
    if (method === methodStored) return { name, stream: raw };
    // Inflated in chunks of the read stream's size (64 KiB, lines.ts) rather than zlib's 16 KiB: a quarter of the
    // chunks, each an async turn through the line, row and quote readers.
    const inflate = createInflateRaw({ chunkSize: inflatedChunkBytes });
    raw.on('error', (error) => inflate.destroy(error));
    return { name, stream: raw.pipe(inflate) };
  } finally {
    closeSync(fd);
  }
}
