import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { awaitPosition, useBrowserDashboard } from '../support/browser.js';
import { commandId } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// The dashboard end to end in a real headless Chromium: a real engine (Redis log, simulator over HTTP/WS),
// the dashboard on its own connection to the same log (as a separate process would be), and the page
// driven by clicks. Screenshots are kept in artifacts/ for a human look.

const token = 'browser-test-token';
/** Safety net for page-side waits; never an assertion about speed. */
const pageWaitMs = 30_000;

describe('dashboard in a browser', () => {
  const rig = useBrowserDashboard({ label: 'dashboard-browser' }, token);

  it('shows a session and its position, stops it with a click and shows it closed and flat', async () => {
    const { harness: h, dashboard, browser } = rig();
    const user = `dash-${commandId('u').slice(-6)}`;
    await h.reply(await h.send({ id: commandId('start'), type: 'session.start', userId: user, mode: 'paper', capitalUsd: 10_000, stopLossPct: 20 }), 'done');
    await h.send({ id: commandId('route'), type: 'signals.route', userId: 'signals', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }], userIds: [user] });
    await awaitPosition(h, user, 'BTCUSDT');
    // Something for the dead-letter table: a command the engine cannot parse.
    await h.log.appendCommand('{"id":"dash-broken-1","type":"session.explode"');

    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // What an operator would see in the browser's console: every failed request is one (a 404 polled every few
    // seconds from an endpoint this deployment does not have was).
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 400) consoleErrors.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${dashboard.url}/?token=${token}`);

    const card = page.locator(`[data-user="${user}"]`);
    const text = async (selector: string): Promise<string> => ((await card.locator(selector).first().textContent({ timeout: pageWaitMs })) ?? '').trim();
    await card.waitFor({ timeout: pageWaitMs });
    expect(await text('[data-field=mode]')).toBe('paper');
    expect(await text('[data-field=capital]')).toBe('$10,000.00');

    // Ask the engine for the session's state through the page (equity events show it too, when present).
    await card.locator('button[data-action=status]').click();
    const btcRow = card.locator('[data-table=positions] tr[data-symbol=BTCUSDT]');
    await btcRow.waitFor({ timeout: pageWaitMs });
    const engineQty = Number(h.service.engine.current.durable.sessions.get(user)?.positions.BTCUSDT?.qty ?? 0);
    expect(((await btcRow.locator('td').nth(1).textContent()) ?? '').trim()).toBe(engineQty > 0 ? 'long' : 'short');
    expect(Number(((await btcRow.locator('td').nth(2).textContent()) ?? '').replace(/,/g, ''))).toBeCloseTo(Math.abs(engineQty), 6);
    expect(await text('[data-field=status]')).toBe('active');
    // The equity chart is drawn (uPlot loaded from /assets with the token).
    await card.locator('.uplot canvas').first().waitFor({ timeout: pageWaitMs });
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/dashboard-open.png', fullPage: true });

    await card.locator('button[data-action=stop]').click();
    const stopEntry = page.locator('#command-log li', { hasText: `stop ${user}` });
    await waitFor('the stop to be answered on the page', async () => /stop .*: (accepted|done)/.test((await stopEntry.textContent()) ?? ''), pageWaitMs);
    await waitFor('the stop to be done on the page', async () => (await stopEntry.getAttribute('data-status')) === 'done', pageWaitMs);
    await waitFor('the card to show the session closed', async () => (await text('[data-field=status]')) === 'closed', pageWaitMs);
    expect(await card.locator('[data-table=positions] tr[data-symbol]').count()).toBe(0);
    expect(await text('[data-table=positions] tbody')).toBe('flat');
    // The replies table speaks the page's words, not the engine's command names.
    await waitFor('the stop in the replies', async () => ((await page.locator('#replies tbody').textContent()) ?? '').includes('stop session'), pageWaitMs);
    expect((await page.locator('#replies tbody').textContent()) ?? '').not.toMatch(/session\.(start|stop)/);
    expect(await card.locator('button[data-action=stop]').isDisabled()).toBe(true);

    // The page tells the truth: the engine has the session closed and flat.
    const session = h.service.engine.current.durable.sessions.get(user);
    expect(session?.status).toBe('closed');
    expect(Object.values(session?.positions ?? {}).every((p) => p.qty === '0')).toBe(true);

    await waitFor(
      'the dead letter in the DLQ table',
      async () => ((await page.locator('#dlq tbody').textContent()) ?? '').includes('session.explode'),
      pageWaitMs,
    );
    await page.screenshot({ path: 'artifacts/dashboard.png', fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
