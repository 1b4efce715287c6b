import { appendFileSync, mkdtempSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSignalFileReader, followSignalFile } from '../../src/services/signals/signal-file-watch.js';
import type { ModelSignal } from '../../src/strategies/signal-replay.js';
import { addSignalRow } from '../../src/strategies/signal-replay.js';
import { createPrng } from '../../src/paper-exchange/price-process.js';
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
      // The row, and the few bytes at the file's start and before the row that tell an append from a rewrite (64 each):
      // not the file's 60 KB again.
      expect(followed.bytesRead() - before).toBeLessThan(row.length + 200);
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

  it('after any sequence of appends, half rows, bad rows, edits in place, truncations and replacements, holds the signals a whole read of the file gives', async () => {
    // The signals a fresh read of the file's whole lines gives, or null if one of them does not read (the follower then
    // keeps the last good ones).
    const path = join(mkdtempSync(join(tmpdir(), 'qe-follow-')), 'signals.csv');
    const wholeRead = (): ModelSignal[] | null => {
      const text = readFileSync(path, 'utf8');
      const lines = text
        .slice(0, text.lastIndexOf('\n') + 1)
        .split('\n')
        .slice(0, -1);
      const out: ModelSignal[] = [];
      try {
        lines.forEach((line, i) => addSignalRow(path, i + 1, line, out));
      } catch {
        return null;
      }
      return out;
    };
    const random = createPrng(14);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    let minute = 0;
    const row = (action = pick(['BUY', 'SELL', 'HOLD']), symbol = pick(['BTCUSDT', 'ETHUSDT'])): string =>
      `${new Date(at('2026-01-01T00:00:00Z') + (minute += 1 + Math.floor(random() * 3)) * 60_000).toISOString()},${symbol},${action},${(0.5 + random() / 2).toFixed(2)},\n`;
    const fresh = (rows: number): string => {
      minute = 0;
      return header + Array.from({ length: rows }, () => row()).join('');
    };
    writeFileSync(path, fresh(3));
    let told: readonly ModelSignal[] = [];
    const reader = createSignalFileReader(
      path,
      silentLogger(),
      (signals) => (told = [...signals]),
      () => undefined,
    );
    await reader.readChange();
    let expected = wholeRead() ?? [];
    let half = '';
    const ops: Record<string, () => void> = {
      append: () => appendFileSync(path, half + Array.from({ length: 1 + Math.floor(random() * 4) }, () => row()).join('')),
      halfRow: () => {
        const r = row();
        half = r.slice(Math.floor(r.length / 2));
        appendFileSync(path, r.slice(0, Math.floor(r.length / 2)));
      },
      badRow: () => appendFileSync(path, `${half}2020-01-01T00:00:00Z,BTCUSDT,BUY,0.9,\n`),
      // The same length, a different signal: the first row's confidence edited in place, the file otherwise as it was.
      editInPlace: () => {
        const lines = readFileSync(path, 'utf8').split('\n');
        const fields = (lines[1] ?? '').split(',');
        if (fields.length < 5) return;
        fields[3] = (0.5 + random() / 2).toFixed(2);
        lines[1] = fields.join(',');
        writeFileSync(path, lines.join('\n'));
      },
      truncate: () => {
        const text = readFileSync(path, 'utf8');
        const lines = text.split('\n');
        writeFileSync(path, `${lines.slice(0, Math.max(2, lines.length - 3)).join('\n')}\n`);
      },
      rewrite: () => writeFileSync(path, fresh(2 + Math.floor(random() * 5))),
      // Written anew by write-then-rename: the first row's confidence edited and a row appended, the rows in between as
      // they were (an append to the same file would look the same at its end).
      replaceGrown: () => {
        const lines = readFileSync(path, 'utf8').split('\n');
        const fields = (lines[1] ?? '').split(',');
        if (fields.length === 5) fields[3] = (0.5 + random() / 2).toFixed(2);
        lines[1] = fields.join(',');
        writeFileSync(`${path}.next`, lines.join('\n') + row());
        renameSync(`${path}.next`, path);
      },
      replace: () => {
        writeFileSync(`${path}.next`, fresh(2 + Math.floor(random() * 5)));
        renameSync(`${path}.next`, path);
      },
    };
    const names = Object.keys(ops);
    const seen = new Set<string>();
    for (let step = 0; step < 400; step += 1) {
      const name = pick(names);
      if (name !== 'append' && name !== 'badRow' && half !== '') continue; // a half row is finished before anything else
      (ops[name] as () => void)();
      seen.add(name);
      if (name !== 'halfRow') half = '';
      // A look that finds a line that does not read throws (followSignalFile warns): the last good signals stand.
      await reader.readChange().catch(() => undefined);
      expected = wholeRead() ?? expected;
      expect({ step, op: name, signals: reader.signals() }).toEqual({ step, op: name, signals: expected });
      expect(told).toEqual(expected);
    }
    expect([...seen].sort()).toEqual([...names].sort());
  });

  it('reads an append larger than one read in parts, each from where the last ended', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'qe-follow-')), 'signals.csv');
    writeFileSync(path, `${header}2026-01-01T00:00:00Z,BTCUSDT,BUY,1,\n`);
    let more = 0;
    const reader = createSignalFileReader(
      path,
      silentLogger(),
      () => undefined,
      () => (more += 1),
    );
    await reader.readChange();
    // ~5 MB appended at once: more than one read takes (4 MiB).
    const rows: string[] = [];
    for (let m = 1; m <= 130_000; m += 1) rows.push(`${new Date(at('2026-01-01T00:00:00Z') + m * 60_000).toISOString()},ETHUSDT,SELL,0.9,\n`);
    appendFileSync(path, rows.join(''));
    const before = reader.bytesRead();
    await reader.readChange();
    expect(more).toBe(1); // the rest is read at the next look, which followSignalFile makes at once
    await reader.readChange();
    expect(reader.signals()).toHaveLength(130_001);
    // Each part read once (and 64 bytes before each): not the file again from its start.
    expect(reader.bytesRead() - before).toBeLessThan(statSync(path).size + 1_000);
  });
});
