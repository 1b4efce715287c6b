import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openMemoryLog } from '../../src/log/memory-log.js';
import { tableRowsPerPage } from '../../src/services/dashboard/page.js';
import { startDashboard } from '../../src/services/dashboard/server.js';
import { silentLogger } from '../../src/util/logger.js';
import { awaitPosition, layoutProblems, useBrowserDashboard } from '../support/browser.js';
import { commitOutbound, followerLimits, sampleSummary } from '../support/dashboard-rig.js';
import { commandId } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// The dashboard as a trader uses it, in real headless Chromium at phone (390 px) and desktop width: a session
// started from the page's form, live equity points over the event stream with no polling, a kill switch shown
// as what it is with only the valid actions enabled, and a long alert history kept to a page. Screenshots go to
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
    expect(h.service.engine.current.durable.sessions[user]).toMatchObject({ mode: 'paper', status: 'active', stopLossPct: 2 });
    expect((await card.locator('[data-field=stoploss]').textContent())?.trim()).toMatch(/^\$9,800\.00 \(2%\), \$[\d,.]+ above floor$/);

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
    const held = engine.sessions[user]?.positions.BTCUSDT;
    const qty = Number(held?.qty ?? 0);
    h.sim.setMid('BTCUSDT', Number(held?.entryPrice) * (qty > 0 ? 0.9 : 1.1));
    await waitFor('the kill switch on the engine', () => h.service.engine.current.durable.sessions[user]?.killSwitch.engaged === true, pageWaitMs);
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
    await expectFits(page, desktop, 'closed');
    expect(requests.filter((p) => p === '/api/state')).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('keeps 200 fills to one page of the alerts table, paged, at a reasonable page height', async () => {
    const { browser } = rig();
    const log = openMemoryLog();
    const quiet = await startDashboard({ log, host: '127.0.0.1', port: 0, token: null, adminUserId: 'operator', logger: silentLogger(), followerLimits });
    try {
      const t0 = Date.UTC(2026, 11, 2, 1, 0);
      await commitOutbound(log, [
        { type: 'reply', commandId: 'c1', userId: 'alice', commandType: 'session.start', status: 'done', reason: null, result: sampleSummary, atMs: t0 },
        ...Array.from({ length: 200 }, (_, i) => ({
          type: 'alert',
          userId: 'alice',
          kind: i % 50 === 0 ? 'reconcile' : 'fill',
          message: `BUY 0.001 BTCUSDT @ ${50_000 + i} (entry, qe${i}-1)`,
          atMs: t0 + i * 1_000,
        })),
      ]);
      const page = await browser.newPage({ viewport: desktop });
      await page.goto(`${quiet.url}/`);
      const rows = page.locator('#alerts tbody tr');
      await waitFor('the alerts table', async () => (await rows.count()) === tableRowsPerPage, pageWaitMs);
      const info = page.locator('[data-pager=alerts] [data-field=page-info]');
      expect(await info.textContent()).toBe(`1–${tableRowsPerPage} of 200`);
      // Newest first, times in the page's one format.
      expect(await rows.first().locator('td').first().textContent()).toBe('2026-12-02 01:03 UTC');
      await page.locator('[data-pager=alerts] button[data-page=older]').click();
      expect(await info.textContent()).toBe(`${tableRowsPerPage + 1}–${2 * tableRowsPerPage} of 200`);
      await page.locator('#alerts-filter').selectOption('alerts');
      expect(await info.textContent()).toBe('1–4 of 4');
      expect(await rows.locator('td:nth-child(3)').allTextContents()).toEqual(['reconcile', 'reconcile', 'reconcile', 'reconcile']);

      const height = await page.evaluate(() => document.scrollingElement?.scrollHeight ?? 0);
      expect(height).toBeLessThan(2_000);
      await expectFits(page, desktop, 'alerts');
      await expectFits(page, phone, 'alerts');
      await page.close();
    } finally {
      await quiet.close();
    }
  });
});
