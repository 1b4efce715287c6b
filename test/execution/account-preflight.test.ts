import { describe, expect, it } from 'vitest';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import type { Harness } from '../support/harness.js';
import { startHarness, useHarness } from '../support/harness.js';
import { allOutbound } from '../support/outbound.js';
import { apiClient } from '../paper-exchange/helpers.js';
import { waitFor } from '../support/wait.js';

// The account preflight (issue 10 item 5) through the execution service against the paper exchange over HTTP:
// hedge mode refused with the reason, leverage and cross margin set on the exchange, margin need checked
// against the available balance, a stop beyond liquidation refused (or the default leverage lowered), bad
// leverage rejected by the contract; and a liquidation on the exchange is booked and engages the kill switch.

const accountOf = (h: Harness, userId: string) => apiClient(h.sim.restBaseUrl, paperCredentials(userId).apiKey);

async function symbolConfig(h: Harness, userId: string): Promise<{ symbol: string; leverage: number; marginType: string }[]> {
  return (await accountOf(h, userId).signed('GET', '/fapi/v1/symbolConfig')).body as { symbol: string; leverage: number; marginType: string }[];
}

describe('account preflight', () => {
  const harness = useHarness({ label: 'preflight', paperPreflight: true });

  it('refuses a session on a hedge-mode account, with the reason', async () => {
    const h = harness();
    const userId = 'hedger';
    expect((await accountOf(h, userId).signed('POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'true' })).status).toBe(200);
    const reply = await h.reply(await h.send({ id: 'pf-hedge', userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000 }));
    expect(reply.status).toBe('rejected');
    expect(reply.reason).toContain('hedge mode');
    expect(reply.reason).toContain('one-way');
  });

  it('refuses a session on an account paying fees in BNB (its fees could not be booked), and starts it once that is off', async () => {
    const h = harness();
    const userId = 'bnb-payer';
    const account = accountOf(h, userId);
    expect((await account.signed('POST', '/fapi/v1/feeBurn', { feeBurn: 'true' })).status).toBe(200);
    const reply = await h.reply(await h.send({ id: 'pf-burn', userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000 }));
    expect(reply.status).toBe('rejected');
    expect(reply.reason).toContain('fees in BNB');
    expect(reply.reason).toContain('POST /fapi/v1/feeBurn feeBurn=false');
    expect((await account.signed('POST', '/fapi/v1/feeBurn', { feeBurn: 'false' })).status).toBe(200);
    expect((await h.reply(await h.send({ id: 'pf-burn-off', userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000 }))).status).toBe('done');
  });

  it('sets the asked leverage and cross margin on every traded symbol before the session starts', async () => {
    const h = harness();
    const userId = 'levered';
    await accountOf(h, userId).signed('POST', '/fapi/v1/marginType', { symbol: 'ETHUSDT', marginType: 'ISOLATED' });
    const reply = await h.reply(await h.send({ id: 'pf-lev', userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000, leverage: 3 }));
    expect(reply.status).toBe('done');
    const config = await symbolConfig(h, userId);
    expect(config.map((c) => [c.symbol, c.leverage, c.marginType])).toEqual(h.config.symbols.map((s) => [s, 3, 'CROSSED']));
  });

  it('lowers the default leverage until the stop-loss lies inside the liquidation price; refuses an asked one', async () => {
    const h = harness();
    // 30 % stop: at 5x liquidation is ~19.6 % away, at 3x ~32.9 %.
    expect(
      (await h.reply(await h.send({ id: 'pf-lower', userId: 'wide-stop', type: 'session.start', mode: 'paper', capitalUsd: 1_000, stopLossPct: 30 }))).status,
    ).toBe('done');
    expect((await symbolConfig(h, 'wide-stop')).every((c) => c.leverage === 3)).toBe(true);
    const refused = await h.reply(
      await h.send({ id: 'pf-beyond', userId: 'bold', type: 'session.start', mode: 'paper', capitalUsd: 1_000, stopLossPct: 5, leverage: 50 }),
    );
    expect(refused.status).toBe('rejected');
    expect(refused.reason).toContain('beyond the liquidation price at 50x');
  });

  it("pauses a running session's entries when its leverage is raised by hand (ACCOUNT_CONFIG_UPDATE); /resume rechecks the account and sets it back", async () => {
    const h = harness();
    const userId = 'hand-levered';
    expect((await h.reply(await h.send({ id: 'pf-acu', userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000, leverage: 3 }))).status).toBe('done');
    expect((await accountOf(h, userId).signed('POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: '40' })).status).toBe(200);
    await waitFor('entries paused', () => h.service.engine.current.durable.sessions.get(userId)?.paused === true);
    const alert = await waitFor('the alert', async () =>
      (await allOutbound(h.log)).find((e) => e.type === 'alert' && e.userId === userId && e.kind === 'account'),
    );
    expect(alert.type === 'alert' ? alert.message : '').toContain('the leverage of BTCUSDT was raised to 40x');

    // /resume checks the account again: refused while it does not fit (multi-assets on), and once it does the
    // session's leverage is set back on the exchange before its entries resume.
    const account = accountOf(h, userId);
    expect((await account.signed('POST', '/fapi/v1/multiAssetsMargin', { multiAssetsMargin: 'true' })).status).toBe(200);
    const refused = await h.reply(await h.send({ id: 'pf-acu-r1', userId, type: 'session.resume' }));
    expect(refused.status).toBe('rejected');
    expect(refused.reason).toContain('multi-assets margin mode');
    expect(h.service.engine.current.durable.sessions.get(userId)?.paused).toBe(true);
    expect((await account.signed('POST', '/fapi/v1/multiAssetsMargin', { multiAssetsMargin: 'false' })).status).toBe(200);
    expect((await h.reply(await h.send({ id: 'pf-acu-r2', userId, type: 'session.resume' }))).status).toBe('done');
    expect(h.service.engine.current.durable.sessions.get(userId)?.paused).toBe(false);
    expect((await symbolConfig(h, userId)).find((c) => c.symbol === 'BTCUSDT')?.leverage).toBe(3);
  });

  it("does not hold another user's /stop while a start's account check waits for the exchange", async () => {
    const h = harness();
    expect((await h.reply(await h.send({ id: 'pf-hold-1', userId: 'holder', type: 'session.start', mode: 'paper', capitalUsd: 1_000 }))).status).toBe('done');
    // The preflight's first read now takes 2 s to answer.
    h.sim.faults.latencyByPathMs['/fapi/v1/positionSide/dual'] = 2_000;
    try {
      const start = await h.send({ id: 'pf-slow', userId: 'slowpoke', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
      const stop = await h.send({ id: 'pf-hold-stop', userId: 'holder', type: 'session.stop' });
      await h.reply(start);
      await h.reply(stop);
      const replies = (await allOutbound(h.log)).flatMap((e) => (e.type === 'reply' && (e.commandId === start || e.commandId === stop) ? [e.commandId] : []));
      // The stop was first answered while the start's check waited: it used to be decided after it.
      expect([...new Set(replies)]).toEqual([stop, start]);
      // A user's own commands keep their order: a stop sent right after a start waits for its check, and stops it.
      const ownStart = await h.send({ id: 'pf-slow-2', userId: 'quick-quitter', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
      const ownStop = await h.send({ id: 'pf-slow-2-stop', userId: 'quick-quitter', type: 'session.stop' });
      expect((await h.reply(ownStart)).status).toBe('done');
      expect((await h.reply(ownStop)).status).not.toBe('rejected');
    } finally {
      delete h.sim.faults.latencyByPathMs['/fapi/v1/positionSide/dual'];
    }
  });

  it('refuses capital whose margin need exceeds the available balance, and bad leverage, without a crash', async () => {
    const h = harness();
    // 100 000 USDT wallet; 1 000 000 at 5x needs 200 000.
    const rich = await h.reply(await h.send({ id: 'pf-rich', userId: 'dreamer', type: 'session.start', mode: 'paper', capitalUsd: 1_000_000 }));
    expect(rich.status).toBe('rejected');
    expect(rich.reason).toContain('available balance');
    for (const [n, leverage] of [
      [1, 0],
      [2, -5],
      [3, 2.5],
      [4, 500],
      [5, '20'],
    ] as const) {
      const bad = await h.reply(await h.send({ id: `pf-bad-${n}`, userId: 'fumbler', type: 'session.start', mode: 'paper', capitalUsd: 1_000, leverage }));
      expect(bad.status).toBe('rejected');
      expect(bad.reason).toContain('leverage');
    }
    // Nothing lost: the engine still starts a good session for the same user.
    const good = await h.reply(await h.send({ id: 'pf-good', userId: 'fumbler', type: 'session.start', mode: 'paper', capitalUsd: 1_000 }));
    expect(good.reason ?? '').toBe('');
    expect(good.status).toBe('done');
  });
});

/** Starts a 10 000 USDT paper session and takes it to a full long BTC at market; returns its paper account key. */
async function openFullLong(h: Harness, userId: string, tag: string): Promise<string> {
  const key = paperCredentials(userId).apiKey;
  await h.reply(await h.send({ id: `${tag}-start`, userId, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }), 'done');
  h.sim.faults.forcePostOnlyReject = true;
  await h.send({ id: `${tag}-route`, userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 1 }] });
  // A filled BUY, not a long position seen by polling: a session within its liquidation alert distance is flattened
  // a few ms after the fill, between two polls.
  await waitFor('a long', () => (h.sim.orders().some((o) => o.accountKey === key && o.side === 'BUY' && o.status === 'FILLED') ? true : undefined));
  h.sim.faults.forcePostOnlyReject = false;
  return key;
}

/** Holds the price still, then moves it just past the long's liquidation price: the exchange closes it (autoclose-). */
async function liquidate(h: Harness, key: string): Promise<void> {
  h.sim.pausePriceProcess(true);
  const [risk] = (await apiClient(h.sim.restBaseUrl, key).signed('GET', '/fapi/v3/positionRisk', { symbol: 'BTCUSDT' })).body as {
    liquidationPrice: string;
  }[];
  const liquidationPrice = Number(risk?.liquidationPrice);
  expect(liquidationPrice).toBeGreaterThan(0);
  h.sim.setMid('BTCUSDT', liquidationPrice * 0.999);
  await waitFor('flat on the exchange', () => h.sim.position(key, 'BTCUSDT') === 0);
  expect(h.sim.orders().some((o) => o.accountKey === key && o.clientOrderId.startsWith('autoclose-'))).toBe(true);
}

const walOf = async (h: Harness): Promise<WalEvent[]> => (await h.log.readWal(null, 100_000)).map((r) => JSON.parse(r.data) as WalEvent);

describe('liquidation', () => {
  it('books an autoclose- liquidation as a loss and engages the kill switch', async () => {
    // A thin wallet: a 10 000 USDT session on 1 000 USDT is liquidated by a ~10 % fall.
    const sim = await startSimulator({ port: 0, seed: 13, priceStepMs: 50, startingBalanceUsd: 1_000 });
    const h = await startHarness({ label: 'liquidation', sim });
    try {
      const userId = 'liquidated';
      const key = await openFullLong(h, userId, 'lq');
      await liquidate(h, key);

      const fill = await waitFor('the liquidation booked', async () =>
        (await walOf(h)).find((e): e is Extract<WalEvent, { type: 'exchange_fill' }> => e.type === 'exchange_fill' && e.userId === userId),
      );
      expect(fill.cause).toBe('liquidation');
      expect(Number(fill.realizedPnlUsd)).toBeLessThan(0);
      await waitFor('the kill switch', async () => ((await walOf(h)).some((e) => e.type === 'kill_switch.engaged' && e.userId === userId) ? true : undefined));
      const alert = (await allOutbound(h.log)).find((e) => e.type === 'alert' && e.userId === userId && e.kind === 'exchange_close');
      expect(alert?.type === 'alert' ? alert.message : '').toContain('liquidation');
    } finally {
      await h.close();
      await sim.close();
    }
  });

  it('learns a liquidation its push never told from the trade list and the order behind it, and engages the kill switch', async () => {
    const sim = await startSimulator({ port: 0, seed: 19, priceStepMs: 50, startingBalanceUsd: 1_000 });
    const h = await startHarness({
      label: 'liq-deaf',
      sim,
      // The stream's silence is not probed: the liquidation is learnt from the periodic position read alone.
      connector: { listenKeyKeepaliveIntervalMs: 3_600_000, userStreamSilenceProbeMs: 3_600_000 },
      config: { protectiveStopCheckMs: 300 },
    });
    try {
      const userId = 'liquidated-unheard';
      const key = await openFullLong(h, userId, 'ld');
      h.sim.faults.userStreamSilent = true;
      await liquidate(h, key);

      const engaged = await waitFor('the kill switch', async () =>
        (await walOf(h)).find((e): e is Extract<WalEvent, { type: 'kill_switch.engaged' }> => e.type === 'kill_switch.engaged' && e.userId === userId),
      );
      expect(engaged.reason).toBe('liquidation');
      const alert = (await allOutbound(h.log)).find((e) => e.type === 'alert' && e.userId === userId && e.kind === 'exchange_close');
      expect(alert?.type === 'alert' ? alert.message : '').toMatch(/liquidation on BTCUSDT \(order autoclose-.*learnt from the trade list: realized -/);
    } finally {
      h.sim.faults.userStreamSilent = false;
      await h.close();
      await sim.close();
    }
  });

  it('alerts and flattens a position that drifts within liquidationAlertDistanceBps of its liquidation price', async () => {
    // ~10x on a 1 000 USDT wallet: liquidation ~9.6 % below entry, inside a 20 % alert distance.
    const sim = await startSimulator({ port: 0, seed: 17, priceStepMs: 50, startingBalanceUsd: 1_000 });
    const h = await startHarness({ label: 'liq-watch', sim, config: { liquidationAlertDistanceBps: 2_000, protectiveStopCheckMs: 300 } });
    try {
      const userId = 'drifter';
      const key = await openFullLong(h, userId, 'lw');
      await waitFor('flattened by the engine', () => h.sim.position(key, 'BTCUSDT') === 0);
      const alert = await waitFor('the alert', async () =>
        (await allOutbound(h.log)).find((e) => e.type === 'alert' && e.userId === userId && e.kind === 'kill_switch'),
      );
      expect(alert.type === 'alert' ? alert.message : '').toMatch(/BTCUSDT is [\d.]+ bps from its liquidation price/);
      // The engine closed it, not the exchange.
      expect(h.sim.orders().some((o) => o.accountKey === key && o.clientOrderId.startsWith('autoclose-'))).toBe(false);
    } finally {
      await h.close();
      await sim.close();
    }
  });
});

// Later checks, on an engine of their own: every start's preflight spends request weight, and the tests above leave
// little of the minute's budget.
describe('account preflight, later checks', () => {
  const harness = useHarness({ label: 'preflight-later', paperPreflight: true });

  it("pauses a running session's entries when a traded symbol is switched to isolated margin by hand; /resume sets cross margin back", async () => {
    const h = harness();
    const userId = 'hand-isolated';
    expect((await h.reply(await h.send({ id: 'pf-mt', userId, type: 'session.start', mode: 'paper', capitalUsd: 1_000 }))).status).toBe('done');
    expect((await symbolConfig(h, userId)).find((c) => c.symbol === 'BTCUSDT')?.marginType).toBe('CROSSED');
    expect((await accountOf(h, userId).signed('POST', '/fapi/v1/marginType', { symbol: 'BTCUSDT', marginType: 'ISOLATED' })).status).toBe(200);
    await waitFor('entries paused', () => h.service.engine.current.durable.sessions.get(userId)?.paused === true);
    const alert = await waitFor('the alert', async () =>
      (await allOutbound(h.log)).find((e) => e.type === 'alert' && e.userId === userId && e.kind === 'account'),
    );
    expect(alert.type === 'alert' ? alert.message : '').toContain('the margin type of BTCUSDT was switched to isolated');
    expect((await h.reply(await h.send({ id: 'pf-mt-r', userId, type: 'session.resume' }))).status).toBe('done');
    expect(h.service.engine.current.durable.sessions.get(userId)?.paused).toBe(false);
    expect((await symbolConfig(h, userId)).find((c) => c.symbol === 'BTCUSDT')?.marginType).toBe('CROSSED');
  });

  it("does not hold another user's /stop behind a route that waits for a start's account check", async () => {
    const h = harness();
    expect((await h.reply(await h.send({ id: 'pf-rh-1', userId: 'route-holder', type: 'session.start', mode: 'paper', capitalUsd: 1_000 }))).status).toBe(
      'done',
    );
    h.sim.faults.latencyByPathMs['/fapi/v1/positionSide/dual'] = 2_000;
    try {
      const start = await h.send({ id: 'pf-rh-slow', userId: 'route-slowpoke', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
      // A route read between them is held behind the start (a fleet command waits for what was held before it).
      const route = await h.send({ id: 'pf-rh-route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0 }] });
      const stop = await h.send({ id: 'pf-rh-stop', userId: 'route-holder', type: 'session.stop' });
      await h.reply(start);
      await h.reply(route);
      await h.reply(stop);
      const replies = (await allOutbound(h.log)).flatMap((e) => (e.type === 'reply' && [start, route, stop].includes(e.commandId) ? [e.commandId] : []));
      // The stop used to wait for the route, and so for the start's check.
      expect([...new Set(replies)]).toEqual([stop, start, route]);
    } finally {
      delete h.sim.faults.latencyByPathMs['/fapi/v1/positionSide/dual'];
    }
  });
});
