import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { paperCredentials } from '../../src/engine/accounts.js';
import { ManualClock } from '../../src/engine/clock.js';
import { useHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// Audit failure D: when market data stopped, the audited engine only logged a warning while the stop-loss,
// fed by ticks, never fired. Here a silent feed flattens the position within staleFeedMs + one watchdog
// period on the engine's clock, and the kill switch then blocks new entries.

const staleFeedMs = 30_000;
const watchdogPeriodMs = 1_000;

describe('audit D: stale market data flattens and blocks entries', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 24, 12, 0, 0));
  const harness = useHarness({ label: 'audit-d', clock, timer: 'manual', config: { staleFeedMs } });

  it('flattens on a silent feed and refuses new entries', async () => {
    const h = harness();
    const user = 'd-user';
    await h.reply(await h.send({ id: 'd-start', userId: user, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
    h.sim.faults.forcePostOnlyReject = true;
    await h.send({ id: 'd-sig-1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
    await waitFor('a position', () => h.sim.position(paperCredentials(user).apiKey, 'BTCUSDT') !== 0);
    await waitFor('the engine to see it', () => (h.service.engine.current.durable.sessions.get(user)?.positions.BTCUSDT?.qty ?? 0) !== 0);
    h.sim.faults.forcePostOnlyReject = false;

    // The feed goes silent. Just under the bound nothing happens...
    h.sim.faults.wsSilent = true;
    await sleep(200); // let ticks already on the wire land before the clock moves
    clock.advance(staleFeedMs - watchdogPeriodMs);
    await h.service.timerBeat();
    expect(h.service.engine.current.durable.sessions.get(user)?.killSwitch.engaged).toBe(false);

    // ...and within staleFeedMs + one watchdog period it is flat, with the kill switch engaged.
    clock.advance(2 * watchdogPeriodMs);
    await h.service.timerBeat();
    const session = h.service.engine.current.durable.sessions.get(user);
    expect(session?.killSwitch.engaged).toBe(true);
    expect(session?.killSwitch.reason).toContain('stale_feed');
    await waitFor('flat on the exchange', () => h.sim.position(paperCredentials(user).apiKey, 'BTCUSDT') === 0);
    await waitFor('flat in the engine', () => h.service.engine.current.durable.sessions.get(user)?.positions.BTCUSDT?.qty === '0'); // canonical decimal: exactly zero
    const flatten = h.sim.orders().filter((o) => o.accountKey === paperCredentials(user).apiKey && o.reduceOnly && o.type === 'MARKET');
    expect(flatten.length).toBe(1);

    // New entries are blocked while the kill switch is engaged, even once the feed is back.
    h.sim.faults.wsSilent = false;
    const ordersBefore = h.sim.orders().length;
    await waitFor('a fresh quote', () => {
      const q = h.service.engine.current.market.venues.paper.quotes.BTCUSDT;
      return q !== undefined && q.receivedAtMs === clock.nowMs();
    });
    const reply = await h.reply(
      await h.send({ id: 'd-sig-2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }),
      'done',
    );
    expect(JSON.stringify(reply.result)).toContain('kill switch engaged');
    await h.service.settle();
    expect(h.sim.orders().length).toBe(ordersBefore);
  });
});
