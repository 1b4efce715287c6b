import { describe, expect, it } from 'vitest';
import { paperCredentials } from '../../src/engine/accounts.js';
import { ManualClock } from '../../src/engine/clock.js';
import { quoteAgeMs, quoteOf } from '../../src/core/venues.js';
import type { Harness } from '../support/harness.js';
import { useHarness } from '../support/harness.js';
import { holdingBtc } from '../support/holding-btc.js';
import { waitFor } from '../support/wait.js';

// Binance's -1008 "Request throttled by system-level protection. Reduce-only/close-position orders are exempt."
// (https://developers.binance.com/en/docs/products/derivatives-trading-usds-futures/error-code), answered as HTTP 503
// (https://github.com/banbox/banbot/issues/114, where the order had in fact been placed): against the simulator over
// HTTP/WS, on a manual clock with manual watchdog beats. While it lasts, a holder told to stop still gets flat (its
// flatten is reduce-only); an entry tried meanwhile is execution-unknown, is read back by its id rather than sent
// again, and is settled as never placed; once the throttle lifts, entries go out again.

const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
/** Simulated time the unknown entry is given to be read back as never placed: past orderNotFoundGraceMs (10 s). */
const settleEntryMs = 15_000;
const beatMs = 1_000;

async function beats(h: Harness, totalMs: number): Promise<void> {
  for (let t = 0; t < totalMs; t += beatMs) {
    clock.advance(beatMs);
    await h.service.timerBeat();
    await h.service.settle();
  }
}

describe('system-level throttle (-1008)', () => {
  const harness = useHarness({ label: 'system-throttle', clock, timer: 'manual', config: { symbols: ['BTCUSDT', 'ETHUSDT'] } });

  it('a /stop flattens through it, a throttled entry is neither sent twice nor fatal, and entries resume after it', async () => {
    const h = harness();
    const holder = 'throttle-holder';
    const entrant = 'throttle-entrant';
    const entrantKey = paperCredentials(entrant).apiKey;
    await holdingBtc(h, holder, clock);
    await h.reply(await h.send({ id: `${entrant}-start`, userId: entrant, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
    const entries = () => h.service.engine.current.durable.orders.values().filter((o) => o.userId === entrant && o.purpose === 'entry');
    const route = (id: string) => h.send({ id, userId: 'signals', type: 'signals.route', userIds: [entrant], signals: [{ symbol: 'BTCUSDT', weight: 0.3 }] });

    h.sim.faults.systemThrottle = true;
    const throttledFrom = h.sim.requests().length;
    const throttledAnswers = () =>
      h.sim
        .requests()
        .slice(throttledFrom)
        .filter((r) => r.code === -1008);

    // The entry gets 503 -1008: execution unknown to the adapter; the engine reads it back by id.
    await h.reply(await route('throttle-route-1'), 'done');
    const answered = await waitFor('the entry answered', () => entries().find((o) => o.status !== 'pending'));
    expect(answered.status).toBe('unknown');
    // The order's story says why: the 503's Binance code and message (exchange/binance/errors.ts).
    expect(answered.rejectReason).toMatch(/^HTTP 503 -1008 Request throttled by system-level protection/);
    expect(throttledAnswers()).toHaveLength(1);
    // The same signal again while that entry is unresolved: no second entry.
    await h.reply(await route('throttle-route-2'), 'done');
    expect(entries()).toHaveLength(1);

    // The holder's /stop: its reduce-only flatten is exempt, so it closes during the throttle.
    await h.reply(await h.send({ id: 'throttle-stop', userId: holder, type: 'session.stop' }), 'done');
    expect(h.sim.position(paperCredentials(holder).apiKey, 'BTCUSDT')).toBe(0);
    expect(h.service.engine.current.durable.sessions.get(holder)?.status).toBe('closed');

    // Past the not-found grace the entry is settled as never placed: sent once, on the exchange never.
    await beats(h, settleEntryMs);
    expect(entries()).toEqual([expect.objectContaining({ status: 'REJECTED', rejectReason: expect.stringMatching(/never reached the exchange/) as string })]);
    expect(throttledAnswers()).toHaveLength(1);
    expect(h.sim.ordersOf(entrantKey)).toEqual([]);
    expect(h.sim.position(entrantKey, 'BTCUSDT')).toBe(0);

    // The throttle lifts: the next signal's entry goes out and fills (through the bounded fallback).
    h.sim.faults.systemThrottle = false;
    h.sim.faults.forcePostOnlyReject = true;
    try {
      // The beats ran the clock ahead of the feed: the entry waits for a quote young enough to price it on.
      await waitFor('a fresh quote', () => {
        const quote = quoteOf(h.service.engine.current.market.venues, 'paper', 'BTCUSDT');
        return quote !== undefined && quoteAgeMs(quote, clock.nowMs()) <= h.config.entryQuoteMaxAgeMs;
      });
      await h.reply(await route('throttle-route-3'), 'done');
      await waitFor('a position after the throttle', () => h.sim.position(entrantKey, 'BTCUSDT') > 0);
    } finally {
      h.sim.faults.forcePostOnlyReject = false;
    }
    expect(throttledAnswers()).toHaveLength(1);
    expect(h.service.engine.current.durable.sessions.get(entrant)?.status).toBe('active');
  });
});
