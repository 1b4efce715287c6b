import type { Stats } from 'node:fs';
import { unwatchFile, watchFile } from 'node:fs';
import { open } from 'node:fs/promises';
import type { ModelSignal } from '../../strategies/signal-replay.js';
import { loadSignalFile, signalReplayStrategy } from '../../strategies/signal-replay.js';
import type { Strategy } from '../../strategies/strategy.js';
import type { Logger } from '../../util/logger.js';

// A model's signal file followed while the signals service runs it (QE_STRATEGY=replay): a model that appends its
// signals to the CSV is traded live, as its file is backtested. The file is looked at every `pollMs`; when its size or
// time changed it is read again whole and the replay rebuilt from it (a replay's targets at a time are a function of
// the signals up to then, so a rebuilt one answers as the old one would have with the new rows). A file whose last row
// has no newline yet is being written and waits for the next change; one that does not read (a malformed row, a row
// out of order) keeps the last good one, with a warning, and the next change is read again.

/** How often the file's size and modification time are looked at (ms). */
export const signalFilePollMs = 1_000;

export interface FollowedSignalFile {
  /** Delegates to the replay of the file's last good contents. */
  strategy: Strategy;
  stop(): void;
}

/** Whether the file ends with a newline (or is empty): its last row is whole. */
async function endsWithWholeRow(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    await file.read(last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    await file.close();
  }
}

export function followSignalFile(path: string, first: readonly ModelSignal[], logger: Logger, pollMs = signalFilePollMs): FollowedSignalFile {
  let replay = signalReplayStrategy(first);
  let rows = first.length;
  let reading = false;
  let changedWhileReading = false;
  const reread = (): void => {
    if (reading) {
      changedWhileReading = true;
      return;
    }
    reading = true;
    endsWithWholeRow(path)
      .then(async (whole) => {
        // A last row without its newline is still being written: read at the next change, once it is whole (half a
        // row can parse as another signal: a horizon of "1" where "12" is being written).
        if (!whole) return;
        const signals = await loadSignalFile(path);
        replay = signalReplayStrategy(signals);
        if (signals.length !== rows) logger.info({ path, signals: signals.length }, 'signal file read again');
        rows = signals.length;
      })
      .catch((error: unknown) => logger.warn({ err: error, path }, 'signal file not read again: the last good one is kept'))
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
  // would wait for the next change. Read once more now.
  reread();
  return {
    strategy: { name: 'replay', onBar: () => undefined, targets: (nowMs) => replay.targets(nowMs) },
    stop: () => unwatchFile(path, onChange),
  };
}
