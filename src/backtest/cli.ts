import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { writeJsonFile } from './report-json.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseUtcTime } from '../model/utc-time.js';
import { defaultCrossoverParams } from '../strategies/crossover.js';
import type { ModelSignal } from '../strategies/signal-replay.js';
import { defaultSignalSizing, loadSignalFile, signalReplayStrategy } from '../strategies/signal-replay.js';
import type { Strategy } from '../strategies/strategy.js';
import { DataFileError } from './data/data-file-error.js';
import type { BacktestResult, FillRule, KlinePath, QuoteSource } from './run-backtest.js';
import { reportHtml } from './report-html.js';
import { defaultBacktestOptions, exchangeInfoUrl, runBacktest } from './run-backtest.js';
import { toSymbolFilters } from '../exchange/binance/mapping.js';
import { deriveRules, specOfFilters } from '../paper-exchange/symbols.js';
import type { SimSymbolSpec } from '../paper-exchange/types.js';
import type { SweepBaseOptions } from './sweep.js';
import { crossoverOf, defaultSweepWorkers, parseSweep, runSweep, sweepTable } from './sweep.js';

// `quant-engine backtest`: flags in, a JSON report file out, a one-line JSON summary on stdout, progress on a
// terminal's stderr. With no --data it runs the shipped sample (samples/binance-data) offline.

export const backtestUsage = `usage: quant-engine backtest [--data DIR] [--symbols BTCUSDT,ETHUSDT] [--from DATE] [--to DATE]
       [--strategy crossover|replay] [--signals FILE] [--capital USD] [--stoploss PCT] [--horizon HOURS] [--out DIR]
       [--rules FILE] [--depth-usd MIN..MAX] [--quotes auto|bookTicker|klines] [--spread-ticks N] [--kline-through-bps BPS]
       [--kline-path bridge|still] [--fills auto|through|queue] [--bar-seconds N] [--latency-ms N] [--seed N]
       [--fast N --slow N (crossover windows in bars, slow > fast; 5 and 20)] [--sweep fast=RANGE slow=RANGE [--workers N] [--json]]
  --data DIR      Binance public-data files (data.binance.vision names, .csv or .zip; default: the shipped sample)
  --from/--to     dates or ISO times, UTC unless they name a zone, [from, to) (default: all the data holds)
  --rules FILE    the symbols' trading rules (tick, step, lot, min notional, PERCENT_PRICE) from Binance's exchangeInfo
                  saved to FILE (${exchangeInfoUrl}); without it BTCUSDT, ETHUSDT and SOLUSDT only
  --depth-usd     the notional of each level of the synthetic depth takers walk behind the touch, drawn in
                  MIN..MAX USD (default 200000..1000000, a major's; a thin symbol's levels hold far less)
  --kline-through-bps  how far a kline must trade beyond a resting order's price to fill it (default 0)
  --kline-path    where the touch is between a kline's quotes when an order arrives: bridge (a Brownian bridge to
                  the next point with the bar's volatility, default) or still (at the last quote)
  --fills         how resting orders fill: through (only when a later quote trades through their price), queue (also
                  from aggTrades prints at their price once the size queued ahead has traded), auto (queue for a
                  symbol whose data has aggTrades for the period, else through; the default)
  --strategy      crossover (moving averages of bar mids) or replay (an external model's signals CSV, --signals)
  --sweep         every crossover pair of the ranges (5..20, 5..20:5 with a step, or 5,8,13), slow > fast, each the
                  single run --fast/--slow would be, in worker threads (--workers, default one per CPU); prints a
                  table, or with --json one JSON line {sweep: [{fast, slow, summary}]}
  --out DIR       where the reports go: backtest-report.html and backtest-report.json (default artifacts/backtest)`;

/** The shipped sample, found from this file's place in the package (works from a checkout and an install). */
export const sampleDataDir = fileURLToPath(new URL('../../samples/binance-data', import.meta.url));

class UsageError extends Error {}

/** A number flag's value, or a usage error that says what the flag takes (`wanted`: "a percent above 0 and below 100"). */
function number(text: string | undefined, flag: string, check: (n: number) => boolean, wanted: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`${flag} ${JSON.stringify(text)} is not valid: ${wanted}`);
  return n;
}

function time(text: string | undefined, flag: string): number | null {
  if (text === undefined) return null;
  // UTC unless the time names a zone: Date.parse took 2026-01-01T07:00 for the machine's local time.
  const ms = parseUtcTime(text);
  if (ms === null) throw new UsageError(`${flag} ${JSON.stringify(text)} is not a date (YYYY-MM-DD) or an ISO time (UTC unless it names a zone)`);
  return ms;
}

/** A replay's file and its signals as read, for the warning after the run when none of them could apply. */
interface ReplayedFile {
  file: string;
  signals: readonly ModelSignal[];
}

/**
 * Why a replay asked for nothing, when none of its file's signals is for the run's symbols at or before the run's end
 * (a file of another month or other symbols): a run of 0 trades with no word of it read as a model that never traded.
 */
function replayWarning(replayed: ReplayedFile | null, symbols: readonly string[], toIso: string): string | null {
  if (replayed === null) return null;
  const { file, signals } = replayed;
  const endMs = Date.parse(toIso);
  if (signals.some((s) => symbols.includes(s.symbol) && s.timeMs <= endMs)) return null;
  const first = signals[0];
  const firstText = first === undefined ? 'it holds none' : `its first is ${first.symbol} at ${new Date(first.timeMs).toISOString()}`;
  const all = signals.length === 1 ? 'the one signal' : `the ${signals.length} signals`;
  return `warning: none of ${all} in ${file} is for ${symbols.join(', ')} at or before the run's end (${toIso}): the strategy asked for nothing (${firstText})`;
}

async function strategyOf(
  values: Record<string, string | undefined>,
  dataDir: string,
  usingSample: boolean,
): Promise<{ strategy: Strategy; replayed: ReplayedFile | null }> {
  const name = values.strategy ?? 'crossover';
  if (name === 'crossover') {
    const fast = number(values.fast, '--fast', (n) => Number.isInteger(n) && n >= 1, 'bars, a whole number, at least 1') ?? defaultCrossoverParams.shortWindow;
    // Equal windows never trade (the two means are one): --slow is above --fast, and a --fast alone at or past the
    // default --slow asks for one rather than running a crossover that cannot trade.
    const slow = number(values.slow, '--slow', (n) => Number.isInteger(n) && n > fast, `bars, a whole number, more than --fast (${fast})`);
    if (slow === undefined && fast >= defaultCrossoverParams.longWindow)
      throw new UsageError(`--fast ${fast} needs a --slow above it (the default --slow is ${defaultCrossoverParams.longWindow})`);
    return { strategy: crossoverOf({ fast, slow: slow ?? defaultCrossoverParams.longWindow }), replayed: null };
  }
  if (name === 'replay') {
    const file = values.signals ?? (usingSample ? join(dataDir, 'model-signals.csv') : undefined);
    if (!file) throw new UsageError('--strategy replay needs --signals FILE');
    const signals = await loadSignalFile(file);
    return { strategy: signalReplayStrategy(signals, defaultSignalSizing), replayed: { file, signals } };
  }
  throw new UsageError(`unknown strategy ${JSON.stringify(name)} (crossover, replay)`);
}

/** --depth-usd MIN..MAX: a level's notional range in USD, MIN above 0 and at most MAX. */
function depthRange(text: string | undefined): { min: number; max: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*\.\.\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || !(min > 0) || !(max >= min) || !Number.isFinite(max)) {
    throw new UsageError(`--depth-usd ${JSON.stringify(text)} is not valid: MIN..MAX in USD, MIN above 0 and at most MAX (such as 20000..100000)`);
  }
  return { min, max };
}

/** A --rules file is read whole: Binance's exchangeInfo of every USDⓈ-M symbol is a few MB; beyond this it is not one. */
const maxRulesFileBytes = 32 * 1024 * 1024;

/**
 * The symbols' trading rules from a saved exchangeInfo (GET /fapi/v1/exchangeInfo), read as the live adapter reads the
 * exchange's own (toSymbolFilters): every symbol of the run must be listed with its filters.
 */
async function specsOfRulesFile(file: string, symbols: readonly string[]): Promise<SimSymbolSpec[]> {
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > maxRulesFileBytes) throw new Error(`${size} bytes, more than exchangeInfo's (at most ${maxRulesFileBytes} read)`);
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--rules ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const specs = Object.values(toSymbolFilters(JSON.parse(text), symbols)).map(specOfFilters);
    // Each read onto its integer grid now (a tick of "abc" or "0" is refused here, naming the file, not mid-run).
    for (const spec of specs) deriveRules(spec);
    return specs;
  } catch (error) {
    throw new UsageError(`--rules ${file} has no rules to trade ${symbols.join(', ')} by: ${rulesFileProblem(error)}`);
  }
}

/** What was wrong with a rules file, in one line: zod's message is a JSON list of every issue. */
function rulesFileProblem(error: unknown): string {
  if (error instanceof SyntaxError) return `not JSON (${error.message})`;
  if (error instanceof z.ZodError) {
    const issue = error.issues[0];
    return issue === undefined ? 'not its shape' : `${issue.path.length > 0 ? issue.path.join('.') : 'the file'}: ${issue.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A bar on the terminal: stderr only, and only when it is a TTY. */
function progressBar(): (done: number, atMs: number) => void {
  if (!process.stderr.isTTY) return () => undefined;
  const width = 30;
  return (done, atMs) => {
    const filled = Math.round(done * width);
    process.stderr.write(
      `\r[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${(done * 100).toFixed(0).padStart(3)}% ${new Date(atMs).toISOString().slice(0, 16)}Z`,
    );
  };
}

/** The flags that take a value (the rest, --json and --help, are switches). */
const valuedFlags = [
  'data',
  'symbols',
  'from',
  'to',
  'strategy',
  'signals',
  'capital',
  'stoploss',
  'horizon',
  'out',
  'rules',
  'depth-usd',
  'quotes',
  'spread-ticks',
  'kline-through-bps',
  'kline-path',
  'fills',
  'bar-seconds',
  'latency-ms',
  'seed',
  'fast',
  'slow',
  'sweep',
  'workers',
];

/**
 * `--flag -5` as `--flag=-5` for the flags that take a value: Node's parseArgs takes a value starting with a dash for a
 * missing one ("argument is ambiguous ... use '--capital=-XYZ'"), so a negative number was refused with that instead
 * of what the flag takes (number() says it). Only a number is joined: `--out -x` stays an unknown flag.
 */
function joinNegativeValues(argv: readonly string[], valued: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    if (arg === '--') {
      out.push(...argv.slice(i)); // after the terminator every word is a positional, as given
      break;
    }
    if (arg.startsWith('--') && valued.has(arg.slice(2)) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${arg}=${next}`);
      i += 1;
    } else out.push(arg);
  }
  return out;
}

export async function runBacktestCli(argv: readonly string[]): Promise<number> {
  let values: Record<string, string | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: joinNegativeValues(argv, new Set(valuedFlags)),
      options: Object.fromEntries(
        valuedFlags
          .map((k): [string, { type: 'string' | 'boolean' }] => [k, { type: 'string' }])
          .concat([
            ['json', { type: 'boolean' }],
            ['help', { type: 'boolean' }],
          ]),
      ),
      // `--sweep fast=5..20 slow=20..60`: the words after --sweep's own are its too (refused without --sweep).
      allowPositionals: true,
      strict: true,
    }) as { values: Record<string, string | undefined>; positionals: string[] });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${backtestUsage}\n`);
    return 2;
  }
  if (values.help !== undefined) {
    process.stdout.write(`${backtestUsage}\n`);
    return 0;
  }
  try {
    const usingSample = values.data === undefined;
    const dataDir = resolve(values.data ?? sampleDataDir);
    const quotes = (values.quotes ?? defaultBacktestOptions.quotes) as QuoteSource;
    if (!['auto', 'bookTicker', 'klines'].includes(quotes)) throw new UsageError(`--quotes must be auto, bookTicker or klines`);
    const klinePath = (values['kline-path'] ?? defaultBacktestOptions.klinePath) as KlinePath;
    if (!['bridge', 'still'].includes(klinePath)) throw new UsageError('--kline-path must be bridge or still');
    const fills = (values.fills ?? defaultBacktestOptions.fills) as FillRule;
    if (!['auto', 'through', 'queue'].includes(fills)) throw new UsageError('--fills must be auto, through or queue');
    const symbols = (values.symbols ?? 'BTCUSDT,ETHUSDT').split(',').map((s) => s.trim().toUpperCase());
    if (symbols.some((s) => !/^[A-Z0-9]{2,20}$/.test(s)))
      throw new UsageError(`--symbols ${JSON.stringify(values.symbols)} is not a list like BTCUSDT,ETHUSDT`);
    const fromMs = time(values.from, '--from');
    const toMs = time(values.to, '--to');
    if (fromMs !== null && toMs !== null && toMs <= fromMs) throw new UsageError('--to must be after --from');
    const stopLossPct = number(values.stoploss, '--stoploss', (n) => n > 0 && n < 100, 'a percent of capital above 0 and below 100');
    const horizonHours = number(values.horizon, '--horizon', (n) => n > 0, 'hours, more than 0');
    const rulesFile = values.rules === undefined ? undefined : resolve(values.rules);
    const depthUsd = depthRange(values['depth-usd']);
    const base: SweepBaseOptions = {
      dataDir,
      symbols,
      ...(rulesFile !== undefined ? { symbolSpecs: await specsOfRulesFile(rulesFile, symbols), symbolSpecsSource: rulesFile } : {}),
      ...(depthUsd !== undefined ? { depthUsd } : {}),
      fromMs,
      toMs,
      capitalUsd: number(values.capital, '--capital', (n) => n > 0, 'USD, more than 0') ?? 10_000,
      ...(stopLossPct !== undefined ? { stopLossPct } : {}),
      ...(horizonHours !== undefined ? { horizonHours } : {}),
      quotes,
      klineSpreadTicks:
        number(values['spread-ticks'], '--spread-ticks', (n) => Number.isInteger(n) && n >= 1, 'ticks, a whole number, at least 1') ??
        defaultBacktestOptions.klineSpreadTicks,
      klineThroughBps:
        number(values['kline-through-bps'], '--kline-through-bps', (n) => n >= 0 && n < 10_000, 'basis points, 0 or more and below 10 000') ??
        defaultBacktestOptions.klineThroughBps,
      klinePath,
      fills,
      barMs:
        (number(values['bar-seconds'], '--bar-seconds', (n) => Number.isInteger(n) && n >= 1, 'seconds, a whole number, at least 1') ??
          defaultBacktestOptions.barMs / 1000) * 1000,
      latencyMs:
        number(values['latency-ms'], '--latency-ms', (n) => Number.isInteger(n) && n >= 0, 'milliseconds, a whole number, 0 or more') ??
        defaultBacktestOptions.latencyMs,
      seed: number(values.seed, '--seed', (n) => Number.isInteger(n), 'a whole number') ?? defaultBacktestOptions.seed,
    };
    if (values.sweep !== undefined) return await sweepCli(values, positionals, base);
    if (positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(positionals.join(' '))} (only --sweep takes more than one word)`);
    if (values.workers !== undefined || values.json !== undefined) throw new UsageError('--workers and --json go with --sweep');
    const progress = progressBar();
    const { strategy, replayed } = await strategyOf(values, dataDir, usingSample);
    const result = await runBacktest({ ...base, strategy, onProgress: progress });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const paths = await writeReport(resolve(values.out ?? 'artifacts/backtest'), result);
    // The summary carries trades, totalReturnPct, maxDrawdownPct, sharpe, feesUsd and fundingUsd among its figures;
    // reportPath is the HTML page, jsonReportPath the same figures as JSON.
    const line = { ...result.summary, ...paths };
    const warning = replayWarning(replayed, result.summary.symbols, result.summary.to);
    if (warning !== null) process.stderr.write(`${warning}\n`);
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n${backtestUsage}\n`);
      return 2;
    }
    if (error instanceof DataFileError) {
      process.stderr.write(`bad data: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/** `--sweep`: the crossover's grid through worker threads, a table (or one JSON line) on stdout. */
async function sweepCli(values: Record<string, string | undefined>, positionals: readonly string[], base: SweepBaseOptions): Promise<number> {
  if ((values.strategy ?? 'crossover') !== 'crossover') throw new UsageError('--sweep sweeps the crossover strategy');
  if (values.fast !== undefined || values.slow !== undefined) throw new UsageError('--sweep sets fast and slow itself: drop --fast/--slow');
  let points;
  try {
    points = parseSweep([values.sweep ?? '', ...positionals]);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const workers = number(values.workers, '--workers', (n) => Number.isInteger(n) && n >= 1, 'a whole number, at least 1') ?? defaultSweepWorkers();
  const tty = process.stderr.isTTY;
  let rows;
  try {
    rows = await runSweep(base, points, workers, (done, total) => {
      if (tty) process.stderr.write(`\rsweep: ${done}/${total} runs`);
    });
  } catch (error) {
    // A run's failure (bad data, most likely) arrives from its worker as a message: said as a single run says it.
    process.stderr.write(`${tty ? '\n' : ''}sweep failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  if (tty) process.stderr.write('\n');
  process.stdout.write(values.json ? `${JSON.stringify({ sweep: rows })}\n` : `${sweepTable(rows)}\n`);
  return 0;
}

/** The JSON report and the self-contained HTML page beside it. */
export async function writeReport(outDir: string, result: BacktestResult): Promise<{ reportPath: string; jsonReportPath: string }> {
  await mkdir(outDir, { recursive: true });
  const jsonReportPath = join(outDir, 'backtest-report.json');
  const reportPath = join(outDir, 'backtest-report.html');
  // Written as it is made: a long run's report is more JSON than one string may hold (report-json.ts).
  await writeJsonFile(jsonReportPath, result);
  await writeFile(reportPath, reportHtml(result));
  return { reportPath, jsonReportPath };
}
