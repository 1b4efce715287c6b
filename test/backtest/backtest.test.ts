import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../src/backtest/data/catalog.js';
import { openSingleEntryZip } from '../../src/backtest/data/zip.js';
import type { BacktestResult } from '../../src/backtest/run-backtest.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { reportHtml } from '../../src/backtest/report-html.js';
import { add, mul, neg, round, sub, toDecimal, toUsd, zero } from '../../src/model/decimal.js';
import type { Decimal, Usd } from '../../src/model/decimal.js';
import { makerFeeRate, takerFeeRate } from '../../src/paper-exchange/matching.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';

const sample = 'samples/binance-data';
const run = promisify(execFile);

/** Every figure of a run checked against its own trades, ledger and funding times: nothing here is a remembered number. */
function checkConsistent(result: BacktestResult): void {
  const { summary, ledger, venueTrades, funding } = result;
  expect(summary.ordersSent).toBeGreaterThan(0);
  expect(summary.trades).toBeGreaterThan(0);
  // The engine booked every trade the exchange made, and nothing else.
  expect(ledger.filter((e) => e.kind === 'fill').length).toBe(venueTrades.length);
  expect(summary.makerTrades + summary.takerTrades).toBe(venueTrades.length);
  // Fees: each trade's commission is its notional at the maker or taker rate; the summary is their sum.
  let fees: Usd = zero;
  for (const t of venueTrades) {
    const notional = mul(toDecimal(t.price), toDecimal(t.qty));
    const expected = round(mul(notional, toDecimal(t.maker ? makerFeeRate : takerFeeRate)), 8, 'half-even');
    expect(Math.abs(Number(sub(toDecimal(t.commission), expected)))).toBeLessThanOrEqual(1e-8);
    fees = add(fees, toUsd(t.commission));
  }
  expect(summary.feesUsd).toBe(Number(fees));
  // Funding: at each funding time, what was held × the mark × the rate, paid by longs at a positive rate.
  let fundingUsd: Decimal = zero;
  for (const f of funding) {
    const rate = round(toDecimal(f.rate), 12, 'half-even');
    fundingUsd = add(fundingUsd, round(neg(mul(mul(toDecimal(f.positionQty), toDecimal(f.markPrice)), rate)), 8, 'half-even'));
  }
  expect(summary.fundingUsd).toBe(Number(fundingUsd));
  // The session ends flat: every symbol's fills net to zero.
  const held = new Map<string, Decimal>();
  for (const e of ledger) {
    if (e.kind !== 'fill' || !e.symbol || !e.qty) continue;
    held.set(e.symbol, add(held.get(e.symbol) ?? zero, e.side === 'BUY' ? e.qty : neg(e.qty)));
  }
  for (const [symbol, qty] of held) expect(`${symbol} ${Number(qty)}`).toBe(`${symbol} 0`);
  // Equity = capital + realized − fees + funding, and the return is that equity over capital.
  const equity = summary.capitalUsd + summary.realizedPnlUsd - summary.feesUsd + summary.fundingUsd;
  expect(summary.finalEquityUsd).toBeCloseTo(equity, 6);
  expect(summary.totalReturnPct).toBeCloseTo(((summary.finalEquityUsd - summary.capitalUsd) / summary.capitalUsd) * 100, 4);
  expect(summary.maxDrawdownPct).toBeGreaterThanOrEqual(0);
  expect(Number.isFinite(summary.sharpe)).toBe(true);
  // The report's trade list: every exchange trade with the engine's fill for it, and figures that add up from it.
  const { trades, metrics } = result;
  expect(trades).toHaveLength(venueTrades.length);
  expect(trades.every((t) => t.realizedPnlUsd !== null)).toBe(true);
  expect(sumUsd(trades.map((t) => t.realizedPnlUsd as string))).toBe(sumUsd(ledger.filter((e) => e.kind === 'fill').map((e) => e.realizedPnlUsd)));
  const traded = sumUsd(trades.map((t) => t.notionalUsd));
  expect(metrics.turnover).toBeCloseTo(Number(traded) / summary.capitalUsd, 9);
  expect(metrics.makerTrades).toBe(summary.makerTrades);
  expect(metrics.makerSharePct).toBeCloseTo((summary.makerTrades / venueTrades.length) * 100, 9);
  const closing = trades.filter((t) => Number(t.realizedPnlUsd) !== 0);
  const wins = closing.filter((t) => Number(sub(toUsd(t.realizedPnlUsd as string), toUsd(t.feeUsd))) > 0);
  expect(metrics.winRatePct).toBeCloseTo(closing.length > 0 ? (wins.length / closing.length) * 100 : 0, 9);
  expect(metrics.maxDrawdownPct).toBe(Math.max(...result.equityCurve.map((p) => p.drawdownPct)));
}

function sumUsd(values: readonly string[]): string {
  return values.reduce<Usd>((acc, v) => add(acc, toUsd(v)), zero);
}

describe('backtest through the engine', () => {
  it('over bookTicker quotes: orders and fills consistent with fees and funding', async () => {
    const result = await runBacktest({
      ...defaultBacktestOptions,
      dataDir: sample,
      symbols: ['BTCUSDT', 'ETHUSDT'],
      fromMs: Date.parse('2026-01-01T07:00:00Z'),
      toMs: Date.parse('2026-01-01T09:00:00Z'),
      strategy: crossoverStrategy(),
      capitalUsd: 10_000,
    });
    checkConsistent(result);
    expect(result.summary.makerTrades).toBeGreaterThan(0);
    // The data ended first: nothing cut the run short.
    expect(result.summary.killSwitch).toBeNull();
    expect(reportHtml(result)).toContain('<th>Kill switch</th><td>not engaged: the session traded to the end of the data</td>');
    expect(reportHtml(result)).not.toContain('class="kill-switch"');
    // The 08:00 funding time fell inside, with something held.
    expect(result.funding.some((f) => f.timeMs === Date.parse('2026-01-01T08:00:00Z') && Number(f.positionQty) !== 0)).toBe(true);
    expect(result.summary.fundingUsd).not.toBe(0);
  }, 120_000);

  it('over klines with a stop-loss and a horizon: the horizon closes the session and the figures still add up', async () => {
    const result = await runBacktest({
      ...defaultBacktestOptions,
      dataDir: sample,
      symbols: ['ETHUSDT'],
      fromMs: Date.parse('2026-01-01T12:00:00Z'),
      toMs: Date.parse('2026-01-01T20:00:00Z'),
      quotes: 'klines',
      strategy: crossoverStrategy(),
      capitalUsd: 5_000,
      stopLossPct: 5,
      horizonHours: 6,
    });
    checkConsistent(result);
    expect(result.assumptions.join('\n')).toMatch(/ETHUSDT: 1m klines/);
    // The summary and the report say the horizon ended the run at 18:00, not the data (which runs to 20:00).
    expect(result.summary.killSwitch).toEqual({
      at: expect.stringMatching(/^2026-01-01T18:00:0/) as unknown,
      reason: 'horizon',
      text: 'horizon 2026-01-01T18:00:00.000Z reached',
    });
    const html = reportHtml(result);
    expect(html).toMatch(
      /<th>Kill switch<\/th><td>engaged 2026-01-01 18:00:0[\d.]+ UTC: horizon 2026-01-01T18:00:00.000Z reached. The session was flattened then and entered nothing after<\/td>/,
    );
    // Each time chart (equity, drawdown, exposure) marks it where it happened.
    expect(html.match(/<line class="kill-switch"/g)).toHaveLength(3);
    expect(html.match(/<text class="kill-switch"[^>]*>kill switch: horizon<\/text>/g)).toHaveLength(3);
    // After the horizon the session is flat: no fill after 18:00 plus the flatten's few seconds.
    const lastFill = Math.max(...result.ledger.filter((e) => e.kind === 'fill').map((e) => e.timeMs));
    expect(lastFill).toBeLessThan(Date.parse('2026-01-01T18:01:00Z'));
  }, 120_000);

  it('says why a capital too small for one order never traded', async () => {
    const result = await runBacktest({
      ...defaultBacktestOptions,
      dataDir: sample,
      symbols: ['BTCUSDT'],
      fromMs: Date.parse('2026-01-01T07:00:00Z'),
      toMs: Date.parse('2026-01-01T07:40:00Z'),
      quotes: 'bookTicker',
      strategy: crossoverStrategy(),
      capitalUsd: 5,
    });
    expect(result.summary.ordersSent).toBe(0);
    // Each bar's target (the strategy asked for a position) was skipped, and the report says why: before, the engine
    // counted the session "at target" and the run read as a strategy that never asked.
    expect(result.summary.targetsNotActedOn).toBeGreaterThan(0);
    expect(result.targetsSkipped).toEqual([
      {
        symbol: 'BTCUSDT',
        count: result.summary.targetsNotActedOn,
        firstAt: expect.stringMatching(/^2026-01-01T07:/) as unknown,
        lastAt: expect.stringMatching(/^2026-01-01T07:/) as unknown,
        reason: expect.stringMatching(/^target \d+\.\d\d USD \(weight -?0\.\d+ of 5 USD\) is less than one BTCUSDT order step of 0\.001$/) as unknown,
      },
    ]);
    const html = reportHtml(result);
    expect(html).toContain(`<th>Targets not acted on</th><td>${result.summary.targetsNotActedOn} (why: below the trades)</td>`);
    expect(html).toMatch(/<table id="skipped"[^]*<td>BTCUSDT<\/td><td>\d+<\/td>[^]*is less than one BTCUSDT order step of 0.001<\/td>/);
  }, 60_000);

  it('reports its progress as a fraction of the data read when the period has no end, and of the period when it has', async () => {
    const base = { ...defaultBacktestOptions, dataDir: sample, symbols: ['BTCUSDT', 'ETHUSDT'], quotes: 'bookTicker' as const, capitalUsd: 10_000 };
    const open: [number, number][] = [];
    await runBacktest({ ...base, fromMs: null, toMs: null, strategy: crossoverStrategy(), onProgress: (done, atMs) => open.push([done, atMs]) });
    // Before, an open end was the quote's own time: every report read 100 %.
    expect(open.length).toBeGreaterThanOrEqual(2);
    expect(open.every(([done]) => done > 0 && done < 1)).toBe(true);
    expect(open.map(([done]) => done)).toEqual([...open.map(([done]) => done)].sort((a, b) => a - b));
    const bounded: [number, number][] = [];
    const fromMs = Date.parse('2026-01-01T06:00:00Z');
    const toMs = Date.parse('2026-01-01T10:00:00Z');
    await runBacktest({ ...base, fromMs, toMs, strategy: crossoverStrategy(), onProgress: (done, atMs) => bounded.push([done, atMs]) });
    expect(bounded.length).toBeGreaterThanOrEqual(2);
    for (const [done, atMs] of bounded) expect(done).toBeCloseTo((atMs - fromMs) / (toMs - fromMs), 2);
  }, 60_000);

  it('gives the same run from the zipped files as from the same files unzipped', async () => {
    const plainDir = mkdtempSync(join(tmpdir(), 'qe-backtest-plain-'));
    for (const file of await catalog(sample)) {
      if (file.symbol !== 'ETHUSDT' || file.kind === 'bookTicker') continue;
      const chunks: Buffer[] = [];
      for await (const chunk of (await openSingleEntryZip(file.path)).stream) chunks.push(chunk as Buffer);
      writeFileSync(join(plainDir, basename(file.path).replace(/\.zip$/, '.csv')), Buffer.concat(chunks));
    }
    const options = {
      ...defaultBacktestOptions,
      symbols: ['ETHUSDT'],
      fromMs: Date.parse('2026-01-01T14:00:00Z'),
      toMs: Date.parse('2026-01-01T17:00:00Z'),
      quotes: 'klines' as const,
      capitalUsd: 10_000,
    };
    const zipped = await runBacktest({ ...options, dataDir: sample, strategy: crossoverStrategy() });
    const plain = await runBacktest({ ...options, dataDir: plainDir, strategy: crossoverStrategy() });
    expect(zipped.summary.trades).toBeGreaterThan(0);
    expect(plain.summary).toEqual(zipped.summary);
    expect(plain.venueTrades).toEqual(zipped.venueTrades);
  }, 120_000);

  it('the CLI runs end to end on the shipped sample and prints a one-line JSON summary', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qe-backtest-'));
    // Times without a zone are UTC whatever the machine's zone (test/backtest/utc-times.test.ts): here Tokyo's.
    const { stdout } = await run('npx', ['tsx', 'src/main.ts', 'backtest', '--from', '2026-01-01T07:30:00', '--to', '2026-01-01 08:30', '--out', out], {
      timeout: 120_000,
      env: { ...process.env, TZ: 'Asia/Tokyo' },
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] as string) as Record<string, unknown>;
    for (const field of ['trades', 'totalReturnPct', 'maxDrawdownPct', 'sharpe', 'feesUsd', 'fundingUsd', 'reportPath'])
      expect(summary, field).toHaveProperty(field);
    expect(summary.reportPath).toBe(join(out, 'backtest-report.html'));
    expect(summary.jsonReportPath).toBe(join(out, 'backtest-report.json'));
    const report = JSON.parse(readFileSync(summary.jsonReportPath as string, 'utf8')) as BacktestResult;
    const { reportPath: _path, jsonReportPath: _json, ...figures } = summary;
    expect(report.summary).toEqual(figures);
    expect(report.assumptions.length).toBeGreaterThan(5);
    expect(summary.from).toMatch(/^2026-01-01T07:30:/);
    expect(summary.to).toMatch(/^2026-01-01T08:(29|30):/);
    checkConsistent(report);
  }, 150_000);

  it('the CLI names the file and the line of bad data, and refuses bad flags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qe-backtest-bad-'));
    mkdirSync(join(dir, 'x'));
    const bad = join(dir, 'x', 'BTCUSDT-1m-2026-01-01.csv');
    writeFileSync(
      bad,
      `${Date.UTC(2026, 0, 1)},10.0,11.0,9.0,10.5,1,${Date.UTC(2026, 0, 1) + 59_999},1,1,1,1,0\n${Date.UTC(2026, 0, 1) + 60_000},10.5,x,9.0,10.5,1,${Date.UTC(2026, 0, 1) + 119_999},1,1,1,1,0\n`,
    );
    const failed = await run('npx', ['tsx', 'src/main.ts', 'backtest', '--data', dir, '--symbols', 'BTCUSDT', '--out', dir], { timeout: 60_000 }).catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect((failed as { code: number }).code).toBe(1);
    expect((failed as { stderr: string }).stderr).toContain(`${bad}:2: high is not a decimal number`);
    const usage = await run('npx', ['tsx', 'src/main.ts', 'backtest', '--capital', 'lots'], { timeout: 60_000 }).catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect((usage as { code: number }).code).toBe(2);
    expect((usage as { stderr: string }).stderr).toMatch(/--capital "lots" is not valid: USD, more than 0/);
    // A negative number is the flag's value, refused for what it is (Node's parser took it for a missing value: "Option
    // '--capital' argument is ambiguous ... use '--capital=-XYZ'").
    const negative = await run('npx', ['tsx', 'src/main.ts', 'backtest', '--capital', '-5'], { timeout: 60_000 }).catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect((negative as { code: number }).code).toBe(2);
    expect((negative as { stderr: string }).stderr).toMatch(/^--capital "-5" is not valid: USD, more than 0/);
    // Equal crossover windows never trade (the two means are one): refused, as is a --fast alone at or past the
    // default --slow, which made them equal unseen.
    for (const [args, says] of [
      [['--fast', '20', '--slow', '20'], /^--slow "20" is not valid: bars, a whole number, more than --fast \(20\)/],
      [['--fast', '25'], /^--fast 25 needs a --slow above it \(the default --slow is 20\)/],
    ] as const) {
      const refused = await run('npx', ['tsx', 'src/main.ts', 'backtest', ...args], { timeout: 60_000 }).catch(
        (e: unknown) => e as { code: number; stderr: string },
      );
      expect((refused as { code: number }).code, args.join(' ')).toBe(2);
      expect((refused as { stderr: string }).stderr, args.join(' ')).toMatch(says);
    }
    // A replay whose file holds nothing for the run (another month) runs, and says why it asked for nothing.
    const future = join(dir, 'future-signals.csv');
    writeFileSync(future, 'timestamp,symbol,signal,confidence,horizon_hours\n2027-03-01T00:00:00Z,BTCUSDT,BUY,0.9,4\n');
    const idle = await run(
      'npx',
      ['tsx', 'src/main.ts', 'backtest', '--symbols', 'BTCUSDT', '--to', '2026-01-01T06:30:00Z', '--strategy', 'replay', '--signals', future, '--out', dir],
      {
        timeout: 60_000,
      },
    );
    expect(JSON.parse(idle.stdout) as { trades: number }).toMatchObject({ trades: 0 });
    expect(idle.stderr).toContain(`warning: none of the one signal in ${future} is for BTCUSDT at or before the run's end (2026-01-01T06:29:`);
    expect(idle.stderr).toContain('the strategy asked for nothing (its first is BTCUSDT at 2027-03-01T00:00:00.000Z)');
    // Asked for, the usage is the answer: on stdout, exit 0, nothing run.
    const help = await run('npx', ['tsx', 'src/main.ts', 'backtest', '--help'], { timeout: 60_000 });
    expect(help.stdout).toMatch(/^usage: quant-engine backtest /);
    expect(help.stderr).toBe('');
  }, 150_000);
});
