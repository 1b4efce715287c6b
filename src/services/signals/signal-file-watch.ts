import type { Stats } from 'node:fs';
import { unwatchFile, watchFile } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { ModelSignal } from '../../strategies/signal-replay.js';
import { DataFileError } from '../../backtest/data/data-file-error.js';
import { addSignalRow, signalReplayStrategy } from '../../strategies/signal-replay.js';
import type { Strategy } from '../../strategies/strategy.js';
import type { Logger } from '../../util/logger.js';

// A model's signal file followed while the signals service runs it (QE_STRATEGY=replay): a model that appends its
// signals to the CSV is traded live, as its file is backtested. The file is looked at every `pollMs`; when its size or
// time changed, only what was appended since the last read is read: its whole lines are checked and their signals
// added to the replay (a replay's targets at a time are a function of the signals up to then, in file order, so one
// with the new rows added answers as one rebuilt from the whole file would). A model appending a row a minute for a
// year makes a file of half a million rows: read whole at each change, it cost the signals service (the engine's
// process under `all`) seconds of work a minute. A last line with no newline yet is being written and waits for the
// next change. Appended lines that do not read (a malformed row, a row out of order) are not taken, none of them, with
// a warning: the last good signals stand, and the next change reads from the same place again. A file that was
// rewritten rather than appended to is read again whole: replaced (another inode, as a write-then-rename does), not
// grown since the last look (an edit in place of the same length, a truncation), or grown with the bytes just before
// the read point changed. Not seen: an edit in place before those bytes made together with an append to the same
// inode; the next change that is not a plain append reads the file whole.

/** How often the file's size and modification time are looked at (ms). */
export const signalFilePollMs = 1_000;
/** Bytes before the read point compared at each change to tell an append from a rewrite. */
const rewriteCheckBytes = 64;
/** Appended bytes read at one change at most; the rest is read at the next look (rows a model writes are short). */
const maxAppendReadBytes = 4 << 20;

export interface FollowedSignalFile {
  /** Delegates to the replay of the file's last good contents. */
  strategy: Strategy;
  /** Bytes of the file read since it was followed (its whole size at a full read, the appended bytes at an append). */
  bytesRead(): number;
  stop(): void;
}

/** What has been read of the file: its signals, where the whole lines read end (bytes), and how many lines those are. */
interface ReadPoint {
  signals: ModelSignal[];
  offset: number;
  lines: number;
  /** The bytes just before `offset` (at most rewriteCheckBytes): still there unchanged if the file was only appended to. */
  tail: Buffer;
}

/** The file as last looked at: which file (a rename puts another in its place) and how long. */
interface LastLook {
  ino: number;
  size: number;
}

/**
 * A followed file's reader: `readChange` looks at the file once and takes what changed (followSignalFile calls it when
 * the file's size or time changed; tests call it directly). `signals` are the last good ones.
 */
export interface SignalFileReader {
  readChange(): Promise<void>;
  signals(): readonly ModelSignal[];
  bytesRead(): number;
}

/** The whole lines of `bytes` (up to its last newline, none without one), and how many bytes they are. */
function wholeLines(bytes: Buffer): { lines: string[]; length: number } {
  const end = bytes.lastIndexOf(0x0a);
  if (end < 0) return { lines: [], length: 0 };
  // Newlines split UTF-8 only between characters: the lines decode whole.
  const lines = bytes.subarray(0, end).toString('utf8').split('\n');
  return { lines: lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)), length: end + 1 };
}

/** Reads `length` bytes at `position` of an open file (fewer at its end). */
type ReadAt = (position: number, length: number) => Promise<Buffer>;

function readerOf(file: FileHandle): ReadAt {
  return async (position, length) => {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await file.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  };
}

/**
 * `onSignals` is told the signals after each read that changed them (a whole read, or an append that added rows).
 * `onMore` is told when an append was read only in part (more than maxAppendReadBytes): the caller looks again.
 */
export function createSignalFileReader(
  path: string,
  logger: Logger,
  onSignals: (signals: readonly ModelSignal[]) => void,
  onMore: () => void,
): SignalFileReader {
  /** Null until the first read (the caller's `first` came from a read whose end is not known here). */
  let point: ReadPoint | null = null;
  let last: LastLook | null = null;
  let bytesRead = 0;

  /** The file read whole, as a fresh replay; not while its last line has no newline (it is being written). */
  const readWhole = async (readAt: ReadAt, size: number): Promise<void> => {
    const bytes = await readAt(0, size);
    bytesRead += bytes.length;
    const { lines, length } = wholeLines(bytes);
    // Half a row can parse as another signal (a horizon of "1" where "12" is being written): the last good stands.
    if (length < bytes.length) return;
    const signals: ModelSignal[] = [];
    lines.forEach((text, i) => addSignalRow(path, i + 1, text, signals));
    if (point === null || signals.length !== point.signals.length) logger.info({ path, signals: signals.length }, 'signal file read');
    // The tail copied out: a view would keep the whole file's bytes alive for its 64.
    point = {
      signals,
      offset: length,
      lines: lines.length,
      tail: Buffer.from(bytes.subarray(Math.max(0, length - rewriteCheckBytes), length)),
    };
    onSignals(signals);
  };

  /**
   * What was appended after `at` (its whole lines) added to the replay's signals; all or none of them. Answers how far
   * the file was read: short of `size` when more was appended than one read takes.
   */
  const readAppended = async (readAt: ReadAt, at: ReadPoint, size: number): Promise<number> => {
    const bytes = await readAt(at.offset, Math.min(size - at.offset, maxAppendReadBytes));
    bytesRead += bytes.length;
    const { lines, length } = wholeLines(bytes);
    if (lines.length === 0) {
      if (bytes.length === maxAppendReadBytes) throw new DataFileError(path, at.lines + 1, `a line longer than ${maxAppendReadBytes} bytes`);
      return size; // only the start of a row so far
    }
    // Checked on a copy of the last signal (the order rule reads it) before any is added: a bad line adds none.
    const added: ModelSignal[] = at.signals.slice(-1);
    const copied = added.length;
    lines.forEach((text, i) => addSignalRow(path, at.lines + i + 1, text, added, at.signals.length - copied));
    for (let i = copied; i < added.length; i += 1) at.signals.push(added[i] as ModelSignal);
    const tail = Buffer.concat([at.tail, bytes.subarray(0, length)]);
    point = {
      signals: at.signals,
      offset: at.offset + length,
      lines: at.lines + lines.length,
      tail: Buffer.from(tail.subarray(Math.max(0, tail.length - rewriteCheckBytes))),
    };
    if (added.length > copied) {
      logger.info({ path, signals: at.signals.length }, 'signal file rows appended');
      onSignals(at.signals);
    }
    if (at.offset + length === size || bytes.length < maxAppendReadBytes) return size;
    onMore(); // more than one read's worth appended: the rest next
    return at.offset + length;
  };

  /** Whether the bytes at `position` are still `expected` (an append leaves what was read as it was). */
  const unchanged = async (readAt: ReadAt, position: number, expected: Buffer): Promise<boolean> => {
    const now = await readAt(position, expected.length);
    bytesRead += now.length;
    return now.equals(expected);
  };

  /** One look at the file, on one handle: its size, whether it was appended to or rewritten, and what is new. */
  const readChange = async (): Promise<void> => {
    const file = await open(path, 'r');
    try {
      const readAt = readerOf(file);
      const { size, ino } = await file.stat();
      const at = point;
      const before = last;
      last = { ino, size };
      // Appended to, or rewritten? An append only grows the same file, and leaves what was read as it was.
      const appended =
        at !== null &&
        before !== null &&
        ino === before.ino &&
        size > before.size &&
        size >= at.offset &&
        (await unchanged(readAt, at.offset - at.tail.length, at.tail));
      if (!appended) return await readWhole(readAt, size);
      // Read in part, the file is taken as looked at up to where the read ended: the next look reads on from there.
      if (size > at.offset) last = { ino, size: await readAppended(readAt, at, size) };
    } finally {
      await file.close();
    }
  };

  return { readChange, signals: () => point?.signals ?? [], bytesRead: () => bytesRead };
}

export function followSignalFile(path: string, first: readonly ModelSignal[], logger: Logger, pollMs = signalFilePollMs): FollowedSignalFile {
  let replay = signalReplayStrategy(first);
  let reading = false;
  let changedWhileReading = false;
  const reader = createSignalFileReader(
    path,
    logger,
    (signals) => {
      replay = signalReplayStrategy(signals);
    },
    () => {
      changedWhileReading = true;
    },
  );

  const reread = (): void => {
    if (reading) {
      changedWhileReading = true;
      return;
    }
    reading = true;
    reader
      .readChange()
      .catch((error: unknown) => logger.warn({ err: error, path }, 'signal file not read: the last good signals are kept'))
      .finally(() => {
        reading = false;
        if (changedWhileReading) {
          changedWhileReading = false;
          reread();
        }
      });
  };
  const onChange = (now: Stats, before: Stats): void => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) reread();
  };
  // Not persistent: the watch alone does not keep the process running.
  watchFile(path, { interval: pollMs, persistent: false }, onChange);
  // The watch compares with its own first look at the file, taken after `first` was read: rows appended in between
  // would wait for the next change. Read once now, whole, which also finds where the whole lines end.
  reread();
  return {
    strategy: { name: 'replay', onBar: () => undefined, targets: (nowMs) => replay.targets(nowMs) },
    bytesRead: () => reader.bytesRead(),
    stop: () => unwatchFile(path, onChange),
  };
}
