import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/paper-exchange/server.js';
import { startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// Binance closes every market-stream connection at its 24-hour mark
// (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams). The engine must
// reconnect at once: a book feed silent for staleFeedMs flattens every session holding the symbol and kills it. Here
// the paper exchange closes them every second and the stale-feed clock is 2 s: a feed that did not come back within
// it would flatten the session below.

/** The paper exchange's market-stream lifetime in this test (ms): Binance's 24 h, scaled down. */
const lifetimeMs = 1_000;
/** The engine's stale-feed clock in this test (ms): two lifetimes. */
const staleFeedMs = 2 * lifetimeMs;
/** How long the session is watched holding its position (ms): several closes. */
const watchMs = 5 * lifetimeMs;

describe('market stream life', () => {
  it('keeps the book feed through the server closing it at its lifetime: the held session is never called stale', async () => {
    const sim = await startSimulator({ port: 0, seed: 12, priceStepMs: 50, marketStreamMaxLifetimeMs: lifetimeMs });
    const h = await startHarness({ label: 'market-life', sim, config: { staleFeedMs } });
    try {
      const userId = 'holder';
      await h.reply(await h.send({ id: 'start', userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
      sim.faults.forcePostOnlyReject = true; // the bounded fallback takes the position at once
      await h.reply(await h.send({ id: 'route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.2 }] }), 'done');
      const session = () => h.service.engine.current.durable.sessions.get(userId);
      await waitFor('the position held', () => session()?.positions.BTCUSDT !== undefined && Number(session()?.positions.BTCUSDT?.qty) > 0);

      // Quotes received over the watch: no gap as long as the stale-feed clock, though the server closed the feed ~5 times.
      const receivedAt: number[] = [];
      const until = Date.now() + watchMs;
      while (Date.now() < until) {
        const quote = h.service.engine.current.market.venues.paper.quotes.BTCUSDT;
        if (quote && quote.receivedAtMs !== receivedAt.at(-1)) receivedAt.push(quote.receivedAtMs);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // Between quotes, and from the last one to the end of the watch (a feed that died shows there).
      const gaps = [...receivedAt.slice(1), Date.now()].map((t, i) => t - (receivedAt[i] as number));
      expect(Math.max(...gaps)).toBeLessThan(staleFeedMs);
      expect(session()?.killSwitch.engaged).toBe(false);
      expect(Number(session()?.positions.BTCUSDT?.qty)).toBeGreaterThan(0);
    } finally {
      await h.close();
      await sim.close();
    }
  }, 30_000);
});
