import { describe, expect, it } from 'vitest';
import { paperCredentials } from '../../src/engine/accounts.js';
import { useChildFixture } from '../support/child-fixture.js';
import { useHarness } from '../support/harness.js';
import { allOutbound } from '../support/outbound.js';
import { waitFor } from '../support/wait.js';

// The exchange-side protective stop: it rests on the exchange while a position is held, so the exchange
// closes the position even when the engine is gone for good; it is re-placed when it disappears and moved
// when the stop-loss changes.

describe('protective stop survives the engine', () => {
  const f = useChildFixture('protective-kill', { seed: 8, priceStepMs: 50 });

  it('closes the position on the exchange after the engine was killed for good', async () => {
    const key = paperCredentials('guarded').apiKey;
    await f.start();
    await f.log.appendCommand(JSON.stringify({ id: 'g-start', userId: 'guarded', type: 'session.start', mode: 'paper', capitalUsd: 10_000, stopLossPct: 5 }));
    f.sim.faults.forcePostOnlyReject = true;
    await f.log.appendCommand(JSON.stringify({ id: 'g-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }));
    const qty = await waitFor('a long position', () => (f.sim.position(key, 'BTCUSDT') > 0 ? f.sim.position(key, 'BTCUSDT') : undefined));
    f.sim.faults.forcePostOnlyReject = false;
    const stop = await waitFor('a protective stop on the exchange', () => f.sim.openAlgoOrders(key)[0]);
    expect(stop.side).toBe('SELL');
    const entry = f.sim.orders().find((o) => o.accountKey === key)?.avgPrice;
    // Trigger where this position alone loses the 5 % budget (500 USD), rounded toward safety.
    expect(stop.triggerPrice).toBeGreaterThan(Number(entry) - 500 / qty - 0.2);
    expect(stop.triggerPrice).toBeLessThan(Number(entry));

    await f.service?.kill('SIGKILL'); // and never restarted
    f.sim.setMid('BTCUSDT', stop.triggerPrice * 0.97);
    await waitFor('the exchange to close the position', () => f.sim.position(key, 'BTCUSDT') === 0);
  });
});

describe('protective stop maintenance', () => {
  const harness = useHarness({ label: 'protective', config: { protectiveStopCheckMs: 300 } });

  it('re-places a stop that vanished, with an alert, and moves it when the stop-loss changes', async () => {
    const h = harness();
    const key = paperCredentials('kept').apiKey;
    await h.reply(await h.send({ id: 'k-start', userId: 'kept', type: 'session.start', mode: 'paper', capitalUsd: 10_000, stopLossPct: 5 }), 'done');
    h.sim.faults.forcePostOnlyReject = true;
    await h.send({ id: 'k-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: -0.5 }] });
    await waitFor('a short', () => h.sim.position(key, 'ETHUSDT') < 0);
    h.sim.faults.forcePostOnlyReject = false;
    const first = await waitFor('a protective stop', () => h.sim.openAlgoOrders(key)[0]);
    expect(first.side).toBe('BUY');

    h.sim.cancelAlgoOrdersBehindOurBack(key);
    const second = await waitFor('the stop re-placed', () => h.sim.openAlgoOrders(key).find((s) => s.clientAlgoId !== first.clientAlgoId));
    expect(second.triggerPrice).toBeCloseTo(first.triggerPrice, 6);
    await waitFor('an alert about it', async () =>
      (await allOutbound(h.log)).some((e) => e.type === 'alert' && e.kind === 'protective_stop' && e.userId === 'kept'),
    );

    await h.reply(await h.send({ id: 'k-sl', userId: 'kept', type: 'session.set_stoploss', pct: 2 }), 'done');
    const moved = await waitFor('the stop moved closer', () => {
      const open = h.sim.openAlgoOrders(key);
      return open.length === 1 && open[0] && open[0].triggerPrice < second.triggerPrice ? open[0] : undefined;
    });
    expect(moved.clientAlgoId).not.toBe(second.clientAlgoId);

    await h.reply(await h.send({ id: 'k-stop', userId: 'kept', type: 'session.stop' }), 'done');
    await waitFor('no stop left once flat', () => h.sim.openAlgoOrders(key).length === 0);
  });
});
