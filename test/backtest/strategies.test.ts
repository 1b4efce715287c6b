import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crossoverStrategy, crossoverWeight, defaultCrossoverParams } from '../../src/strategies/crossover.js';
import { loadSignalFile, signalReplayStrategy, signalWeight } from '../../src/strategies/signal-replay.js';
import type { Bar } from '../../src/strategies/strategy.js';

const dir = mkdtempSync(join(tmpdir(), 'qe-strategies-'));
const bar = (symbol: string, i: number, close: number): Bar => ({
  symbol,
  openTimeMs: i * 60_000,
  closeTimeMs: (i + 1) * 60_000,
  open: close,
  high: close,
  low: close,
  close,
});

describe('strategies', () => {
  it('crossover: refuses windows that could never trade (short not below long)', () => {
    expect(() => crossoverStrategy({ ...defaultCrossoverParams, shortWindow: 20, longWindow: 20 })).toThrow(/1 ≤ short < long windows, got 20\/20/);
    expect(() => crossoverStrategy({ ...defaultCrossoverParams, shortWindow: 0, longWindow: 20 })).toThrow(/1 ≤ short < long/);
    expect(() => crossoverStrategy({ ...defaultCrossoverParams, shortWindow: 5, longWindow: 6 })).not.toThrow();
  });

  it('crossover: no view before longWindow bars, then the crossover weight of the last longWindow closes', () => {
    const strategy = crossoverStrategy();
    const closes: number[] = [];
    for (let i = 0; i < 60; i += 1) {
      const close = 100 + Math.sin(i / 5) * 0.5 + i * 0.01;
      closes.push(close);
      strategy.onBar(bar('BTCUSDT', i, close));
      const targets = strategy.targets(i * 60_000);
      if (closes.length < defaultCrossoverParams.longWindow) expect(targets).toEqual([]);
      else expect(targets).toEqual([{ symbol: 'BTCUSDT', weight: crossoverWeight(closes, defaultCrossoverParams) }]);
    }
    // A rising series is long, a falling one short, each within maxWeight.
    const up = crossoverStrategy();
    const down = crossoverStrategy();
    for (let i = 0; i < 30; i += 1) {
      up.onBar(bar('ETHUSDT', i, 100 * 1.001 ** i));
      down.onBar(bar('ETHUSDT', i, 100 * 0.999 ** i));
    }
    expect(up.targets(0)[0]?.weight).toBe(defaultCrossoverParams.maxWeight);
    expect(down.targets(0)[0]?.weight).toBe(-defaultCrossoverParams.maxWeight);
  });

  it('replay: confidence to weight by the documented rule, HOLD keeps, a signal past its horizon means flat', async () => {
    expect(signalWeight('BUY', 1)).toBe(0.3);
    expect(signalWeight('BUY', 0.75)).toBe(0.15);
    expect(signalWeight('SELL', 0.9)).toBe(-0.24);
    expect(signalWeight('SELL', 0.5)).toBe(0);
    expect(signalWeight('BUY', 0.2)).toBe(0);
    const path = join(dir, 'signals.csv');
    writeFileSync(
      path,
      [
        'timestamp,symbol,signal,confidence,horizon_hours',
        '2026-01-01T00:00:00Z,BTCUSDT,BUY,0.75,2',
        '2026-01-01T01:00:00Z,BTCUSDT,HOLD,0.9,',
        `${Date.UTC(2026, 0, 1, 1)},ETHUSDT,SELL,1,`,
      ].join('\n'),
    );
    const strategy = signalReplayStrategy(await loadSignalFile(path));
    const at = (h: number): number => Date.UTC(2026, 0, 1, h);
    expect(strategy.targets(at(0) - 1)).toEqual([]);
    expect(strategy.targets(at(0))).toEqual([{ symbol: 'BTCUSDT', weight: 0.15 }]);
    expect(strategy.targets(at(1))).toEqual([
      { symbol: 'BTCUSDT', weight: 0.15 },
      { symbol: 'ETHUSDT', weight: -0.3 },
    ]);
    expect(strategy.targets(at(2))).toEqual([
      { symbol: 'BTCUSDT', weight: 0 },
      { symbol: 'ETHUSDT', weight: -0.3 },
    ]);
  });

  it('replay: a malformed or out-of-order signal names the file and the line', async () => {
    const cases: [string, RegExp][] = [
      ['2026-01-01T00:00:00Z,BTCUSDT,BUY,0.75,2\n2026-01-01T01:00:00Z,BTCUSDT,MAYBE,0.9,', /signal must be BUY, SELL or HOLD/],
      ['2026-01-01T00:00:00Z,BTCUSDT,BUY,0.75,2\n2026-01-01T01:00:00Z,BTCUSDT,BUY,1.5,', /confidence must be a number in \[0, 1\]/],
      ['2026-01-01T02:00:00Z,BTCUSDT,BUY,0.75,2\n2026-01-01T01:00:00Z,BTCUSDT,BUY,0.6,', /out of order/],
      ['2026-01-01T00:00:00Z,BTCUSDT,BUY,0.75,2\nyesterday,BTCUSDT,BUY,0.6,', /timestamp is neither/],
    ];
    for (const [rows, says] of cases) {
      const path = join(dir, 'bad-signals.csv');
      writeFileSync(path, `timestamp,symbol,signal,confidence,horizon_hours\n${rows}\n`);
      await expect(loadSignalFile(path)).rejects.toThrow(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: ${says.source}`));
    }
  });
});
