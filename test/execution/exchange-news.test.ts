import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { Harness } from '../support/harness.js';
import { useHarness } from '../support/harness.js';
import { allOutbound } from '../support/outbound.js';
import { holdingBtc } from '../support/holding-btc.js';
import { waitFor } from '../support/wait.js';

// Exchange news against the simulator over HTTP/WS, on a manual clock with manual watchdog beats: a -2022
// fixes the very symbol it is about, a recurring rejection (-4131 on a thin book) is said once and backed off,
// and a position outside the traded symbols is reported and left alone (the engine here trades BTC and ETH;
// the account also holds SOL).

const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));

async function alertsFor(h: Harness, userId: string): Promise<string[]> {
  return (await allOutbound(h.log))
    .filter((e): e is Extract<OutboundEvent, { type: 'alert' }> => e.type === 'alert' && e.userId === userId)
    .map((e) => e.message);
}

describe('exchange news', () => {
  const harness = useHarness({ label: 'exchange-news', clock, timer: 'manual', config: { symbols: ['BTCUSDT', 'ETHUSDT'] } });

  it('-2022: the reconcile the rejection asks for fixes that symbol, and /stop completes', async () => {
    const h = harness();
    const userId = 'news-2022';
    await holdingBtc(h, userId, clock);
    // The position is closed behind the engine's back (a manual trade on the exchange).
    const account = h.connector.account(paperCredentials(userId));
    const qty = h.sim.position(paperCredentials(userId).apiKey, 'BTCUSDT');
    expect(
      (
        await account.placeOrder({
          clientOrderId: 'manual-close',
          symbol: 'BTCUSDT',
          side: qty > 0 ? 'SELL' : 'BUY',
          type: 'MARKET',
          quantity: Math.abs(qty).toFixed(3),
          reduceOnly: true,
        })
      ).kind,
    ).toBe('accepted');
    // The engine's flatten is refused -2022 (nothing to reduce); the read it asks for brings the truth.
    await h.send({ id: 'news-2022-stop', userId, type: 'session.stop' });
    await h.reply('news-2022-stop', 'done');
    expect(h.service.engine.current.durable.sessions.get(userId)?.status).toBe('closed');
  });

  it('a recurring -4131 is alerted once, then once as recurring, retried at doubling intervals, and the stop completes once the book is back', async () => {
    const h = harness();
    const userId = 'news-4131';
    await holdingBtc(h, userId, clock);
    h.sim.faults.rejectMarketOrders = true;
    await h.send({ id: 'news-4131-stop', userId, type: 'session.stop' });
    await h.reply('news-4131-stop', 'accepted');
    const rejectedFlattens = (): number =>
      h.service.engine.current.durable.orders.values().filter((o) => o.userId === userId && o.purpose === 'flatten' && o.status === 'REJECTED').length;
    await waitFor('the first flatten refused', async () => ((await alertsFor(h, userId)).some((m) => /rejected: -4131/.test(m)) ? true : undefined));
    // 60 simulated seconds of watchdog beats, one per second.
    for (let s = 0; s < 60; s += 1) {
      clock.advance(1_000);
      await h.service.timerBeat();
      await h.service.settle();
    }
    const alerts = (await alertsFor(h, userId)).filter((m) => /-4131/.test(m));
    expect(alerts).toEqual([expect.stringMatching(/rejected: -4131/), expect.stringMatching(/rejected again: -4131.*backs off/)]);
    // Retried after 2, 4, 8, 16 and 32 s: 6 attempts in the first 62 s, not 31.
    expect(rejectedFlattens()).toBeLessThanOrEqual(7);
    expect(rejectedFlattens()).toBeGreaterThanOrEqual(5);
    h.sim.faults.rejectMarketOrders = false;
    for (let s = 0; s < 65 && h.service.engine.current.durable.sessions.get(userId)?.status !== 'closed'; s += 1) {
      clock.advance(1_000);
      await h.service.timerBeat();
      await h.service.settle();
      await sleep(5);
    }
    await h.reply('news-4131-stop', 'done');
  });

  it('a position outside the traded symbols is reported once and never touched', async () => {
    const h = harness();
    const userId = 'news-foreign';
    const key = paperCredentials(userId).apiKey;
    const account = h.connector.account(paperCredentials(userId));
    expect(
      (await account.placeOrder({ clientOrderId: 'manual-sol', symbol: 'SOLUSDT', side: 'BUY', type: 'MARKET', quantity: '2.00', reduceOnly: false })).kind,
    ).toBe('accepted');
    await h.reply(await h.send({ id: 'foreign-start', userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000, stopLossPct: 5 }), 'done');
    for (let s = 0; s < 40; s += 1) {
      clock.advance(1_000);
      await h.service.timerBeat();
      await h.service.settle();
    }
    const session = h.service.engine.current.durable.sessions.get(userId);
    expect(Object.keys(session?.positions ?? {})).toEqual([]);
    expect(session?.killSwitch.engaged).toBe(false);
    expect((await alertsFor(h, userId)).filter((m) => /SOLUSDT/.test(m))).toEqual([expect.stringMatching(/also holds 2(\.0+)? SOLUSDT.*left untouched/)]);
    expect(h.sim.position(key, 'SOLUSDT')).toBe(2);
    await h.reply(await h.send({ id: 'foreign-stop', userId, type: 'session.stop' }), 'done');
    expect(h.sim.position(key, 'SOLUSDT')).toBe(2);
  });
});
