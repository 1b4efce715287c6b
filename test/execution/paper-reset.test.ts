import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import type { EngineLog } from '../../src/log/port.js';
import { commandId, type Harness, useHarness } from '../support/harness.js';
import { allOutbound } from '../support/outbound.js';
import { waitFor } from '../support/wait.js';

// Issue 17: a paper account reset through the paper exchange's control API is, to the engine, an account changed
// behind its back, as a real one can be: the reset pushes an ACCOUNT_UPDATE with the position flat, the engine
// reads the account again (reconcile), books the position flat with an alert, and does not trade on the position
// that vanished. The periodic stop check (which also reconciles) is set far beyond the test's span, so only the
// push can be what the engine acts on.

/** Longer than this test runs: the periodic check (list stops + reconcile) never comes round after the first. */
const stopCheckBeyondTestMs = 600_000;

async function walEvents(log: EngineLog): Promise<WalEvent[]> {
  return (await log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent);
}

interface SessionView {
  positions: Record<string, { qty: number }>;
  openOrders: { clientOrderId: string; status: string }[];
  killSwitch: { engaged: boolean };
}

async function sessionOf(h: Harness, userId: string): Promise<SessionView> {
  const status = await h.reply(await h.send({ id: commandId('status'), userId, type: 'status' }), 'done');
  return (status.result as { session: SessionView }).session;
}

/** A session holding a long BTCUSDT position (the bounded fallback takes) with its protective stop; returns the qty. */
async function openLong(h: Harness, userId: string): Promise<number> {
  const key = paperCredentials(userId).apiKey;
  await h.reply(await h.send({ id: commandId('start'), userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000, stopLossPct: 5 }), 'done');
  h.sim.faults.forcePostOnlyReject = true;
  await h.send({ id: commandId('route'), userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.3 }] });
  const held = await waitFor('a long', () => (h.sim.position(key, 'BTCUSDT') > 0 ? h.sim.position(key, 'BTCUSDT') : undefined));
  h.sim.faults.forcePostOnlyReject = false;
  await waitFor('a protective stop', () => h.sim.openAlgoOrders(key)[0]);
  // The engine holds the position as its own (its book agrees with the exchange) before the reset.
  await waitFor('the position booked', async () => (await sessionOf(h, userId)).positions.BTCUSDT?.qty === held);
  return held;
}

async function resetOverHttp(h: Harness, key: string): Promise<void> {
  const reset = await fetch(`${h.sim.restBaseUrl}/sim/v1/reset?confirm=RESET&account=${encodeURIComponent(key)}`, { method: 'POST' });
  expect(await reset.json()).toEqual({ reset: [key] });
  expect(h.sim.position(key, 'BTCUSDT')).toBe(0);
}

/** The engine's alert of the vanished position: exchange_close, as for a stop that fired unreported. */
async function vanishedAlert(h: Harness, userId: string): Promise<string> {
  // The position and its stop vanished together, as when a stop fires and its trade is never reported: the
  // engine cannot tell a reset from that, so it takes the safe reading (exchange_close, kill switch engaged).
  const alert = (await allOutbound(h.log)).find((e) => e.type === 'alert' && e.userId === userId && e.kind === 'exchange_close');
  return alert?.type === 'alert' ? alert.message : '';
}

describe('a paper account reset seen by the engine', () => {
  const harness = useHarness({ label: 'paper-reset', config: { protectiveStopCheckMs: stopCheckBeyondTestMs } });

  it('reconciles on the reset push: the position is booked flat with an alert, and nothing is traded on it', async () => {
    const h = harness();
    const userId = 'wiped';
    const key = paperCredentials(userId).apiKey;
    const held = await openLong(h, userId);
    await resetOverHttp(h, key);

    const adopted = await waitFor('the position booked flat', async () =>
      (await walEvents(h.log)).find((e) => e.type === 'position.adopted' && e.userId === userId && e.symbol === 'BTCUSDT'),
    );
    expect(adopted.type === 'position.adopted' ? Number(adopted.qty) : NaN).toBe(0);
    expect(await vanishedAlert(h, userId)).toContain(`position BTCUSDT went from ${held} to 0 on the exchange`);
    const session = await sessionOf(h, userId);
    expect(session.positions.BTCUSDT).toBeUndefined();
    expect(session.killSwitch.engaged).toBe(true);

    // Nothing traded on the vanished position (no close of it), nor a re-entry on the next signal.
    await h.send({ id: 'w-route-2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.6 }] });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // The reset erased the account's order history: any order listed now was sent after it.
    expect(h.sim.orders().filter((o) => o.accountKey === key)).toEqual([]);
    expect(h.sim.openAlgoOrders(key)).toEqual([]); // no stop re-placed for it either
    expect(h.sim.position(key, 'BTCUSDT')).toBe(0);
  });

  it('a reset with an entry resting: the engine learns the order was cancelled, so the position news is not held up', async () => {
    const h = harness();
    const userId = 'wiped-resting';
    const key = paperCredentials(userId).apiKey;
    const held = await openLong(h, userId);
    // The walk stands still, so the next post-only entry rests at the bid (it neither crosses nor is traded through).
    h.sim.pausePriceProcess(true);
    try {
      await h.send({ id: commandId('route'), userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.9 }] });
      await waitFor('a resting entry', () => h.sim.orders().find((o) => o.accountKey === key && o.status === 'NEW'));
      await waitFor('the engine to know it rests', async () => (await sessionOf(h, userId)).openOrders.some((o) => o.status === 'NEW'));
      await resetOverHttp(h, key);
    } finally {
      h.sim.pausePriceProcess(false);
    }

    // Before, the order was erased unannounced: the engine kept it working (queried and cancelled it every few
    // seconds, answered "does not exist"), and that working order kept the position news from being acted on.
    const session = await waitFor('the position booked flat', async () => {
      const now = await sessionOf(h, userId);
      return now.positions.BTCUSDT === undefined ? now : undefined;
    });
    expect(session.openOrders).toEqual([]);
    expect(await vanishedAlert(h, userId)).toContain(`position BTCUSDT went from ${held} to 0 on the exchange`);
    // The cancelled order stays queryable (Binance keeps a cancelled order for 3 days), and nothing else was sent.
    expect(
      h.sim
        .orders()
        .filter((o) => o.accountKey === key)
        .map((o) => o.status),
    ).toEqual(['CANCELED']);
    expect(h.sim.openAlgoOrders(key)).toEqual([]);
  });
});
