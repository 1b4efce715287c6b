import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crossoverStrategy, crossoverWeight, defaultCrossoverParams } from '../../src/strategies/crossover.js';
import { loadSignalFile, signalReplayStrategy, signalWeight } from '../../src/strategies/signal-replay.js';
import type { Bar } from '../../src/strategies/strategy.js';
import { liveStrategy } from '../../src/strategies/live-choice.js';

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

// The live signals run the backtest's strategies, chosen as the backtest chooses them (QE_STRATEGY, QE_SIGNALS_FILE,
// QE_CROSSOVER_FAST/SLOW in `all`): before, `all` ran the default crossover only, so a model's signal file could be
// backtested (--strategy replay) but not run.

describe('the live strategy choice', () => {
  it('replays a model’s signal file, sized as the backtest sizes it', async () => {
    const file = join(dir, 'live-signals.csv');
    writeFileSync(file, 'timestamp,symbol,signal,confidence,horizon_hours\n2026-01-01T00:00:00Z,BTCUSDT,BUY,1,2\n2026-01-01T01:00:00Z,BTCUSDT,SELL,0.75,\n');
    const { strategy, description } = await liveStrategy({ name: 'replay', signalsFile: file }, 60_000);
    expect(description).toBe(`replay of 2 signals from ${file} (read once), routed at each 60 s bar's close`);
    expect(strategy.targets(Date.parse('2026-01-01T00:30:00Z'))).toEqual([{ symbol: 'BTCUSDT', weight: 0.3 }]);
    expect(strategy.targets(Date.parse('2026-01-01T01:30:00Z'))).toEqual([{ symbol: 'BTCUSDT', weight: -0.15 }]);
    await expect(liveStrategy({ name: 'replay' }, 60_000)).rejects.toThrow(/QE_STRATEGY=replay needs QE_SIGNALS_FILE/);
  });

  it('runs the crossover with the windows asked for, and refuses windows that never trade', async () => {
    const { strategy, description } = await liveStrategy({ name: 'crossover', fast: 2, slow: 3 }, 2_000);
    expect(description).toBe('crossover of 2 and 3 bars of 2 s; its first targets after 3 bars, about 6 s');
    for (const [i, close] of [100, 100, 110].entries()) strategy.onBar(bar('BTCUSDT', i, close));
    expect(strategy.targets(0)[0]?.weight).toBeGreaterThan(0);
    await expect(liveStrategy({ name: 'crossover', fast: 5, slow: 5 }, 2_000)).rejects.toThrow(
      'QE_CROSSOVER_SLOW (5) must be above QE_CROSSOVER_FAST (5): equal windows never trade',
    );
    await expect(liveStrategy({ name: 'crossover', fast: 20 }, 2_000)).rejects.toThrow(
      'QE_CROSSOVER_SLOW (20, the default) must be above QE_CROSSOVER_FAST (20)',
    );
    expect((await liveStrategy({ name: 'crossover' }, 2_000)).description).toMatch(
      /^crossover of 5 and 20 bars of 2 s; its first targets after 20 bars, about 40 s$/,
    );
  });
});
