import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { tableRowsPerPage } from '../../src/services/dashboard/page.js';
import { startDashboard } from '../../src/services/dashboard/server.js';
import { silentLogger } from '../../src/util/logger.js';
import { awaitPosition, layoutProblems, useBrowserDashboard } from '../support/browser.js';
import { commitClosedTrips, commitOutbound, followerLimits, sampleSummary } from '../support/dashboard-rig.js';
import { commandId } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// The dashboard as a trader uses it, in real headless Chromium at phone (390 px) and desktop width: a session
// started from the page's form, live equity points over the event stream with no polling, a kill switch shown
// as what it is with only the valid actions enabled, and closed trades (paged, daily bars, per symbol) in place of
// the raw fills. Screenshots go to
// /tmp/dash-*.png for a human look.

const token = 'trader-test-token';
/** Safety net for page-side waits; never an assertion about speed. */
const pageWaitMs = 30_000;
const phone = { width: 390, height: 844 };
const desktop = { width: 1280, height: 900 };

async function expectFits(page: Page, viewport: { width: number; height: number }, shot: string): Promise<void> {
  await page.setViewportSize(viewport);
  await page.waitForTimeout(100); // one layout pass (charts follow their box through a ResizeObserver)
  expect(await layoutProblems(page), `${shot} at ${viewport.width} px`).toEqual([]);
  await page.screenshot({ path: `/tmp/dash-${shot}-${viewport.width}.png`, fullPage: true });
}

describe('dashboard for a trader, in a browser', () => {
  const rig = useBrowserDashboard({ label: 'dashboard-trader', config: { equitySampleMs: 250, equityIdleSampleMs: 250 } }, token);

  it('starts a session from the form, streams equity without polling, and shows a kill switch with only Stop enabled', async () => {
    const { harness: h, dashboard, browser } = rig();
    const user = `trader-${commandId('u').slice(-6)}`;
    const page = await browser.newPage({ viewport: phone });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => void dialog.accept());
    const requests: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.goto(`${dashboard.url}/?token=${token}`);
    await waitFor('the event stream to be live', async () => (await page.locator('#conn').getAttribute('data-state')) === 'live', pageWaitMs);

    // A bad capital is refused on the page, in words, and nothing is sent.
    const form = page.locator('#start-form');
    await form.locator('input[name=userId]').fill(user);
    await form.locator('input[name=capitalUsd]').fill('-5');
    await form.locator('button[type=submit]').click();
    expect(await page.locator('#start-error').textContent()).toBe('capital: must be more than $0');
    expect(requests.filter((p) => p === '/api/commands')).toHaveLength(0);
    // Paper only: this dashboard was not configured for live starts.
    expect(await form.locator('select[name=mode] option').allTextContents()).toEqual(['paper']);

    await form.locator('input[name=capitalUsd]').fill('10000');
    await form.locator('input[name=stopLossPct]').fill('2');
    await form.locator('button[type=submit]').click();
    const card = page.locator(`[data-user="${user}"]`);
    await card.waitFor({ timeout: pageWaitMs });
    expect(await page.locator('#start-error').textContent()).toBe('');
    expect(h.service.engine.current.durable.sessions.get(user)).toMatchObject({ mode: 'paper', status: 'active', stopLossPct: 2 });
    expect((await card.locator('[data-field=stoploss]').textContent())?.trim()).toMatch(/^\$9,800\.00 \(2%\), \$[\d,.]+ above floor$/);

    // A capital below a symbol's smallest order starts, and the command log says which symbols it cannot trade.
    const small = `${user}-s`;
    await form.locator('input[name=userId]').fill(small);
    await form.locator('input[name=capitalUsd]').fill('50');
    await form.locator('input[name=stopLossPct]').fill('');
    await form.locator('button[type=submit]').click();
    const smallEntry = page.locator('#command-log li', { hasText: small });
    await waitFor('the small start to be answered', async () => (await smallEntry.getAttribute('data-status')) === 'done', pageWaitMs);
    expect(await smallEntry.textContent()).toMatch(/: done — BTCUSDT: its smallest order is about [\d.]+ USD \(minimum notional \d+\); 50 USD cannot buy it/);

    await h.send({ id: commandId('route'), type: 'signals.route', userId: 'signals', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }], userIds: [user] });
    await awaitPosition(h, user, 'BTCUSDT');
    await card.locator('[data-table=positions] tr[data-symbol=BTCUSDT]').waitFor({ timeout: pageWaitMs });

    // New equity samples arrive on the one open event stream and are appended to the chart: no state polling.
    const chart = card.locator('[data-chart]');
    const points = async (): Promise<number> => Number(await chart.getAttribute('data-points'));
    const before = await points();
    await waitFor('two more equity points on the chart', async () => (await points()) >= before + 2, pageWaitMs);
    expect(requests.filter((p) => p === '/api/state')).toEqual([]);
    expect(requests.filter((p) => p === '/api/events')).toHaveLength(1);
    await card.locator('.uplot canvas').first().waitFor({ timeout: pageWaitMs });
    // The legend names the three lines and times are UTC, one format.
    expect(await card.locator('.u-legend').textContent()).toMatch(/equity.*capital.*stop-loss floor/);
    expect(await card.locator('[data-field=asof]').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC, /);
    await card.locator('.u-over').hover({ position: { x: 40, y: 40 } });
    expect(await card.locator('.chart-tip').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC · equity \$[\d,.]+ · \$[\d,.]+ above floor$/);

    expect((await card.locator('[data-field=status]').textContent())?.trim()).toBe('active');
    await expectFits(page, phone, 'active');
    await expectFits(page, desktop, 'active');

    // The market runs 10 % against the position: the stop-loss (2 % of capital) trips, the engine flattens and
    // engages the kill switch. The session stays `active` in the engine, but the page shows what it really is.
    const engine = h.service.engine.current.durable;
    const held = engine.sessions.get(user)?.positions.BTCUSDT;
    const qty = Number(held?.qty ?? 0);
    h.sim.setMid('BTCUSDT', Number(held?.entryPrice) * (qty > 0 ? 0.9 : 1.1));
    await waitFor('the kill switch on the engine', () => h.service.engine.current.durable.sessions.get(user)?.killSwitch.engaged === true, pageWaitMs);
    const status = card.locator('[data-field=status]');
    await waitFor('the card to show the kill switch', async () => /^kill switch: /.test((await status.textContent()) ?? ''), pageWaitMs);
    expect(await card.locator('button[data-action=pause]').isDisabled()).toBe(true);
    expect(await card.locator('button[data-action=set_stoploss]').isDisabled()).toBe(true);
    expect(await card.locator('button[data-action=stop]').isEnabled()).toBe(true);
    expect(await card.locator('[data-field=next]').textContent()).toMatch(/Next: Stop to close this session, then start a new one\./);
    await expectFits(page, phone, 'killswitch');

    await card.locator('button[data-action=stop]').click();
    await waitFor('the card to show the session closed', async () => (await status.textContent()) === 'closed', pageWaitMs);
    // The command log follows the stop to its final answer, even when that came on the stream before the POST's.
    const stopEntry = page.locator('#command-log li', { hasText: `stop ${user}` });
    await waitFor('the stop to show done', async () => (await stopEntry.getAttribute('data-status')) === 'done', pageWaitMs);
    expect(await card.locator('button[data-action=stop]').isDisabled()).toBe(true);
    expect(await card.locator('button[data-action=pause]').isDisabled()).toBe(true);
    expect(await card.locator('button[data-action=start-new]').isVisible()).toBe(true);
    // A closed session shows its stop-loss as it was set, not the equity "above floor" of a session still trading.
    expect((await card.locator('[data-field=stoploss]').textContent())?.trim()).toBe('2%');
    await expectFits(page, desktop, 'closed');
    expect(requests.filter((p) => p === '/api/state')).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('shows closed trades in place of raw fills: a paged table, daily profit bars and a per-symbol table; alerts without fills; the engine’s own stop-loss floor', async () => {
    const { browser } = rig();
    const log = openMemoryLog();
    const quiet = await startDashboard({ log, host: '127.0.0.1', port: 0, token: null, adminUserId: 'operator', logger: silentLogger(), followerLimits });
    try {
      const now = Date.now();
      const t0 = now - 3_600_000;
      const day = 86_400_000;
      // The engine's floor and distance, deliberately not capital × (1 − 5 %) = $950: the page must draw what the engine says.
      const summary = { ...sampleSummary, stopLossFloorUsd: 951.23, stopLossDistanceUsd: 43.77 };
      await commitOutbound(log, [
        { type: 'reply', commandId: 'c1', userId: 'alice', commandType: 'session.start', status: 'done', reason: null, result: summary, atMs: t0 },
        ...[0, 1, 2].map((i) => ({ type: 'equity', userId: 'alice', summary, atMs: t0 + i * 60_000 })),
        ...Array.from({ length: 200 }, (_, i) => ({
          type: 'alert',
          userId: 'alice',
          kind: i % 50 === 0 ? 'reconcile' : 'fill',
          message: `BUY 0.001 BTCUSDT @ ${50_000 + i} (entry, qe${i}-1)`,
          atMs: t0 + i * 1_000,
        })),
      ]);
      // 25 closed trips, one a day back from today: BTCUSDT wins 0.98 net, every fifth (ETHUSDT) loses 1.02. BTCUSDT's
      // prices are averages of fills (finer than the tick, as the ledger keeps them): shown to 6 significant digits.
      await commitClosedTrips(
        log,
        'alice',
        Array.from({ length: 25 }, (_, i) =>
          i % 5 === 0
            ? { symbol: 'ETHUSDT', qty: '0.5', entry: '3000.1', exit: '2998.1', closedAtMs: now - (24 - i) * day }
            : { symbol: 'BTCUSDT', qty: '0.1', entry: '50000.333333333333', exit: '50010.333333333333', closedAtMs: now - (24 - i) * day },
        ),
      );
      const page = await browser.newPage({ viewport: desktop });
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${quiet.url}/`);

      // Closed trades of the first user, newest first, a page at a time.
      const closedRows = page.locator('#closed tbody tr');
      const info = page.locator('[data-pager=closed] [data-field=page-info]');
      await waitFor('the closed trades', async () => (await info.textContent()) === `1–${tableRowsPerPage} of 25`, pageWaitMs);
      expect(await closedRows.count()).toBe(tableRowsPerPage);
      expect(await page.locator('#closed-user').inputValue()).toBe('alice');
      expect(await closedRows.first().locator('td').allTextContents()).toEqual([
        `${new Date(now).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        'BTCUSDT',
        'long',
        '+$0.98',
        '0.1',
        '50000.3',
        '50010.3',
      ]);
      expect(await closedRows.first().locator('td[data-label=exit]').getAttribute('title')).toBe('50010.333333333333');
      expect(await page.locator('#closed-summary').textContent()).toBe(
        '25 closed · won 20 · lost 5 · win rate 80% · net +$14.50 · fees $0.50 · max drawdown $1.02',
      );
      await page.locator('[data-pager=closed] button[data-page=older]').click();
      await waitFor('the second page', async () => (await info.textContent()) === `${tableRowsPerPage + 1}–${2 * tableRowsPerPage} of 25`, pageWaitMs);
      await page.locator('[data-pager=closed] button[data-page=older]').click();
      await waitFor('the last page', async () => (await info.textContent()) === `${2 * tableRowsPerPage + 1}–25 of 25`, pageWaitMs);
      expect(await page.locator('[data-pager=closed] button[data-page=older]').isDisabled()).toBe(true);
      expect(await closedRows.last().locator('td:nth-child(2)').textContent()).toBe('ETHUSDT');

      // Per symbol, best first; one bar a day, up for a gain, down for a loss.
      expect(await page.locator('#performance tbody tr').evaluateAll((rows) => rows.map((r) => r.textContent))).toEqual([
        'BTCUSDT2020+$19.60',
        'ETHUSDT50-$5.10',
      ]);
      const bars = page.locator('#daily-bars .day');
      expect(await bars.count()).toBe(30);
      expect(await bars.last().getAttribute('title')).toBe(`${new Date(now).toISOString().slice(0, 10)}: +$0.98 (1 trade)`);
      expect(await page.locator('#daily-bars .day.neg').count()).toBe(5);
      expect(await page.locator('#daily-bars .day.pos').count()).toBe(20);
      const barHeight = (sel: string) =>
        page
          .locator(sel)
          .first()
          .evaluate((e) => e.getBoundingClientRect().height);
      const half = (await page.locator('#daily-bars').evaluate((e) => e.clientHeight)) / 2;
      expect(await barHeight('#daily-bars .day.neg span')).toBeCloseTo(half, 0); // the largest day (-1.02) fills its half
      expect((await barHeight('#daily-bars .day.pos span')) / half).toBeCloseTo(0.98 / 1.02, 2);

      // Alerts hold no fills (200 fills no longer push them out): the four reconcile notes.
      expect(await page.locator('[data-pager=alerts] [data-field=page-info]').textContent()).toBe('1–4 of 4');
      expect(await page.locator('#alerts tbody tr td:nth-child(3)').allTextContents()).toEqual(['reconcile', 'reconcile', 'reconcile', 'reconcile']);

      // The stop-loss floor is the engine's, in the stats, the legend and the tooltip.
      const card = page.locator('[data-user="alice"].card');
      expect((await card.locator('[data-field=stoploss]').textContent())?.trim()).toBe('$951.23 (5%), $43.77 above floor');
      await card.locator('.uplot canvas').first().waitFor({ timeout: pageWaitMs });
      expect(await card.locator('.u-legend').textContent()).toContain('$951.23');

      const height = await page.evaluate(() => document.scrollingElement?.scrollHeight ?? 0);
      expect(height).toBeLessThan(3_000);
      await expectFits(page, desktop, 'closed-trades');
      await expectFits(page, phone, 'closed-trades');
      expect(await page.locator('#daily-bars').evaluate((e) => e.getBoundingClientRect().width)).toBeLessThanOrEqual(phone.width);
      expect(pageErrors).toEqual([]);
      await page.close();
    } finally {
      await quiet.close();
    }
  });

  it('shows positions in the engine’s exact figures: the quantity on its step, the entry on the tick, the mark as quoted', async () => {
    const { browser } = rig();
    const log = openMemoryLog();
    const quiet = await startDashboard({ log, host: '127.0.0.1', port: 0, token: null, adminUserId: 'operator', logger: silentLogger(), followerLimits });
    try {
      // A BTCUSDT long on a 0.001 step, and a short in a coin priced below a cent (tick 0.000001): two decimals read
      // its entry as 0.00 and six its quantity as 1,234,567.000000.
      const positions = {
        BTCUSDT: {
          qty: 0.011,
          entryPrice: 60003.4833333,
          exitPrice: 60018.6,
          unrealizedPnlUsd: 0.17,
          notionalUsd: 660.2,
          qtyExact: '0.011',
          entryAtTick: '60003.5',
          mark: '60018.6',
          tickSize: '0.1',
          stepSize: '0.001',
        },
        PEPEUSDT: {
          qty: -1234567,
          entryPrice: 0.0084123,
          exitPrice: 0.008401,
          unrealizedPnlUsd: -0.004,
          notionalUsd: 10.37,
          qtyExact: '-1234567',
          entryAtTick: '0.008412',
          mark: '0.008401',
          tickSize: '0.000001',
          stepSize: '1',
        },
      };
      const summary = { ...sampleSummary, positions };
      await commitOutbound(log, [
        { type: 'reply', commandId: 'c1', userId: 'alice', commandType: 'session.start', status: 'done', reason: null, result: summary, atMs: Date.now() },
      ]);
      const page = await browser.newPage({ viewport: desktop });
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${quiet.url}/`);
      const card = page.locator('[data-user="alice"].card');
      const row = (symbol: string) => card.locator(`[data-table=positions] tr[data-symbol=${symbol}]`);
      await row('PEPEUSDT').waitFor({ timeout: pageWaitMs });
      // symbol, side, qty, uPnL, entry, exit, notional
      expect(await row('BTCUSDT').locator('td').allTextContents()).toEqual(['BTCUSDT', 'long', '0.011', '+$0.17', '60,003.5', '60,018.6', '$660.20']);
      // A loss of less than half a cent is $0.00, not "-$0.00" in red.
      expect(await row('PEPEUSDT').locator('td').allTextContents()).toEqual(['PEPEUSDT', 'short', '1,234,567', '$0.00', '0.008412', '0.008401', '$10.37']);
      expect(await row('PEPEUSDT').locator('td').nth(3).getAttribute('class')).not.toMatch(/neg/);
      expect(pageErrors).toEqual([]);
      await page.close();
    } finally {
      await quiet.close();
    }
  });
});
