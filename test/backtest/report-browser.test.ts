import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/backtest/cli.js';
import type { BacktestResult } from '../../src/backtest/run-backtest.js';
import { defaultBacktestOptions, runBacktest } from '../../src/backtest/run-backtest.js';
import { crossoverStrategy } from '../../src/strategies/crossover.js';
import { launchChromium } from '../support/browser.js';

// The HTML report in real Chromium: it opens from a file with no network and no console error, shows its four charts
// (equity, drawdown, exposure, maker vs taker) at a real size with the run's curve drawn, lists every trade, and
// carries the same figures as the JSON report beside it.

describe('backtest HTML report', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
  });

  it('opens in Chromium without console errors and shows its charts, trades and figures', async () => {
    const result = await runBacktest({
      ...defaultBacktestOptions,
      dataDir: 'samples/binance-data',
      symbols: ['BTCUSDT'],
      fromMs: Date.parse('2026-01-01T06:00:00Z'),
      toMs: Date.parse('2026-01-01T08:00:00Z'),
      quotes: 'bookTicker',
      strategy: crossoverStrategy(),
      capitalUsd: 10_000,
    });
    expect(result.trades.length).toBeGreaterThan(0);
    const out = mkdtempSync(join(tmpdir(), 'qe-backtest-html-'));
    const { reportPath, jsonReportPath } = await writeReport(out, result);
    const json = JSON.parse(readFileSync(jsonReportPath, 'utf8')) as BacktestResult;

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(reportPath).href);

    for (const id of ['chart-equity', 'chart-drawdown', 'chart-exposure', 'chart-share']) {
      const box = await page.locator(`#${id}`).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box?.width, id).toBeGreaterThan(100);
      expect(box?.height, id).toBeGreaterThan(20);
    }
    // Each curve is drawn through every point of the report's equity curve.
    for (const id of ['equity', 'drawdown', 'exposure']) {
      const d = (await page.locator(`#chart-${id} path.series`).getAttribute('d')) ?? '';
      const vertices = (d.match(/[ML]/g) ?? []).length;
      expect(vertices, id).toBeGreaterThanOrEqual(json.equityCurve.length);
    }
    expect(json.equityCurve.length).toBeGreaterThan(10);
    expect(await page.locator('#trades tbody tr').count()).toBe(json.trades.length);
    // Realized PnL reads with at most 8 decimals, as Binance's USDT amounts do; the exact figure is the cell's title.
    const pnlCells = await page
      .locator('#trades tbody tr td:last-child')
      .evaluateAll((tds) => tds.map((td) => ({ text: td.textContent, title: td.getAttribute('title') })));
    const exact = json.trades.map((t) => t.realizedPnlUsd);
    expect(exact.some((x) => x !== null && (x.split('.')[1]?.length ?? 0) > 8)).toBe(true);
    pnlCells.forEach((cell, i) => {
      const x = exact[i] as string;
      expect(cell.text, `row ${i}`).toMatch(/^-?\d+(\.\d{1,8})?$/);
      expect(cell.title ?? cell.text, `row ${i}`).toBe(x);
      expect(Math.abs(Number(cell.text) - Number(x)), `row ${i}`).toBeLessThanOrEqual(5e-9);
    });

    // The page's figures are the JSON report's.
    const embedded = JSON.parse((await page.locator('#report-data').textContent()) ?? 'null') as Pick<BacktestResult, 'summary' | 'metrics' | 'equityCurve'>;
    expect(embedded.summary).toEqual(json.summary);
    expect(embedded.metrics).toEqual(json.metrics);
    expect(embedded.equityCurve).toEqual(json.equityCurve);
    const figures = (await page.locator('#figures').textContent()) ?? '';
    expect(figures).toContain(`${json.summary.trades} (maker ${json.metrics.makerTrades}, taker ${json.metrics.takerTrades})`);
    expect(figures).toContain(`${json.metrics.maxDrawdownPct.toFixed(4)} %`);
    // The ratios say how many hourly returns they rest on (a two-hour run's few: annualised from so few, they mean little).
    expect(json.hourlyEquity.length).toBeLessThanOrEqual(3);
    expect(figures).toContain(`Sharpe (annualised, hourly)${json.metrics.sharpe.toFixed(3)} (from ${json.hourlyEquity.length} hourly returns)`);

    // Its script runs: the pointer over the equity chart reads out a point of the curve.
    const equity = page.locator('#chart-equity');
    const box = await equity.boundingBox();
    if (!box) throw new Error('no equity chart');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(async () => (await page.locator('#readout-equity').textContent())?.trim() ?? '').toMatch(/UTC: \d+\.\d{4} USD$/);
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);
});
