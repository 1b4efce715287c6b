import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readLines } from '../src/backtest/data/lines.js';
import { singleEntryZip } from '../src/backtest/data/zip-writer.js';
import { createPrng } from '../src/paper-exchange/price-process.js';

// The shipped sample's BTCUSDT bookTicker made as dense as the archive's files are (bench/backtest.ts, the dense run):
// the archive's rows come tens of milliseconds apart, and in a row of them often only the sizes move (Binance's stream
// pushes "any update to the best bid or ask's price or quantity": https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Individual-Symbol-Book-Ticker-Streams;
// rows of ETHUSDT-bookTicker-2024-01-15 11 to 33 ms apart with both prices unchanged are quoted in
// https://github.com/binance/binance-public-data/issues/305). The sample's rows are 0.2 to 1.8 s apart and 85 % of
// them move the touch. Here each of its rows is followed by `sizeOnlyPerRow` updates at its prices with new sizes,
// spread evenly until the next row: the same touch path with more updates between its moves, so about the same
// orders and trades (the crossover over the sample: 154 orders and 140 trades, densified by 9: 155 and 136; a bar's
// route goes out at the first update of the next period, sooner when updates come more often). With 9: one update
// every ~100 ms, one in ten moving the touch, still sparser than the archive's rows.

const sampleBook = 'data/futures/um/daily/bookTicker/BTCUSDT/BTCUSDT-bookTicker-2026-01-01';
const sampleFunding = 'data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2026-01.zip';
/** The size draws' own seed: the same file every time. */
const sizeSeed = 305;
/** A size-only update's sizes (BTC), drawn as the sample draws its own. */
const maxDrawnQty = 8;

/** Writes the densified BTCUSDT bookTicker and the sample's fundingRate under `root`, in the archive's layout. */
export async function writeDenseSample(sampleDir: string, root: string, sizeOnlyPerRow: number): Promise<void> {
  const random = createPrng(sizeSeed);
  const qty = (): string => (random() * maxDrawnQty + 0.001).toFixed(3);
  const rows: string[][] = [];
  let header = '';
  for await (const { line, text } of readLines(join(sampleDir, `${sampleBook}.zip`))) {
    if (line === 1) header = text;
    else if (text !== '') rows.push(text.split(','));
  }
  const out = [header];
  for (let i = 0; i < rows.length; i += 1) {
    const [updateId, bid, , ask, , time] = rows[i] as string[];
    // Update ids ascend as in the archive: the sample's, spread apart to leave room for the updates between.
    const firstId = Number(updateId) * (sizeOnlyPerRow + 1);
    out.push([firstId, ...(rows[i] as string[]).slice(1)].join(','));
    const fromMs = Number(time);
    const nextMs = Number((rows[i + 1] as string[] | undefined)?.[5] ?? fromMs + 1_000);
    for (let k = 1; k <= sizeOnlyPerRow; k += 1) {
      const atMs = fromMs + Math.floor(((nextMs - fromMs) * k) / (sizeOnlyPerRow + 1));
      if (atMs >= nextMs) break;
      out.push([firstId + k, bid, qty(), ask, qty(), atMs, atMs + 2].join(','));
    }
  }
  const zipPath = join(root, `${sampleBook}.zip`);
  mkdirSync(dirname(zipPath), { recursive: true });
  writeFileSync(zipPath, singleEntryZip(`${sampleBook.split('/').pop()}.csv`, Buffer.from(`${out.join('\n')}\n`)));
  mkdirSync(dirname(join(root, sampleFunding)), { recursive: true });
  copyFileSync(join(sampleDir, sampleFunding), join(root, sampleFunding));
}
