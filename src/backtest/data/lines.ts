import { createReadStream } from 'node:fs';
import { openSingleEntryZip } from './zip.js';

// A data file's lines with their 1-based numbers, from a plain CSV or a single-entry zip: memory stays bounded by one
// chunk (64 KiB) plus one line however long the file. Split by hand rather than with node:readline, which cost about
// 20 µs a line here, more than the backtest's whole step; handed on a chunk's lines at a time, as an async generator
// costs a few promise turns per item it yields (readLines, one line at a time, is for small files).

export interface NumberedLine {
  line: number;
  text: string;
}

/** The lines of one chunk of a file: `lines[i]` is line `firstLine + i`. */
export interface LineBatch {
  firstLine: number;
  lines: string[];
}

/** A line longer than this is not a CSV row of any archive format (bytes): refused instead of buffered without end. */
export const maxLineBytes = 1 << 20;

/** Bytes read of data files so far (of a zip, its compressed bytes): how far a run is when its end time is open. */
export interface ReadMeter {
  bytesRead: number;
}

/** A data file's bytes, inflated when it is a zip: a chunk (64 KiB) at a time, counted on `meter` as they are read. */
async function openDataStream(path: string, meter?: ReadMeter): Promise<{ stream: AsyncIterable<Buffer> & { destroy(): void }; zipped: boolean }> {
  const zipped = path.toLowerCase().endsWith('.zip');
  const stream = zipped ? (await openSingleEntryZip(path, meter)).stream : createReadStream(path, { highWaterMark: 1 << 16 });
  return { stream, zipped };
}

/**
 * The file's lines as text, a chunk at a time: readLineChunks' chunks decoded, each cut at its newlines (a carriage
 * return before one dropped). One reader of the file for both: the chunks, the line numbers and the bound on a line are
 * the same whether a line is then read as bytes or as text.
 */
export async function* readLineBatches(path: string, meter?: ReadMeter): AsyncGenerator<LineBatch> {
  for await (const { firstLine, bytes } of readLineChunks(path, meter)) {
    // A chunk ends at a newline (or is the file's last line), so it decodes alone to its own text.
    const text = bytes.toString('utf8');
    const batch: LineBatch = { firstLine, lines: [] };
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      batch.lines.push(text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end));
      start = end + 1;
    }
    // The file's last line, with no newline after it.
    if (start < text.length) batch.lines.push(text.slice(start));
    yield batch;
  }
}

export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  for await (const { firstLine, lines } of readLineBatches(path)) {
    for (let i = 0; i < lines.length; i += 1) yield { line: firstLine + i, text: lines[i] as string };
  }
}

/** Whole lines of a file as bytes: `bytes` holds line `firstLine` and the ones after it, each ended by a newline but the file's last. */
export interface LineChunk {
  firstLine: number;
  bytes: Buffer;
}

/**
 * The file's lines left as bytes: each chunk read is cut after its last newline and the rest goes with the next, so a
 * line is never split between two chunks (a newline byte is never part of a multi-byte character, so a line's bytes
 * decode alone). For a reader of plain ASCII rows that decodes only the lines it cannot read itself (plain-rows.ts):
 * cutting and decoding every line was more than half of reading a bookTicker row; readLineBatches decodes them all.
 */
export async function* readLineChunks(path: string, meter?: ReadMeter): AsyncGenerator<LineChunk> {
  const { stream, zipped } = await openDataStream(path, meter);
  let pending: Buffer | null = null;
  let line = 0;
  try {
    for await (const chunk of stream) {
      // A zip's meter counts its compressed bytes as they are read (zip.ts); a plain file's are these.
      if (meter !== undefined && !zipped) meter.bytesRead += chunk.length;
      const data: Buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
      const lastNewline = data.lastIndexOf(10);
      const firstLine = line + 1;
      for (let at = data.indexOf(10); at >= 0 && at <= lastNewline; at = data.indexOf(10, at + 1)) line += 1;
      // The partial line copied out: a view would keep the whole chunk alive until the line's end is read.
      pending = lastNewline + 1 < data.length ? Buffer.from(data.subarray(lastNewline + 1)) : null;
      if (pending !== null && pending.length > maxLineBytes) throw new Error(`${path}:${line + 1}: a line longer than ${maxLineBytes} bytes`);
      if (lastNewline >= 0) yield { firstLine, bytes: data.subarray(0, lastNewline + 1) };
    }
    if (pending !== null) yield { firstLine: line + 1, bytes: pending };
  } finally {
    stream.destroy();
  }
}
