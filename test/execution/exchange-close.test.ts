import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { sum, toUsd } from '../../src/model/decimal.js';
import type { Usd } from '../../src/model/decimal.js';
import type { Harness } from '../support/harness.js';
import { useHarness } from '../support/harness.js';
import { allOutbound } from '../support/outbound.js';
import { apiClient } from '../paper-exchange/helpers.js';
import { waitFor } from '../support/wait.js';

// A protective stop that fires on the exchange is a loss, not a reset: the engine books the stop's trade with the
// exchange's realized PnL, engages the kill switch with an alert naming the amount, and does not re-enter.

type ExchangeFill = Extract<WalEvent, { type: 'exchange_fill' }>;

async function walEvents(h: Harness): Promise<WalEvent[]> {
  return (await h.log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent);
}

describe('exchange-side close', () => {
  const harness = useHarness({ label: 'exchange-close', config: { protectiveStopCheckMs: 400 } });

  it('books a fired protective stop as a loss and engages the kill switch', async () => {
    const h = harness();
    const userId = 'gapped';
    const key = paperCredentials(userId).apiKey;
    await h.reply(await h.send({ id: 'x-start', userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000, stopLossPct: 5 }), 'done');
    h.sim.faults.forcePostOnlyReject = true;
    await h.send({ id: 'x-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
    const held = await waitFor('a long', () => (h.sim.position(key, 'BTCUSDT') > 0 ? h.sim.position(key, 'BTCUSDT') : undefined));
    h.sim.faults.forcePostOnlyReject = false;
    const stop = await waitFor('a protective stop', () => h.sim.openAlgoOrders(key)[0]);

    h.sim.setMid('BTCUSDT', stop.triggerPrice * 0.99); // gaps through the stop: the exchange closes the position
    await waitFor('flat on the exchange', () => h.sim.position(key, 'BTCUSDT') === 0);

    const fill = await waitFor('the stop booked', async () =>
      (await walEvents(h)).find((e): e is ExchangeFill => e.type === 'exchange_fill' && e.userId === userId),
    );
    expect(fill.cause).toBe('protective_stop');
    expect(fill.side).toBe('SELL');
    expect(Number(fill.qty)).toBe(held);
    // Exactly the exchange's realized PnL of that trade, as its income history books it: a loss.
    const income = (await apiClient(h.sim.restBaseUrl, key).signed('GET', '/fapi/v1/income', { limit: '1000' })).body as {
      incomeType: string;
      income: string;
    }[];
    const exchangePnl = sum(income.filter((r) => r.incomeType === 'REALIZED_PNL').map((r) => toUsd(r.income)));
    expect(fill.realizedPnlUsd).toBe(exchangePnl);
    expect(Number(fill.realizedPnlUsd)).toBeLessThan(-400); // most of the 500 USD budget, and more through the gap

    const events = await walEvents(h);
    expect(events.some((e) => e.type === 'kill_switch.engaged' && e.userId === userId)).toBe(true);
    const alert = (await allOutbound(h.log)).find((e) => e.type === 'alert' && e.userId === userId && e.kind === 'exchange_close');
    expect(alert?.type === 'alert' ? alert.message : '').toContain(`realized ${fill.realizedPnlUsd} USDT`);
    expect(alert?.type === 'alert' ? alert.message : '').toContain('protective stop fired on BTCUSDT');

    // The booked loss shows in the session; the next reconciles find the position equal and adopt nothing.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const status = await h.reply(await h.send({ id: 'x-status', userId, type: 'status' }), 'done');
    const session = (status.result as { session: Record<string, number> }).session;
    const charged = (await walEvents(h)).flatMap((e) => ((e.type === 'fee' || e.type === 'exchange_fill') && e.userId === userId ? [e.feeUsd as Usd] : []));
    const feesUsd = sum(charged);
    expect(session.realizedPnlUsd).toBe(Number(fill.realizedPnlUsd));
    expect(session.feesUsd).toBe(Number(feesUsd));
    expect(session.equityUsd).toBeCloseTo(10_000 + Number(fill.realizedPnlUsd) - Number(feesUsd), 6);
    expect((await walEvents(h)).some((e) => e.type === 'position.adopted' && e.userId === userId)).toBe(false);

    // No re-entry on the next signal.
    const ordersBefore = h.sim.orders().filter((o) => o.accountKey === key).length;
    await h.send({ id: 'x-route-2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.6 }] });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(h.sim.position(key, 'BTCUSDT')).toBe(0);
    expect(h.sim.orders().filter((o) => o.accountKey === key).length).toBe(ordersBefore);
  });
});
