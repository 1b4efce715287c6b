import { appendFileSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { followSignalFile } from '../../src/services/signals/signal-file-watch.js';
import { loadSignalFile } from '../../src/strategies/signal-replay.js';
import { silentLogger } from '../../src/util/logger.js';
import { waitFor } from '../support/wait.js';

// A model that appends its signals to its CSV is traded live (QE_STRATEGY=replay): the signals service reads the file
// again when it changes, once its last row is whole (ends with a newline).

const header = 'timestamp,symbol,signal,confidence,horizon_hours\n';
const at = (iso: string): number => Date.parse(iso);

describe('a followed signal file', () => {
  it('trades the rows the model appends, and keeps the last good file through a half-written row', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'qe-follow-')), 'signals.csv');
    writeFileSync(path, `${header}2026-01-01T00:00:00Z,BTCUSDT,BUY,1,\n`);
    const followed = followSignalFile(path, await loadSignalFile(path), silentLogger(), 20);
    try {
      expect(followed.strategy.targets(at('2026-01-01T01:00:00Z'))).toEqual([{ symbol: 'BTCUSDT', weight: 0.3 }]);
      appendFileSync(path, '2026-01-01T02:00:00Z,BTCUSDT,SELL,1,\n');
      await waitFor('the appended SELL to be traded', () => followed.strategy.targets(at('2026-01-01T03:00:00Z'))[0]?.weight === -0.3, 10_000, 10);
      // Half a row that parses as another signal (a horizon of 1 h where 12 is being written): not read while it has
      // no newline, the last good file stands; the row completed later is.
      appendFileSync(path, '2026-01-01T04:00:00Z,ETHUSDT,BUY,0.9,1');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(followed.strategy.targets(at('2026-01-01T05:30:00Z'))).toEqual([{ symbol: 'BTCUSDT', weight: -0.3 }]);
      appendFileSync(path, '2\n');
      await waitFor('the completed row to be traded', () => followed.strategy.targets(at('2026-01-01T05:30:00Z')).length === 2, 10_000, 10);
      expect(followed.strategy.targets(at('2026-01-01T05:30:00Z'))).toEqual([
        { symbol: 'BTCUSDT', weight: -0.3 },
        { symbol: 'ETHUSDT', weight: 0.24 },
      ]);
    } finally {
      followed.stop();
    }
  });

  it('reads only what the model appended, not the whole file again', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'qe-follow-')), 'signals.csv');
    // A day of a model's minutes: ~60 KB. Read whole at every change, a year of them was seconds of work a minute.
    const rows: string[] = [];
    for (let m = 0; m < 1_440; m += 1) rows.push(`${new Date(at('2026-01-01T00:00:00Z') + m * 60_000).toISOString()},BTCUSDT,BUY,1,\n`);
    writeFileSync(path, header + rows.join(''));
    const followed = followSignalFile(path, await loadSignalFile(path), silentLogger(), 20);
    try {
      const size = statSync(path).size;
      await waitFor('the first whole read', () => followed.bytesRead() >= size, 10_000, 10);
      const before = followed.bytesRead();
      const row = '2026-01-02T00:00:00Z,BTCUSDT,SELL,1,\n';
      appendFileSync(path, row);
      await waitFor('the appended SELL to be traded', () => followed.strategy.targets(at('2026-01-02T00:01:00Z'))[0]?.weight === -0.3, 10_000, 10);
      // The row, and the few bytes before it that tell an append from a rewrite: not the file's 60 KB again.
      expect(followed.bytesRead() - before).toBeLessThan(row.length + 100);
    } finally {
      followed.stop();
    }
  });

  it('takes none of an appended run of rows with a bad one, and reads a rewritten file whole', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'qe-follow-')), 'signals.csv');
    writeFileSync(path, `${header}2026-01-01T00:00:00Z,BTCUSDT,BUY,1,\n`);
    const followed = followSignalFile(path, await loadSignalFile(path), silentLogger(), 20);
    try {
      await waitFor('the first whole read', () => followed.bytesRead() > 0, 10_000, 10);
      // A good row then one out of order: neither is taken (the model's append is one piece), the BUY stands.
      appendFileSync(path, '2026-01-01T02:00:00Z,ETHUSDT,BUY,1,\n2026-01-01T01:00:00Z,BTCUSDT,SELL,1,\n');
      const afterBad = followed.bytesRead();
      await waitFor('the bad append to be read', () => followed.bytesRead() > afterBad, 10_000, 10);
      expect(followed.strategy.targets(at('2026-01-01T03:00:00Z'))).toEqual([{ symbol: 'BTCUSDT', weight: 0.3 }]);
      // The model writes its file anew (a SELL where the BUY was): read whole, the replay is the new file's.
      writeFileSync(path, `${header}2026-01-01T00:00:00Z,BTCUSDT,SELL,1,\n2026-01-01T00:30:00Z,ETHUSDT,SELL,1,\n`);
      await waitFor('the rewritten file to be traded', () => followed.strategy.targets(at('2026-01-01T03:00:00Z'))[0]?.weight === -0.3, 10_000, 10);
      expect(followed.strategy.targets(at('2026-01-01T03:00:00Z'))).toEqual([
        { symbol: 'BTCUSDT', weight: -0.3 },
        { symbol: 'ETHUSDT', weight: -0.3 },
      ]);
    } finally {
      followed.stop();
    }
  });
});
