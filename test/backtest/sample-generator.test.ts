import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bookTickerFormat, readRowBatches } from '../../src/backtest/data/binance-csv.js';
import { catalog, filesOf } from '../../src/backtest/data/catalog.js';
import { generateLongBookTicker, generateSample } from '../../src/backtest/sample/generate-sample.js';

// The shipped sample is the generator's output ("same seed, same bytes"), and the bench's long series (its own PRNG)
// leaves it so: two whole days of BTCUSDT bookTicker the loaders read in order.

function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}

describe('sample generator', () => {
  it('writes the shipped sample byte for byte', () => {
    const out = mkdtempSync(join(tmpdir(), 'qe-sample-'));
    generateSample(out);
    const shipped = 'samples/binance-data';
    expect(filesUnder(out)).toEqual(filesUnder(shipped));
    for (const file of filesUnder(shipped)) expect(readFileSync(join(out, file)).equals(readFileSync(join(shipped, file))), file).toBe(true);
  });

  it("writes the bench's long series: two days of BTCUSDT bookTicker, in order, about one update a second", async () => {
    const out = mkdtempSync(join(tmpdir(), 'qe-long-'));
    const { symbol, fromMs, toMs } = generateLongBookTicker(out);
    expect(toMs - fromMs).toBe(2 * 86_400_000);
    // Longer series are the bench's month: within January, which the one fundingRate file covers.
    expect(() => generateLongBookTicker(out, 32)).toThrow(/1 to 31 days/);
    const files = filesOf(await catalog(out), symbol, 'bookTicker', fromMs, toMs);
    expect(files).toHaveLength(2);
    let rows = 0;
    let lastMs = fromMs;
    let outOfOrder = 0;
    for (const file of files) {
      for await (const batch of readRowBatches(file.path, bookTickerFormat)) {
        for (const row of batch) {
          if (row.transactionTimeMs < lastMs) outOfOrder += 1;
          lastMs = row.transactionTimeMs;
          rows += 1;
        }
      }
    }
    expect(outOfOrder).toBe(0);
    expect(lastMs).toBeLessThan(toMs);
    // One update every 0.2–1.8 s: about 172 800 in two days.
    expect(rows).toBeGreaterThan(150_000);
    expect(rows).toBeLessThan(200_000);
  });
});
