import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  aggTradeFormat,
  bookTickerFormat,
  comparePlainDecimals,
  fundingRateFormat,
  klineFormat,
  plainDecimalSign,
  readRows,
} from '../../src/backtest/data/binance-csv.js';
import type { CsvFormat } from '../../src/backtest/data/binance-csv.js';
import { catalog, filesOf } from '../../src/backtest/data/catalog.js';
import { DataFileError } from '../../src/backtest/data/data-file-error.js';
import { bookTickerQuoteBatches, klineQuoteBatches, mergeBatchesByTime, mergeByTime, tradePrintBatches } from '../../src/backtest/data/quotes.js';
import { compareDecimal, plainDecimalPattern, sign, toDecimal } from '../../src/model/decimal.js';
import { openSingleEntryZip } from '../../src/backtest/data/zip.js';
import { singleEntryZip } from '../../src/backtest/data/zip-writer.js';

const sample = 'samples/binance-data';
const dir = mkdtempSync(join(tmpdir(), 'qe-loaders-'));

async function all<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

async function unzipped(zipPath: string, to: string): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of (await openSingleEntryZip(zipPath)).stream) chunks.push(chunk as Buffer);
  writeFileSync(to, Buffer.concat(chunks));
}

async function errorOf(path: string, format: CsvFormat<unknown>): Promise<DataFileError> {
  try {
    await all(readRows(path, format));
  } catch (error) {
    if (error instanceof DataFileError) return error;
    throw error;
  }
  throw new Error(`${path} was read without an error`);
}

const klineHeader = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
const bar = (openMs: number, o: string, h: string, l: string, c: string): string => `${openMs},${o},${h},${l},${c},1.000,${openMs + 59_999},1,1,0.5,0.5,0`;
const t0 = Date.UTC(2026, 0, 1);

describe('Binance archive loaders', () => {
  it('reads every shipped format the same zipped or plain', async () => {
    const files = await catalog(sample);
    const kinds = new Set(files.map((f) => f.kind));
    expect([...kinds].sort()).toEqual(['aggTrades', 'bookTicker', 'fundingRate', 'klines']);
    const formats = { bookTicker: bookTickerFormat, klines: klineFormat, fundingRate: fundingRateFormat } as const;
    for (const kind of ['bookTicker', 'klines', 'fundingRate'] as const) {
      const zipped = filesOf(files, 'ETHUSDT', kind, 0, Infinity)[0];
      if (!zipped) throw new Error(`no ${kind} file in the sample`);
      const plain = join(dir, `plain-${kind}.csv`);
      await unzipped(zipped.path, plain);
      const format = formats[kind] as CsvFormat<object>;
      const fromZip = (await all(readRows(zipped.path, format))).map(({ file: _f, ...row }) => row);
      const fromCsv = (await all(readRows(plain, format))).map(({ file: _f, ...row }) => row);
      expect(fromZip.length).toBeGreaterThan(10);
      expect(fromCsv).toEqual(fromZip);
    }
  });

  it("reads the shipped aggTrades in Binance's format, each print consistent with the bookTicker around it", async () => {
    const files = await catalog(sample);
    const [prints] = filesOf(files, 'BTCUSDT', 'aggTrades', 0, Infinity);
    const [book] = filesOf(files, 'BTCUSDT', 'bookTicker', 0, Infinity);
    if (!prints || !book) throw new Error('no BTCUSDT aggTrades or bookTicker in the sample');
    expect(prints.path).toMatch(/data\/futures\/um\/daily\/aggTrades\/BTCUSDT\/BTCUSDT-aggTrades-2026-01-01\.zip$/);
    const plain = join(dir, 'plain-aggTrades.csv');
    await unzipped(prints.path, plain);
    const text = readFileSync(plain, 'utf8');
    expect(text.split('\n')[0]).toBe('agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker');
    const rows = await all(readRows(prints.path, aggTradeFormat));
    expect((await all(readRows(plain, aggTradeFormat))).map(({ file: _f, ...row }) => row)).toEqual(rows.map(({ file: _f, ...row }) => row));
    expect(rows.length).toBeGreaterThan(1_000);
    expect(rows.some((r) => r.buyerIsMaker) && rows.some((r) => !r.buyerIsMaker)).toBe(true);
    // Ids increase; each print lies where the book let it trade: a seller (buyer the maker) at the last update's bid,
    // or below it down to just above the next update's lower bid (a sweep); a buyer likewise at or above the ask.
    const quotes = await all(readRows(book.path, bookTickerFormat));
    let q = 0;
    let lastId = 0;
    for (const r of rows) {
      expect(r.aggTradeId).toBeGreaterThan(lastId);
      lastId = r.aggTradeId;
      while (q + 1 < quotes.length && (quotes[q + 1] as { transactionTimeMs: number }).transactionTimeMs <= r.timeMs) q += 1;
      const [before, after] = [quotes[q], quotes[q + 1]];
      if (!before || !after) throw new Error(`print at ${r.timeMs} outside the bookTicker`);
      const price = Number(r.price);
      const ok = r.buyerIsMaker
        ? price === Number(before.bid) || (price < Number(before.bid) && price > Number(after.bid))
        : price === Number(before.ask) || (price > Number(before.ask) && price < Number(after.ask));
      expect(ok, `line ${r.line}: ${r.price} ${r.buyerIsMaker} between ${before.bid}/${before.ask} and ${after.bid}/${after.ask}`).toBe(true);
    }
  });

  it('reads prints and touch sizes onto the grids: a zero-quantity print (the archive has them) is dropped, sizes floored', async () => {
    const prints = join(dir, 'BTCUSDT-aggTrades-2026-01-01.csv');
    writeFileSync(
      prints,
      `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n1,50000.0,0.0,1,1,${t0},false\n2,50000.1,0.2509,2,3,${t0 + 1},true\n`,
    );
    const grid = { priceScale: 2, tickUnits: 10n };
    const printFiles = [{ path: prints, symbol: 'BTCUSDT', kind: 'aggTrades' as const, fromMs: t0, toMs: t0 + 86_400_000 }];
    const read = (await all(tradePrintBatches(printFiles, 'BTCUSDT', grid, 3, 0, Infinity))).flat();
    expect(read.map((p) => [p.timeMs, p.priceUnits, p.qtyUnits, p.buyerIsMaker, p.line])).toEqual([[t0 + 1, 5_000_010n, 250n, true, 3]]);
    const book = join(dir, 'BTCUSDT-bookTicker-2026-01-01.csv');
    writeFileSync(book, `1,50000.0,1.2345,50000.1,0.5,${t0},${t0 + 1}\n`);
    const bookFiles = [{ path: book, symbol: 'BTCUSDT', kind: 'bookTicker' as const, fromMs: t0, toMs: t0 + 86_400_000 }];
    const [sized] = (await all(bookTickerQuoteBatches(bookFiles, 'BTCUSDT', grid, 0, Infinity, 3))).flat();
    expect([sized?.bidQtyUnits, sized?.askQtyUnits]).toEqual([1_234n, 500n]);
    const [plain] = (await all(bookTickerQuoteBatches(bookFiles, 'BTCUSDT', grid, 0, Infinity))).flat();
    expect(plain?.bidQtyUnits).toBeUndefined();
  });

  it('keeps of a row only its file and line: a quote or print holds none of the parsed row (its strings, their chunk)', async () => {
    // A batch of quotes lives until it is decided, long enough to reach the old generation: a quote holding its row as
    // its origin kept the row's price and size strings, and the 64 KiB chunk they were cut from, alive with it.
    const files = await catalog(sample);
    const grid = { priceScale: 2, tickUnits: 10n };
    const fields = (item: object): string[] => Object.entries(item).map(([k, v]) => `${k}:${typeof v}`);
    const [quote] = (await all(bookTickerQuoteBatches(filesOf(files, 'BTCUSDT', 'bookTicker', 0, Infinity), 'BTCUSDT', grid, 0, Infinity))).flat();
    expect(fields(quote as object)).toEqual(['symbol:string', 'timeMs:number', 'bidUnits:bigint', 'askUnits:bigint', 'file:string', 'line:number']);
    const [print] = (await all(tradePrintBatches(filesOf(files, 'BTCUSDT', 'aggTrades', 0, Infinity), 'BTCUSDT', grid, 3, 0, Infinity))).flat();
    expect(fields(print as object)).toEqual([
      'symbol:string',
      'timeMs:number',
      'priceUnits:bigint',
      'qtyUnits:bigint',
      'buyerIsMaker:boolean',
      'file:string',
      'line:number',
    ]);
  });

  it('reads a zip written by another tool the same as our own', async () => {
    const csv = `${klineHeader}\n${bar(t0, '10.0', '11.0', '9.0', '10.5')}\n`;
    const ours = join(dir, 'ours.zip');
    writeFileSync(ours, singleEntryZip('x.csv', Buffer.from(csv)));
    const chunks: Buffer[] = [];
    for await (const c of (await openSingleEntryZip(ours)).stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(csv);
    expect((await readFile(ours)).readUInt32LE(0)).toBe(0x04034b50);
  });

  it('reads klines with or without a header row', async () => {
    const withHeader = join(dir, 'with.csv');
    const without = join(dir, 'without.csv');
    writeFileSync(withHeader, `${klineHeader}\n${bar(t0, '10.0', '11.0', '9.0', '10.5')}\n`);
    writeFileSync(without, `${bar(t0, '10.0', '11.0', '9.0', '10.5')}\n`);
    const a = (await all(readRows(withHeader, klineFormat)))[0];
    const b = (await all(readRows(without, klineFormat)))[0];
    expect(a?.close).toBe('10.5');
    expect(b?.close).toBe('10.5');
    expect(a?.line).toBe(2);
    expect(b?.line).toBe(1);
  });

  it('names the file and the line of a malformed or out-of-order row', async () => {
    const cases: { name: string; text: string; format: CsvFormat<unknown>; line: number; says: RegExp }[] = [
      {
        name: 'bad-price.csv',
        text: `${klineHeader}\n${bar(t0, '10', '11', '9', '10')}\n${bar(t0 + 60_000, '10', 'abc', '9', '10')}\n`,
        format: klineFormat,
        line: 3,
        says: /high is not a decimal/,
      },
      {
        name: 'order.csv',
        text: `${bar(t0 + 60_000, '10', '11', '9', '10')}\n${bar(t0, '10', '11', '9', '10')}\n`,
        format: klineFormat,
        line: 2,
        says: /out of order/,
      },
      {
        name: 'same-bar.csv',
        text: `${bar(t0, '10', '11', '9', '10')}\n${bar(t0, '10', '11', '9', '10')}\n`,
        format: klineFormat,
        line: 2,
        says: /out of order/,
      },
      { name: 'fields.csv', text: `${bar(t0, '10', '11', '9', '10')}\n${t0},10,11\n`, format: klineFormat, line: 2, says: /3 fields where klines has 12/ },
      { name: 'bounds.csv', text: `${bar(t0, '10', '9.5', '9', '10')}\n`, format: klineFormat, line: 1, says: /do not bound/ },
      { name: 'header.csv', text: 'a,b,c\n', format: fundingRateFormat, line: 1, says: /header is not Binance's fundingRate header/ },
      {
        name: 'seconds.csv',
        text: 'calc_time,funding_interval_hours,last_funding_rate\n1767225600,8,0.0001\n',
        format: fundingRateFormat,
        line: 2,
        says: /not a millisecond timestamp/,
      },
      {
        name: 'crossed.csv',
        text: `update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time\n1,10.0,1,10.1,1,${t0},${t0}\n2,10.2,1,10.1,1,${t0 + 5},${t0 + 5}\n`,
        format: bookTickerFormat,
        line: 3,
        says: /crossed/,
      },
    ];
    for (const c of cases) {
      const path = join(dir, c.name);
      writeFileSync(path, c.text);
      const error = await errorOf(path, c.format);
      expect(error.file, c.name).toBe(path);
      expect(error.line, c.name).toBe(c.line);
      expect(error.message, c.name).toMatch(c.says);
      expect(error.message.startsWith(`${path}:${c.line}: `), c.name).toBe(true);
    }
    // Zipped, the error names the archive and the line inside it.
    const zipped = join(dir, 'bad.zip');
    writeFileSync(
      zipped,
      singleEntryZip('bad.csv', Buffer.from(`${klineHeader}\n${bar(t0, '10', '11', '9', '10')}\n${bar(t0 + 60_000, '-1', '11', '9', '10')}\n`)),
    );
    const error = await errorOf(zipped, klineFormat);
    expect([error.file, error.line]).toEqual([zipped, 3]);
  });

  it('synthesises four quotes a bar with the stated spread: open, the nearer extreme, the other, close', async () => {
    const path = join(dir, 'BTCUSDT-1m-2026-01-01.csv');
    writeFileSync(path, `${bar(t0, '100.0', '103.0', '99.0', '102.0')}\n${bar(t0 + 60_000, '102.0', '102.5', '100.0', '100.5')}\n`);
    const files = [{ path, symbol: 'BTCUSDT', kind: 'klines' as const, fromMs: t0, toMs: t0 + 86_400_000 }];
    const quotes = (await all(klineQuoteBatches(files, 'BTCUSDT', { priceScale: 1, tickUnits: 1n }, { spreadTicks: 2 }, 0, Infinity))).flat();
    expect(quotes.map((q) => [q.timeMs - t0, Number(q.bidUnits), Number(q.askUnits - q.bidUnits)])).toEqual([
      [0, 1000, 2],
      [15_000, 990, 2],
      [30_000, 1030, 2],
      [45_000, 1020, 2],
      [60_000, 1020, 2],
      [75_000, 1025, 2],
      [90_000, 1000, 2],
      [105_000, 1005, 2],
    ]);
    // Stopping 50 bps short of each extreme, never inside the open-close body: 99.0 → 99.495 (floored 99.4) and
    // 103.0 → 102.485 (102.4); in the second bar, 102.5 → 101.99 would pass its open 102.0 and 100.0 → 100.5 reaches
    // its close 100.5, so both stop at the body.
    const through = (await all(klineQuoteBatches(files, 'BTCUSDT', { priceScale: 1, tickUnits: 1n }, { spreadTicks: 2, throughBps: 50 }, 0, Infinity))).flat();
    expect(through.map((q) => Number(q.bidUnits))).toEqual([1000, 994, 1024, 1020, 1020, 1020, 1005, 1005]);
  });

  it('reads a plain decimal and its sign on its characters as the decimal module does', () => {
    const texts = ['0', '-0', '-0.000', '0.0', '00.10', '1', '-1', '12.5', '-12.50', '1.', '.5', '-', '', '1e5', '+1', '1.2.3', ' 1', '1,5', '٣', '0x1'];
    for (const text of texts) {
      const expected = !plainDecimalPattern.test(text) ? 'malformed' : (['negative', 'zero', 'positive'] as const)[sign(toDecimal(text)) + 1];
      expect(plainDecimalSign(text), JSON.stringify(text)).toBe(expected);
    }
  });

  it('orders plain decimals exactly as the decimal module does, on their digits alone', () => {
    const values = [
      '0',
      '0.0',
      '00.10',
      '0.1',
      '0.09',
      '1',
      '1.0',
      '1.000000001',
      '9.99',
      '10',
      '010.0',
      '87000.1',
      '87000.10',
      '87000.09',
      '123456789.12345678',
    ];
    for (const a of values) for (const b of values) expect(comparePlainDecimals(a, b), `${a} vs ${b}`).toBe(compareDecimal(a, b));
  });

  it('merges batches of several streams into the order a quote-by-quote merge gives, ties to the stream listed first', async () => {
    const stream = (name: string, batches: number[][]) =>
      (async function* () {
        for (const b of batches) yield b.map((timeMs, i) => ({ name: `${name}${timeMs}.${i}`, timeMs }));
      })();
    const a = [[1, 3, 3], [], [5, 9], [9, 12]];
    const b = [
      [2, 3],
      [3, 4, 9, 10, 11, 13],
    ];
    const c = [[0], [14]];
    const merged: string[] = [];
    for await (const batch of mergeBatchesByTime([stream('a', a), stream('b', b), stream('c', c)])) merged.push(...batch.map((q) => q.name));
    const one = (name: string, batches: number[][]) =>
      (async function* () {
        for (const batch of batches) for (const [i, timeMs] of batch.entries()) yield { name: `${name}${timeMs}.${i}`, timeMs };
      })();
    const expected = (await all(mergeByTime([one('a', a), one('b', b), one('c', c)]))).map((q) => q.name);
    expect(merged).toEqual(expected);
    expect(merged).toHaveLength(17);
  });
});
