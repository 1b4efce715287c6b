import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../src/strategies/strategy.js';
import { sampleBacktest } from '../support/sample-backtest.js';

// Most quotes of a backtest need no promise turn, so a run of them never reaches the event loop, where the data file's
// next chunk is read and inflated (zlib works off the main thread, but its answers come through the loop). The run
// then waited idle for each chunk once the last one was done (a tenth of a run that held nothing). It now gives the
// loop a turn every few hundred quotes (run-backtest.ts, quotesPerIoTurn): here, how many quotes pass between asking
// the loop for a turn (setImmediate) and getting it.

/** A strategy that never trades and, at every bar, asks for a turn of the event loop and notes how many bars later it came. */
function turnTaker(): { strategy: Strategy; waitsInBars: number[] } {
  const waitsInBars: number[] = [];
  let bars = 0;
  let asked: number | null = null;
  const strategy: Strategy = {
    name: 'turns',
    onBar() {
      bars += 1;
      if (asked !== null) return;
      asked = bars;
      setImmediate(() => {
        waitsInBars.push(bars - (asked as number));
        asked = null;
      });
    },
    targets: () => [],
  };
  return { strategy, waitsInBars };
}

describe('a backtest and the event loop', () => {
  it('gives the event loop a turn within a few hundred quotes (a bar is 60 quotes of the sample)', { timeout: 60_000 }, async () => {
    const { strategy, waitsInBars } = turnTaker();
    const { summary } = await sampleBacktest(strategy, '2026-01-01T08:00:00Z');
    expect(summary.quotes).toBeGreaterThan(7_000);
    // quotesPerIoTurn is 256: a turn comes within two of them, 8 bars (seen: 3 to 7 bars). Before, only when the run
    // waited for a file's chunk or on a promise that I/O settles (seen: 3 to 31 bars, eight turns in two hours).
    expect(waitsInBars.length).toBeGreaterThan(15);
    expect(Math.max(...waitsInBars)).toBeLessThanOrEqual(8);
  });
});
