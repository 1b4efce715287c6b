import { readdirSync } from 'node:fs';
import { join } from 'node:path';

// Which archive files a data directory holds, found by Binance's file names (any folder layout, e.g. the archive's own
// data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2026-01-01.zip, or all files in one folder):
// <SYMBOL>-bookTicker-<date>, <SYMBOL>-<interval>-<date> (klines), <SYMBOL>-fundingRate-<YYYY-MM>,
// <SYMBOL>-aggTrades-<date>, each .csv or .zip; <date> is YYYY-MM-DD (daily files) or YYYY-MM (monthly files).

export type DataKind = 'bookTicker' | 'klines' | 'fundingRate' | 'aggTrades';

export interface DataFile {
  path: string;
  symbol: string;
  kind: DataKind;
  /** Klines only: the bar interval as named (1m, 1h...). */
  interval?: string;
  /** The period the file covers, from its name: [fromMs, toMs). */
  fromMs: number;
  toMs: number;
}

/** Kline intervals as the archive names them (README, "Intervals"), with their length in ms. */
export const klineIntervalMs: Readonly<Record<string, number>> = {
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
};

const fileName = /^([A-Z0-9]+)-([A-Za-z0-9]+)-(\d{4})-(\d{2})(?:-(\d{2}))?\.(csv|zip)$/;
/** Directory levels searched below the data directory (the archive's own layout is 6 deep). */
const maxDirectoryDepth = 8;

function classify(path: string, name: string): DataFile | null {
  const m = fileName.exec(name);
  if (!m) return null;
  const [, symbol, what, year, month, day] = m as unknown as [string, string, string, string, string, string | undefined];
  let kind: DataKind;
  let interval: string | undefined;
  if (what === 'bookTicker' || what === 'fundingRate' || what === 'aggTrades') kind = what;
  else if (klineIntervalMs[what] !== undefined) {
    kind = 'klines';
    interval = what;
  } else return null;
  const y = Number(year);
  const mo = Number(month) - 1;
  const fromMs = day === undefined ? Date.UTC(y, mo, 1) : Date.UTC(y, mo, Number(day));
  const toMs = day === undefined ? Date.UTC(y, mo + 1, 1) : Date.UTC(y, mo, Number(day) + 1);
  return { path, symbol, kind, ...(interval ? { interval } : {}), fromMs, toMs };
}

/** Every archive file below `dir`, oldest first per symbol and kind (a .csv wins over a .zip of the same name). */
export async function catalog(dir: string): Promise<DataFile[]> {
  const found = new Map<string, DataFile>();
  // Read synchronously: a directory read through the thread pool is a round trip each (the archive's layout is six
  // levels), 3 ms a run where a synchronous walk takes a tenth of that; a sweep pays it at every point.
  const walk = (at: string, depth: number): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory() && depth < maxDirectoryDepth) walk(path, depth + 1);
      if (!entry.isFile()) continue;
      const file = classify(path, entry.name);
      if (!file) continue;
      const key = entry.name.replace(/\.(csv|zip)$/, '');
      const held = found.get(key);
      if (!held || path.endsWith('.csv')) found.set(key, file);
    }
  };
  walk(dir, 0);
  return [...found.values()].sort((a, b) => a.symbol.localeCompare(b.symbol) || a.kind.localeCompare(b.kind) || a.fromMs - b.fromMs || a.path.localeCompare(b.path));
}

/** The files of one symbol and kind that overlap [fromMs, toMs). */
export function filesOf(files: readonly DataFile[], symbol: string, kind: DataKind, fromMs: number, toMs: number): DataFile[] {
  return files.filter((f) => f.symbol === symbol && f.kind === kind && f.toMs > fromMs && f.fromMs < toMs);
}

/**
 * What the data directory holds of `symbol`, to follow a "no files" error: each kind's first and last day, or, when it
 * holds nothing of the symbol, the names files are found by (catalog.ts).
 */
export function heldText(files: readonly DataFile[], symbol: string): string {
  const spans = new Map<string, { fromMs: number; toMs: number }>();
  for (const f of files) {
    if (f.symbol !== symbol) continue;
    const kind = f.kind === 'klines' ? `${f.interval ?? ''} klines` : f.kind;
    const span = spans.get(kind);
    spans.set(kind, { fromMs: Math.min(span?.fromMs ?? f.fromMs, f.fromMs), toMs: Math.max(span?.toMs ?? f.toMs, f.toMs) });
  }
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  if (spans.size === 0)
    return `; it holds no file of ${symbol} (files are found by the archive's names, .zip or .csv, in any folder: ${symbol}-bookTicker-2026-01-01, ${symbol}-1m-2026-01-01, ${symbol}-aggTrades-2026-01-01, ${symbol}-fundingRate-2026-01)`;
  return `; it holds ${symbol} ${[...spans].map(([kind, span]) => `${kind} for ${day(span.fromMs)} to ${day(span.toMs - 1)}`).join(', ')}`;
}
