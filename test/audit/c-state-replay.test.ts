import { describe, expect, it } from 'vitest';
import { defaultCoreConfig } from '../../src/core/config.js';
import { isTerminal } from '../../src/core/orders.js';
import { toQty } from '../../src/model/decimal.js';
import type { DurableState } from '../../src/core/state.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { replayLog } from '../../src/engine/engine.js';
import type { ChildService } from '../support/child.js';
import { allOutbound } from '../support/outbound.js';
import { useChildFixture } from '../support/child-fixture.js';
import { waitFor } from '../support/wait.js';

// Audit failure C: the audited engine never replayed its WAL and booted blank. Here the execution service
// is SIGKILLed with sessions, stop-losses, a kill switch, positions and orders in flight; after a restart
// its state equals the state before the kill, positions match the exchange and no order was sent twice.

function sessionView(state: DurableState): unknown {
  return Object.fromEntries(
    state.sessions.values().map((s) => [
      s.userId,
      {
        mode: s.mode,
        status: s.status,
        capitalUsd: s.capitalUsd,
        stopLossPct: s.stopLossPct,
        horizonDeadlineMs: s.horizonDeadlineMs,
        paused: s.paused,
        killSwitch: s.killSwitch,
      },
    ]),
  );
}

describe('audit C: state survives SIGKILL', () => {
  const f = useChildFixture('audit-c', { seed: 5, priceStepMs: 50 });
  const start = (): Promise<ChildService> => f.start();
  const send = (c: Record<string, unknown>): Promise<string> => f.log.appendCommand(JSON.stringify(c));
  const answered = async (id: string): Promise<boolean> =>
    (await allOutbound(f.log)).some((e) => e.type === 'reply' && e.commandId === id && e.status !== 'accepted');
  const state = async (): Promise<DurableState> => (await replayLog(f.log, defaultCoreConfig)).durable;

  it('rebuilds sessions, stop-losses, horizons, kill switches and positions, and sends no order twice', async () => {
    try {
      await scenario();
    } catch (error) {
      // Leave the evidence next to the failure: what the engine answered and what reached the exchange.
      console.log(JSON.stringify({ outbound: await allOutbound(f.log), exchange: f.sim.orders(), output: f.service?.output() }));
      throw error;
    }
  });

  async function scenario(): Promise<void> {
    await start();
    await send({ id: 'c-start-1', userId: 'c1', type: 'session.start', mode: 'paper', capitalUsd: 20_000, stopLossPct: 10 });
    await send({ id: 'c-start-2', userId: 'c2', type: 'session.start', mode: 'paper', capitalUsd: 15_000, horizonHours: 48 });
    await send({ id: 'c-start-3', userId: 'c3', type: 'session.start', mode: 'paper', capitalUsd: 5_000 });
    await send({ id: 'c-sl-2', userId: 'c2', type: 'session.set_stoploss', pct: 7.5 });
    await send({ id: 'c-pause-2', userId: 'c2', type: 'session.pause' });
    await waitFor('sessions', () => answered('c-pause-2'));

    // Fills straight away: the post-only order is refused (-5022) and the bounded fallback takes.
    f.sim.faults.forcePostOnlyReject = true;
    await send({ id: 'c-sig-1', userId: 'signals', type: 'signals.route', userIds: ['c1', 'c3'], signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
    await waitFor(
      'positions on the exchange',
      () => f.sim.position(paperCredentials('c1').apiKey, 'BTCUSDT') !== 0 && f.sim.position(paperCredentials('c3').apiKey, 'BTCUSDT') !== 0,
    );
    await waitFor('positions in the engine', async () => {
      const s = await state();
      return (s.sessions.get('c1')?.positions.BTCUSDT?.qty ?? 0) !== 0 && (s.sessions.get('c3')?.positions.BTCUSDT?.qty ?? 0) !== 0;
    });

    // c3's horizon passes: kill switch engaged, flattened.
    await send({ id: 'c-hz-3', userId: 'c3', type: 'session.set_horizon', hours: 0.0002 });
    await waitFor('c3 kill switch', async () => (await state()).sessions.get('c3')?.killSwitch.engaged === true);
    await waitFor('c3 flat', () => f.sim.position(paperCredentials('c3').apiKey, 'BTCUSDT') === 0);

    // Orders in flight at the moment of the kill: a slow exchange holds them open.
    f.sim.faults.forcePostOnlyReject = false;
    f.sim.pausePriceProcess(true); // the post-only order rests instead of filling
    f.sim.faults.latencyMs = 1_500;
    await send({ id: 'c-sig-2', userId: 'signals', type: 'signals.route', userIds: ['c1'], signals: [{ symbol: 'ETHUSDT', weight: 0.3 }] });
    await waitFor('ETH order planned', async () => (await state()).orders.some((o) => o.symbol === 'ETHUSDT' && !isTerminal(o)));
    await f.service?.kill('SIGKILL');
    const before = await state();

    f.sim.faults.latencyMs = 0;
    f.sim.pausePriceProcess(false);
    await start();
    const after = await waitFor('unknown orders resolved after restart', async () => {
      const s = await state();
      return s.orders.values().every((o) => o.status !== 'pending' && o.status !== 'unknown') ? s : undefined;
    });

    expect(sessionView(after)).toEqual(sessionView(before));
    expect(after.sessions.get('c2')?.stopLossPct).toBe(7.5);
    expect(after.sessions.get('c3')?.killSwitch.engaged).toBe(true);
    for (const userId of ['c1', 'c2', 'c3']) {
      for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
        const exchangeQty = f.sim.position(paperCredentials(userId).apiKey, symbol);
        expect(after.sessions.get(userId)?.positions[symbol]?.qty ?? '0', `${userId} ${symbol}`).toBe(toQty(exchangeQty)); // exact: the simulator's number is its decimal's shortest form
      }
    }
    expect(after.sessions.get('c1')?.positions.BTCUSDT?.qty).toBe(before.sessions.get('c1')?.positions.BTCUSDT?.qty);
    const ids = f.sim.orders().map((o) => o.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
    const planned = new Set(after.orders.keys());
    expect(ids.filter((id) => !planned.has(id))).toEqual([]);
  }
});
