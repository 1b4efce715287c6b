import { DataFileError } from '../backtest/data/data-file-error.js';
import { readLines } from '../backtest/data/lines.js';
import type { Strategy, TargetWeight } from './strategy.js';
import { parseUtcTime } from '../model/utc-time.js';

// Replays an external model's signals, in the original system's shape, so a model owner can backtest (and run live)
// without writing a strategy. The file is a CSV with this header and one row per signal, oldest first:
//
//   timestamp,symbol,signal,confidence,horizon_hours
//   2026-01-01T00:05:00Z,BTCUSDT,BUY,0.8,4
//
// - timestamp: ISO 8601 (UTC unless it names a zone; "T" or a space between date and time) or epoch milliseconds;
//   when the model published the signal.
// - signal: BUY, SELL or HOLD. confidence: a number in [0, 1]. horizon_hours: how long the signal holds (empty = until
//   the next signal of that symbol).
//
// Sizing rule (confidence to weight), per symbol:
//   weight = side × maxWeight × clamp((confidence − minConfidence) / (1 − minConfidence), 0, 1), rounded to 0.01
// with side +1 for BUY and −1 for SELL: below minConfidence (default 0.5) a signal means flat, at confidence 1 it
// means the full maxWeight (default 0.3, the crossover's). HOLD keeps the symbol's current weight and expiry. A signal
// past its horizon means flat (weight 0) until the next one.

export interface SignalSizing {
  /** Confidence at or below which a BUY or SELL means flat. */
  minConfidence: number;
  /** Absolute weight of a signal of confidence 1. */
  maxWeight: number;
}

export const defaultSignalSizing: SignalSizing = { minConfidence: 0.5, maxWeight: 0.3 };

export type ModelAction = 'BUY' | 'SELL' | 'HOLD';

export interface ModelSignal {
  timeMs: number;
  symbol: string;
  action: ModelAction;
  confidence: number;
  /** Null: holds until the next signal of its symbol. */
  horizonHours: number | null;
}

const header = 'timestamp,symbol,signal,confidence,horizon_hours';
/** Signals read from one file at most: the whole file is held in memory. */
export const maxSignalRows = 1_000_000;
const hourMs = 3_600_000;

/** The weight a BUY or SELL of this confidence asks for (the sizing rule above); HOLD has none. */
export function signalWeight(action: Exclude<ModelAction, 'HOLD'>, confidence: number, sizing: SignalSizing = defaultSignalSizing): number {
  const scaled = Math.max(0, Math.min(1, (confidence - sizing.minConfidence) / (1 - sizing.minConfidence)));
  const weight = Math.round(scaled * sizing.maxWeight * 100) / 100;
  return action === 'BUY' ? weight : weight === 0 ? 0 : -weight;
}

/** Epoch ms, or an ISO 8601 time: UTC unless it names a zone (model/utc-time.ts). */
function parseTime(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  return parseUtcTime(text);
}

/** The file's signals, checked row by row: a malformed or out-of-order row is a DataFileError naming the line. */
export async function loadSignalFile(path: string): Promise<ModelSignal[]> {
  const out: ModelSignal[] = [];
  for await (const { line, text } of readLines(path)) addSignalRow(path, line, text, out);
  return out;
}

/**
 * One line of a signal file (its 1-based number and text) checked and added to `out`, the signals of the lines before
 * it: line 1 must be the header, a blank line adds nothing, anything else must be a signal no older than the last one.
 * Throws a DataFileError naming the line. (A followed file's appended lines are added one by one: signal-file-watch.ts.)
 * `rowsBefore`: signals of the file not in `out` (an appended part's are checked apart from the rest), for the bound.
 */
export function addSignalRow(path: string, line: number, text: string, out: ModelSignal[], rowsBefore = 0): void {
  const trimmed = text.trim();
  if (trimmed === '') return;
  if (line === 1) {
    if (trimmed.toLowerCase() !== header) throw new DataFileError(path, line, `header must be ${header}`);
    return;
  }
  const fail = (reason: string): never => {
    throw new DataFileError(path, line, reason);
  };
  const f = trimmed.split(',').map((x) => x.trim());
  if (f.length !== 5) fail(`${f.length} fields where a signal has 5 (${header})`);
  const [timeText, symbol, actionText, confidenceText, horizonText] = f as [string, string, string, string, string];
  const timeMs = parseTime(timeText) ?? fail(`timestamp is neither ISO 8601 nor epoch ms: ${JSON.stringify(timeText)}`);
  if (!/^[A-Z0-9]{2,20}$/.test(symbol)) fail(`symbol is not a symbol: ${JSON.stringify(symbol)}`);
  const action = actionText.toUpperCase();
  if (action !== 'BUY' && action !== 'SELL' && action !== 'HOLD') fail(`signal must be BUY, SELL or HOLD: ${JSON.stringify(actionText)}`);
  const confidence = Number(confidenceText);
  if (confidenceText === '' || !(confidence >= 0 && confidence <= 1)) fail(`confidence must be a number in [0, 1]: ${JSON.stringify(confidenceText)}`);
  const horizonHours = horizonText === '' ? null : Number(horizonText);
  if (horizonHours !== null && !(horizonHours > 0)) fail(`horizon_hours must be above zero or empty: ${JSON.stringify(horizonText)}`);
  const previous = out[out.length - 1];
  if (previous && timeMs < previous.timeMs) fail(`out of order: ${timeText} is before the previous signal`);
  if (rowsBefore + out.length >= maxSignalRows) fail(`more than ${maxSignalRows} signals in one file`);
  out.push({ timeMs, symbol, action: action as ModelAction, confidence, horizonHours });
}

export function signalReplayStrategy(signals: readonly ModelSignal[], sizing: SignalSizing = defaultSignalSizing): Strategy {
  if (!(sizing.minConfidence >= 0 && sizing.minConfidence < 1)) throw new Error(`minConfidence must be in [0, 1), got ${sizing.minConfidence}`);
  /** Per symbol: the weight of its last BUY/SELL and when it expires. */
  const held = new Map<string, { weight: number; expiresAtMs: number }>();
  let next = 0;
  return {
    name: 'replay',
    onBar() {},
    targets(nowMs: number): TargetWeight[] {
      for (; next < signals.length && (signals[next] as ModelSignal).timeMs <= nowMs; next += 1) {
        const s = signals[next] as ModelSignal;
        if (s.action === 'HOLD') continue;
        held.set(s.symbol, {
          weight: signalWeight(s.action, s.confidence, sizing),
          expiresAtMs: s.horizonHours === null ? Infinity : s.timeMs + s.horizonHours * hourMs,
        });
      }
      return [...held].map(([symbol, h]) => ({ symbol, weight: nowMs >= h.expiresAtMs ? 0 : h.weight }));
    },
  };
}
