import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSignalFile } from '../../src/strategies/signal-replay.js';
import { parseUtcTime } from '../../src/model/utc-time.js';

// Every time the project reads is UTC, as the archive's and the exchange's are. A signal file's or a flag's time with
// no zone was read by Date.parse as the machine's local time: on a laptop in Tokyo a model's 07:00 signal was
// replayed at 22:00 the day before, and --from 2026-01-01T07:00 started nine hours early.

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('times without a zone are UTC', () => {
  it('in a signal file, whatever the machine’s time zone, and as pandas writes them (a space, an offset)', async () => {
    process.env.TZ = 'Asia/Tokyo';
    const dir = mkdtempSync(join(tmpdir(), 'qe-utc-'));
    const path = join(dir, 'signals.csv');
    writeFileSync(
      path,
      [
        'timestamp,symbol,signal,confidence,horizon_hours',
        '2026-01-01T07:00:00,BTCUSDT,BUY,0.9,2',
        '2026-01-01 08:00:00,BTCUSDT,SELL,0.9,2',
        '2026-01-01 09:00:00+00:00,BTCUSDT,HOLD,0.9,2',
        '2026-01-01T11:30:00+01:00,BTCUSDT,BUY,0.9,2',
        '',
      ].join('\n'),
    );
    const signals = await loadSignalFile(path);
    expect(signals.map((s) => new Date(s.timeMs).toISOString())).toEqual([
      '2026-01-01T07:00:00.000Z',
      '2026-01-01T08:00:00.000Z',
      '2026-01-01T09:00:00.000Z',
      '2026-01-01T10:30:00.000Z',
    ]);
  });

  it('parses the forms it takes and refuses impossible dates', () => {
    process.env.TZ = 'America/New_York';
    expect(parseUtcTime('2026-01-01')).toBe(Date.UTC(2026, 0, 1));
    expect(parseUtcTime('2026-01-01T07:00')).toBe(Date.UTC(2026, 0, 1, 7));
    expect(parseUtcTime('2026-01-01T07:00:05.25Z')).toBe(Date.UTC(2026, 0, 1, 7, 0, 5, 250));
    expect(parseUtcTime('2026-01-01T07:00:00.123456Z')).toBe(Date.UTC(2026, 0, 1, 7, 0, 0, 123));
    expect(parseUtcTime('2026-01-01T07:00:00-0230')).toBe(Date.UTC(2026, 0, 1, 9, 30));
    for (const bad of ['2026-02-30', '2026-01-01T24:00', '2026-13-01', '2026-01-01T07', '01/01/2026', '2026-01-01T07:00:00+25:00', ''])
      expect(parseUtcTime(bad), bad).toBeNull();
  });
});
