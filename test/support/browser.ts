import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { EngineLog } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import type { DashboardHandle } from '../../src/services/dashboard/server.js';
import { startDashboard } from '../../src/services/dashboard/server.js';
import { silentLogger } from '../../src/util/logger.js';
import type { Harness, HarnessOptions } from './harness.js';
import { useHarness } from './harness.js';
import { redisUrl } from './redis.js';
import { waitFor } from './wait.js';

// Real headless Chromium for the dashboard tests, and the moves those tests share: getting a session to hold a
// position on the paper exchange, and checking a page fits its viewport.

const chromiumPath = process.env.QE_CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface BrowserDashboard {
  harness: Harness;
  dashboard: DashboardHandle;
  browser: Browser;
}

/**
 * A real engine (Redis log, simulator over HTTP/WS), the dashboard on its own connection to the same log (as a
 * separate process would be) with `token`, and Chromium: started before the suite, closed after it.
 */
export function useBrowserDashboard(harnessOptions: HarnessOptions, token: string): () => BrowserDashboard {
  const harness = useHarness(harnessOptions);
  let dashboardLog: EngineLog | undefined;
  let parts: BrowserDashboard | undefined;
  beforeAll(async () => {
    dashboardLog = await openRedisLog({ url: redisUrl, prefix: harness().prefix });
    const dashboard = await startDashboard({ log: dashboardLog, host: '127.0.0.1', port: 0, token, adminUserId: 'operator', logger: silentLogger() });
    parts = { harness: harness(), dashboard, browser: await launchChromium() };
  });
  afterAll(async () => {
    await parts?.browser.close();
    await parts?.dashboard.close();
    await dashboardLog?.close();
  });
  return () => {
    if (!parts) throw new Error('useBrowserDashboard: used outside a test');
    return parts;
  };
}

/**
 * Waits until `user` holds `symbol` after a signal routed it there. The post-only entry rests at the touch, and
 * the paper exchange fills a resting order only when the market trades through it: whether the random walk comes
 * back within the wait is luck, so once the entry rests the price is moved through it.
 */
export async function awaitPosition(h: Harness, user: string, symbol: string): Promise<void> {
  let movedThrough = false;
  await waitFor(`${user} to hold ${symbol}`, () => {
    const engine = h.service.engine.current.durable;
    if (Number(engine.sessions.get(user)?.positions[symbol]?.qty ?? 0) !== 0) return true;
    const resting = engine.orders.values().find((o) => o.userId === user && o.purpose === 'entry' && o.status === 'NEW' && o.exchangeOrderId !== null);
    if (resting && !movedThrough) {
      movedThrough = true;
      h.sim.setMid(symbol, Number(resting.price) * (resting.side === 'BUY' ? 0.999 : 1.001));
    }
    return false;
  });
}

/** What does not fit a page at its viewport width: a document wider than the viewport, and clipped buttons. */
export async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const width = window.innerWidth;
    const scrollWidth = document.scrollingElement?.scrollWidth ?? 0;
    if (scrollWidth > width) problems.push(`document is ${scrollWidth} px wide in a ${width} px viewport`);
    for (const b of document.querySelectorAll('button')) {
      const r = b.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue; // not shown
      const name = `button "${(b.textContent ?? '').trim()}"`;
      if (r.left < 0 || r.right > width) problems.push(`${name} reaches ${Math.round(r.left)}..${Math.round(r.right)} px`);
      if (b.scrollWidth > b.clientWidth + 1) problems.push(`${name} clips its text (${b.scrollWidth} > ${b.clientWidth} px)`);
      // A button inside a box that scrolls or hides overflow must still be inside that box.
      for (let p = b.parentElement; p; p = p.parentElement) {
        const style = getComputedStyle(p);
        if (style.overflowX === 'visible') continue;
        const box = p.getBoundingClientRect();
        if (r.left < box.left - 1 || r.right > box.right + 1) problems.push(`${name} is clipped by its container`);
        break;
      }
    }
    return problems;
  });
}
