import { describe, expect, it } from 'vitest';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { decide } from '../../src/core/decide.js';
import { CoreDriver, placed, replies, stateWithPositions, T0, testConfig, withConfig, withQuote } from './fixtures.js';

// Commands behind the operator surfaces: live approval by an admin, the user list, trades, and the equity
// samples dashboards draw their curves from.

type Equity = Extract<OutboundEvent, { type: 'equity' }>;
const equityOf = (outbound: readonly OutboundEvent[]): Equity[] => outbound.filter((e): e is Equity => e.type === 'equity');

describe('admin.approve_live', () => {
  it('lets an approved user start live only while LIVE_TRADING is on, and survives a restart', () => {
    const d = new CoreDriver({ config: withConfig({ liveTradingEnabled: true, adminUserIds: ['boss'] }) });
    const live = { userId: 'tg7', type: 'session.start', mode: 'live', capitalUsd: 100 };
    expect(replies(d.command({ id: 'l1', ...live }))[0]).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/approval/) });

    expect(replies(d.command({ id: 'a0', userId: 'tg7', type: 'admin.approve_live', targetUserId: 'tg7' }))[0]).toMatchObject({
      status: 'rejected',
      reason: 'admin only',
    });
    expect(replies(d.command({ id: 'a1', userId: 'boss', type: 'admin.approve_live', targetUserId: 'tg7' }))[0]).toMatchObject({
      status: 'done',
      result: { userId: 'tg7', liveApproved: true },
    });

    d.restart();
    d.liveFeed();
    expect(replies(d.command({ id: 'l2', ...live }))[0]).toMatchObject({ status: 'done' });
    expect(d.state.durable.sessions.get('tg7')?.mode).toBe('live');
  });

  it('withdraws an approval', () => {
    const d = new CoreDriver({ config: withConfig({ liveTradingEnabled: true, adminUserIds: ['boss'] }) });
    d.command({ id: 'a1', userId: 'boss', type: 'admin.approve_live', targetUserId: 'x' });
    expect(replies(d.command({ id: 'a2', userId: 'boss', type: 'admin.approve_live', targetUserId: 'x', approved: false }))[0]).toMatchObject({
      result: { liveApproved: false },
    });
    expect(replies(d.command({ id: 'l', userId: 'x', type: 'session.start', mode: 'live', capitalUsd: 100 }))[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/approval/),
    });
  });

  it('records an approval on an engine without LIVE_TRADING but still refuses live sessions', () => {
    const d = new CoreDriver({ config: withConfig({ liveTradingEnabled: false, adminUserIds: ['boss'] }) });
    const approval = d.command({ id: 'a1', userId: 'boss', type: 'admin.approve_live', targetUserId: 'x' });
    expect(approval.outbound.some((e) => e.type === 'alert' && /LIVE_TRADING=1 is not set/.test(e.message))).toBe(true);
    expect(replies(d.command({ id: 'l', userId: 'x', type: 'session.start', mode: 'live', capitalUsd: 100 }))[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/disabled/),
    });
  });
});

describe('admin.users and trades', () => {
  it('lists sessions to admins only', () => {
    const d = new CoreDriver({ config: withConfig({ adminUserIds: ['boss'] }) });
    d.command({ id: 's1', userId: 'alice', type: 'session.start', capitalUsd: 1_000 });
    expect(replies(d.command({ id: 'u0', userId: 'alice', type: 'admin.users' }))[0]).toMatchObject({ status: 'rejected' });
    const listed = replies(d.command({ id: 'u1', userId: 'boss', type: 'admin.users' }))[0];
    expect(listed).toMatchObject({
      status: 'done',
      result: { halted: false, users: [{ userId: 'alice', mode: 'paper', status: 'active', capitalUsd: 1_000, equityUsd: 1_000, liveApproved: false }] },
    });
  });

  it("lists only the user's own filled orders, newest first, up to the limit", () => {
    const d = new CoreDriver();
    d.tick('BTCUSDT', 50_000, 50_001);
    d.tick('ETHUSDT', 3_000, 3_000.5);
    for (const user of ['alice', 'bob']) d.command({ id: `s-${user}`, userId: user, type: 'session.start', capitalUsd: 10_000 });
    const first = placed(
      d.command({ id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.2 }], userIds: ['alice'] }),
    )[0];
    const other = placed(d.command({ id: 'r2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.2 }], userIds: ['bob'] }))[0];
    if (!first || !other) throw new Error('no entries placed');
    d.nowMs += 1_000;
    d.fill(first.order.clientOrderId, 50_000);
    d.fill(other.order.clientOrderId, 50_000);
    const second = placed(
      d.command({ id: 'r3', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.2 }], userIds: ['alice'] }),
    )[0];
    if (!second) throw new Error('no second entry');
    d.nowMs += 1_000;
    d.fill(second.order.clientOrderId, 3_000);

    const all = replies(d.command({ id: 't1', userId: 'alice', type: 'trades' }))[0]?.result as {
      trades: { clientOrderId: string; symbol: string; quantity: string }[];
    };
    expect(all.trades.map((t) => t.clientOrderId)).toEqual([second.order.clientOrderId, first.order.clientOrderId]);
    expect(all.trades[0]).toMatchObject({ symbol: 'ETHUSDT', quantity: second.order.quantity });
    const one = replies(d.command({ id: 't2', userId: 'alice', type: 'trades', limit: 1 }))[0]?.result as { trades: unknown[] };
    expect(one.trades).toHaveLength(1);
    expect(replies(d.command({ id: 't3', userId: 'alice', type: 'trades', limit: 0 }))[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/limit/),
    });
  });
});

describe('equity samples', () => {
  it('publishes at most maxEquitySamplesPerDecision in one decision; sessions due together are spread over later ones', () => {
    const sessions = 250;
    const d = new CoreDriver({ config: withConfig({ equitySampleMs: 5_000, equityIdleSampleMs: 60_000, maxEquitySamplesPerDecision: 100 }) });
    d.tick('BTCUSDT', 50_000, 50_001);
    for (let i = 0; i < sessions; i += 1) d.command({ id: `s${i}`, userId: `u${i}`, type: 'session.start', capitalUsd: 1_000 });
    d.timer(0); // every session's first sample, as it started
    // Started in the same instant, all fall due again in the same beat: a third of them waits one beat, a fifth two.
    const beats = [d.timer(60_000), d.timer(1_000), d.timer(1_000), d.timer(1_000)].map((x) => equityOf(x.outbound).length);
    expect(beats).toEqual([100, 100, 50, 0]);
    // And they stay spread: the next round comes an idle period after each one's own sample.
    const next = [d.timer(57_000), d.timer(1_000), d.timer(1_000)].map((x) => equityOf(x.outbound).length);
    expect(next).toEqual([100, 100, 50]);
  });

  it('continues a beat while samples are due beyond the bound: each part publishes at most maxEquitySamplesPerDecision, the last one no more', () => {
    const sessions = 250;
    const d = new CoreDriver({ config: withConfig({ equitySampleMs: 5_000, equityIdleSampleMs: 60_000, maxEquitySamplesPerDecision: 100 }) });
    d.tick('BTCUSDT', 50_000, 50_001);
    for (let i = 0; i < sessions; i += 1) d.command({ id: `s${i}`, userId: `u${i}`, type: 'session.start', capitalUsd: 1_000 });
    d.timer(0);
    // All 250 due again in one beat: the engine decides its continuation (bulk lane) until none is left due, instead of
    // leaving the rest to later beats (at 1 000 sessions holding, 200 samples fell due a second and 100 were taken).
    const parts = [d.timer(60_000)];
    for (let last = parts[0]; last?.continuation; last = parts[parts.length - 1]) parts.push(d.step(last.continuation));
    expect(parts.map((x) => equityOf(x.outbound).length)).toEqual([100, 100, 50]);
    // With nothing else left over, the continuation runs the equity pass alone (the other passes wait for the next beat).
    expect(parts[0]?.continuation).toEqual({ kind: 'timer', only: 'equity' });
    expect(new Set(parts.flatMap((x) => equityOf(x.outbound).map((e) => e.userId))).size).toBe(sessions);
    expect(d.timer(1_000).continuation).toBeUndefined();
  });

  it('publishes at most maxEquitySamplesPerSecond a second, continuations included: the rest wait for the next beat', () => {
    const sessions = 250;
    const config = withConfig({ equitySampleMs: 5_000, equityIdleSampleMs: 60_000, maxEquitySamplesPerDecision: 100, maxEquitySamplesPerSecond: 150 });
    const d = new CoreDriver({ config });
    d.tick('BTCUSDT', 50_000, 50_001);
    for (let i = 0; i < sessions; i += 1) d.command({ id: `s${i}`, userId: `u${i}`, type: 'session.start', capitalUsd: 1_000 });
    d.nowMs += 1_000; // the starts' own second is spent by their first samples
    d.timer(0);
    d.timer(1_000);
    d.timer(1_000);
    const first = d.timer(60_000);
    if (!first.continuation) throw new Error('no continuation');
    const second = d.step(first.continuation);
    expect([equityOf(first.outbound).length, equityOf(second.outbound).length]).toEqual([100, 50]);
    expect(second.continuation).toBeUndefined(); // 100 still due, but this second's 150 are spent
    const next = d.timer(1_000);
    expect(equityOf(next.outbound)).toHaveLength(100);
    expect(next.continuation).toBeUndefined();
  });

  it('publishes each open session once per equitySampleMs while it holds a position, once per equityIdleSampleMs while flat, and once more when it closes', () => {
    const d = new CoreDriver({ config: withConfig({ equitySampleMs: 5_000, equityIdleSampleMs: 60_000 }) });
    d.tick('BTCUSDT', 50_000, 50_001);
    d.command({ id: 's1', userId: 'alice', type: 'session.start', capitalUsd: 10_000 });
    expect(equityOf(d.timer(0).outbound)).toEqual([
      expect.objectContaining({ userId: 'alice', summary: expect.objectContaining({ equityUsd: 10_000, status: 'active' }) }),
    ]);
    expect(equityOf(d.timer(5_000).outbound)).toEqual([]); // flat: the idle period applies
    expect(equityOf(d.timer(54_999).outbound)).toEqual([]);
    expect(equityOf(d.timer(1).outbound)).toHaveLength(1);

    d.tick('BTCUSDT', 50_000, 50_001);
    const entry = placed(d.command({ id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.2 }] }))[0];
    if (!entry) throw new Error('no entry');
    d.fill(entry.order.clientOrderId, 50_000);
    expect(equityOf(d.timer(4_999).outbound)).toEqual([]);
    expect(equityOf(d.timer(1).outbound)).toEqual([
      expect.objectContaining({ summary: expect.objectContaining({ positions: { BTCUSDT: expect.objectContaining({ exitPrice: 50_000 }) } }) }),
    ]);
    expect(equityOf(d.timer(5_000).outbound)).toHaveLength(1);

    const flatten = placed(d.command({ id: 'stop', userId: 'alice', type: 'session.stop' }))[0];
    if (!flatten) throw new Error('no flatten');
    const closed = d.fill(flatten.order.clientOrderId, 50_000);
    expect(equityOf(closed.outbound)).toEqual([expect.objectContaining({ summary: expect.objectContaining({ status: 'closed', positions: {} }) })]);
    expect(equityOf(d.timer(10_000).outbound)).toEqual([]);
  });
});

describe('session summary', () => {
  it('values each position where it could be closed: longs at the bid, shorts at the ask', () => {
    const state = withQuote(
      withQuote(
        stateWithPositions({
          capitalUsd: 10_000,
          positions: [
            { symbol: 'BTCUSDT', qty: 0.1, entryPrice: 50_000 },
            { symbol: 'ETHUSDT', qty: -1, entryPrice: 3_000 },
          ],
        }),
        'BTCUSDT',
        50_100,
        50_200,
        T0,
      ),
      'ETHUSDT',
      2_900,
      2_950,
      T0,
    );
    const d = decide(
      state,
      { kind: 'command', delivery: { entryId: '1-0', raw: JSON.stringify({ id: 'st', userId: 'u', type: 'status' }), deliveryCount: 1 } },
      T0,
      testConfig,
    );
    const summary = (replies(d)[0]?.result as { session: { positions: Record<string, unknown>; unrealizedPnlUsd: number } }).session;
    expect(summary.positions.BTCUSDT).toMatchObject({ qty: 0.1, exitPrice: 50_100, notionalUsd: 5_010 });
    expect((summary.positions.BTCUSDT as { unrealizedPnlUsd: number }).unrealizedPnlUsd).toBeCloseTo(10, 6);
    expect(summary.positions.ETHUSDT).toMatchObject({ qty: -1, exitPrice: 2_950, unrealizedPnlUsd: 50, notionalUsd: 2_950 });
    expect(summary.unrealizedPnlUsd).toBeCloseTo(60, 6);
  });
});
