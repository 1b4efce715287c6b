import type { CsvFormat, RowOrigin } from './binance-csv.js';
import { checkFileOrder, CrossFileOrder, rowOfLine } from './binance-csv.js';
import type { DataFile } from './catalog.js';
import type { ReadMeter } from './lines.js';
import { readLineChunks } from './lines.js';
import type { PlainRead } from './plain-rows.js';

// A symbol's rows of one format within [fromMs, toMs), in time order across its files, turned into items a chunk of a
// file at a time — quotes.ts rowItemBatches, with each plain line read from the file's bytes straight into its item
// (plain-rows.ts) and only the others cut out as text and read by the format.

/** How one format's plain lines are read from bytes, and made items. */
export interface PlainLines<P extends PlainRead, T> {
  /** The object `read` writes each plain line into (one, reused). */
  scratch: P;
  /** Reads the line at `start` into `out` when it is plain; false leaves it to the text path. */
  read(bytes: Uint8Array, start: number, out: P): boolean;
  /** The line's item from what `read` wrote (none: the row is dropped, as the text path's `add` drops it). */
  add(read: P, file: string, line: number, out: T[]): void;
}

/**
 * The same rows, items and errors as rowItemBatches over readRowBatches, which take each chunk in two steps: every line
 * of the chunk read and checked against the one above it (an error there comes first, at its line), then the chunk's
 * rows checked across files, cut to the period and made items by `add` (which may refuse one: a price off the grid),
 * stopping at the first row past the period. Done here in one pass: a row's step-two error is kept and thrown once the
 * chunk's lines are all read, and no row is made an item after it or past the period.
 */
export async function* byteRowItemBatches<R, P extends PlainRead, T>(
  files: readonly DataFile[],
  format: CsvFormat<R>,
  fromMs: number,
  toMs: number,
  meter: ReadMeter | undefined,
  plain: PlainLines<P, T>,
  add: (row: R & RowOrigin, out: T[]) => void,
): AsyncGenerator<T[]> {
  const order = new CrossFileOrder();
  const read = plain.scratch;
  for (const file of files) {
    const path = file.path;
    let lastTimeMs = -Infinity;
    for await (const { firstLine, bytes } of readLineChunks(path, meter)) {
      const batch: T[] = [];
      let ended = false;
      /** The chunk's first error of step two, thrown after its lines are read. */
      let refused: unknown = null;
      let line = firstLine;
      for (let start = 0; start < bytes.length; line += 1) {
        let row: (R & RowOrigin) | null = null;
        if (line > 1 && plain.read(bytes, start, read)) start = read.next;
        else {
          // Cut as readLineBatches cuts a line: up to its newline, less a carriage return before it.
          const newlineAt = bytes.indexOf(10, start);
          const lineEnd = newlineAt < 0 ? bytes.length : newlineAt;
          const textEnd = newlineAt > start && bytes[newlineAt - 1] === 13 ? newlineAt - 1 : lineEnd;
          row = rowOfLine(path, format, bytes.toString('utf8', start, textEnd), line) as (R & RowOrigin) | null;
          start = lineEnd + 1;
          if (row === null) continue;
          row.file = path;
          row.line = line;
        }
        const timeMs = row === null ? read.timeMs : format.timeOf(row);
        checkFileOrder(path, line, timeMs, lastTimeMs, format.sameTimeAllowed);
        lastTimeMs = timeMs;
        if (ended || refused !== null) continue;
        refused = order.check(timeMs, path, line, !format.sameTimeAllowed);
        if (refused !== null || timeMs < fromMs) continue;
        if (timeMs >= toMs) {
          ended = true;
          continue;
        }
        if (row === null) plain.add(read, path, line, batch);
        else {
          try {
            add(row, batch);
          } catch (error) {
            refused = error;
          }
        }
      }
      if (refused !== null) throw refused;
      if (batch.length > 0) yield batch;
      if (ended) return;
    }
  }
}
