import { describe, expect, it } from 'vitest';
import type { ModelChange, ReadModel } from '../../src/services/dashboard/read-model.js';
import {
  emptyReadModel,
  foldOutbound,
  maxEquityPointsPerSession,
  maxRecentAlerts,
  maxRecentReplies,
  maxTrackedSessions,
  stateView,
} from '../../src/services/dashboard/read-model.js';

// The read model is a fold over outbound events; these feed it event sequences the engine commits and
// check what the dashboard would show.

function summary(userId: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    userId,
    mode: 'paper',
    status: 'active',
    capitalUsd: 1000,
    stopLossPct: null,
    horizonDeadline: null,
    paused: false,
    killSwitch: { engaged: false, reason: null, atMs: null },
    positions: {},
    realizedPnlUsd: 0,
    equityUsd: 1000,
    unrealizedPnlUsd: 0,
    grossExposureUsd: 0,
    unpricedSymbols: [],
    openOrders: [],
    ...over,
  };
}

function reply(
  commandType: string,
  userId: string,
  status: 'accepted' | 'rejected' | 'done',
  result: unknown,
  atMs: number,
  commandId = `${commandType}-${atMs}`,
): Record<string, unknown> {
  return { type: 'reply', commandId, userId, commandType, status, reason: status === 'rejected' ? 'nope' : null, result, atMs };
}

function fold(events: unknown[], model: ReadModel = emptyReadModel()): ReadModel {
  let n = Number(model.lastId);
  for (const e of events) foldOutbound(model, String(++n), typeof e === 'string' ? e : JSON.stringify(e));
  return model;
}

const held = { BTCUSDT: { qty: 0.01, entryPrice: 50_000 } };

describe('dashboard read model', () => {
  it('builds a session from the start reply, then follows status replies and equity events', () => {
    const m = fold([
      reply('session.start', 'alice', 'done', summary('alice', { stopLossPct: 5 }), 1_000),
      reply(
        'status',
        'alice',
        'done',
        { halted: false, session: summary('alice', { stopLossPct: 5, positions: held, equityUsd: 990, unrealizedPnlUsd: -10, grossExposureUsd: 490 }) },
        2_000,
      ),
      {
        type: 'equity',
        userId: 'alice',
        atMs: 3_000,
        summary: summary('alice', { stopLossPct: 5, positions: held, equityUsd: 1_020, unrealizedPnlUsd: 20, grossExposureUsd: 520 }),
      },
    ]);
    const alice = m.sessions.get('alice');
    expect(alice?.summary).toMatchObject({ status: 'active', stopLossPct: 5, positions: held, equityUsd: 1_020, grossExposureUsd: 520 });
    expect(alice?.summaryAtMs).toBe(3_000);
    expect(alice?.equity).toEqual([
      { atMs: 1_000, equityUsd: 1_000 },
      { atMs: 2_000, equityUsd: 990 },
      { atMs: 3_000, equityUsd: 1_020 },
    ]);
    expect(m.halted).toBe(false);
    expect(m.lastId).toBe('3');
    expect(stateView(m).sessions[0]?.equity).toEqual([
      [1_000, 1_000],
      [2_000, 990],
      [3_000, 1_020],
    ]);
  });

  it('marks a session stopping on the accepted stop and closed and flat on the done stop', () => {
    const m = fold([
      reply('session.start', 'bob', 'done', summary('bob'), 1_000),
      {
        type: 'equity',
        userId: 'bob',
        atMs: 2_000,
        summary: summary('bob', {
          positions: held,
          equityUsd: 1_005,
          unrealizedPnlUsd: 5,
          openOrders: [{ clientOrderId: 'qe1-1', symbol: 'BTCUSDT', side: 'BUY', quantity: '0.001', price: '50000', status: 'NEW', purpose: 'entry' }],
        }),
      },
      reply('session.stop', 'bob', 'accepted', { flattening: ['BTCUSDT'] }, 3_000, 'stop-1'),
    ]);
    expect(m.sessions.get('bob')?.summary.status).toBe('stopping');
    fold([reply('session.stop', 'bob', 'done', { realizedPnlUsd: 7.5 }, 4_000, 'stop-1')], m);
    const bob = m.sessions.get('bob')?.summary;
    expect(bob).toMatchObject({ status: 'closed', unrealizedPnlUsd: 0, grossExposureUsd: 0, realizedPnlUsd: 7.5, equityUsd: 1_007.5 });
    expect(bob?.positions).toEqual({});
    expect(bob?.openOrders).toEqual([]);
    expect(m.sessions.get('bob')?.equity.at(-1)).toEqual({ atMs: 4_000, equityUsd: 1_007.5 });
    expect(m.replies.map((r) => `${r.commandId}:${r.status}`)).toEqual(['session.start-1000:done', 'stop-1:accepted', 'stop-1:done']);
  });

  it("values a closed session with the stop answer's fees and funding, the flatten's own fees included", () => {
    // The last equity sample came before the flatten: it knew of $0.40 of fees. The answer has the final $1.25.
    const m = fold([
      reply('session.start', 'dan', 'done', summary('dan'), 1_000),
      { type: 'equity', userId: 'dan', atMs: 2_000, summary: summary('dan', { positions: held, equityUsd: 1_004.6, unrealizedPnlUsd: 5, feesUsd: 0.4 }) },
      reply('session.stop', 'dan', 'accepted', { flattening: ['BTCUSDT'] }, 3_000, 'stop-2'),
      reply('session.stop', 'dan', 'done', { realizedPnlUsd: 7.5, feesUsd: 1.25, fundingUsd: -0.25, netPnlUsd: 6 }, 4_000, 'stop-2'),
    ]);
    expect(m.sessions.get('dan')?.summary).toMatchObject({ status: 'closed', realizedPnlUsd: 7.5, feesUsd: 1.25, fundingUsd: -0.25, equityUsd: 1_006 });
  });

  it('applies pause, resume, stop-loss, horizon and halt answers, and ignores rejected ones', () => {
    const m = fold([
      reply('session.start', 'carol', 'done', summary('carol'), 1_000),
      reply('session.pause', 'carol', 'done', { paused: true, note: null }, 2_000),
      reply('session.set_stoploss', 'carol', 'done', { stopLossPct: 3.5 }, 3_000),
      reply('session.set_horizon', 'carol', 'done', { horizonDeadline: '2030-01-01T00:00:00.000Z' }, 3_500),
      reply('session.set_stoploss', 'carol', 'rejected', null, 4_000),
      reply('admin.halt_all', 'operator', 'done', { halted: true }, 5_000),
    ]);
    expect(m.sessions.get('carol')?.summary).toMatchObject({ paused: true, stopLossPct: 3.5, horizonDeadline: '2030-01-01T00:00:00.000Z' });
    expect(m.halted).toBe(true);
    fold(
      [reply('session.resume', 'carol', 'done', { paused: false, note: null }, 6_000), reply('admin.resume_all', 'operator', 'done', { halted: false }, 7_000)],
      m,
    );
    expect(m.sessions.get('carol')?.summary.paused).toBe(false);
    expect(m.halted).toBe(false);
  });

  it('shows a kill switch from its alert and keeps alerts and replies bounded', () => {
    const m = fold([
      reply('session.start', 'dave', 'done', summary('dave'), 1_000),
      { type: 'alert', userId: 'dave', kind: 'stop_loss', message: 'breached', atMs: 2_000 },
    ]);
    expect(m.sessions.get('dave')?.summary.killSwitch).toMatchObject({ engaged: true, reason: 'stop_loss' });
    fold(
      Array.from({ length: maxRecentAlerts + 5 }, (_, i) => ({ type: 'alert', userId: 'dave', kind: 'reconcile', message: `note ${i}`, atMs: 3_000 + i })),
      m,
    );
    expect(m.alerts).toHaveLength(maxRecentAlerts);
    expect(m.alerts.at(-1)?.message).toBe(`note ${maxRecentAlerts + 4}`);
    // Fills are not kept among the alerts (the page shows closed trades from the ledger): they only say one was booked.
    const changes: ModelChange[] = [];
    foldOutbound(m, '9-0', JSON.stringify({ type: 'alert', userId: 'dave', kind: 'fill', message: 'BUY 1 BTCUSDT @ 1 (entry, o)', atMs: 4_000 }), changes);
    expect(changes).toEqual([{ kind: 'fill', userId: 'dave', atMs: 4_000 }]);
    expect(m.alerts.at(-1)?.message).toBe(`note ${maxRecentAlerts + 4}`);
    fold(
      Array.from({ length: maxRecentReplies + 5 }, (_, i) => reply('status', 'dave', 'done', { halted: false, session: null }, 10_000 + i)),
      m,
    );
    expect(m.replies).toHaveLength(maxRecentReplies);
    // Accepted signal routes are noise on the page; rejected ones are kept.
    fold([reply('signals.route', 'signals', 'done', { routed: [] }, 20_000), reply('signals.route', 'signals', 'rejected', null, 20_001)], m);
    expect(m.replies.at(-1)).toMatchObject({ commandType: 'signals.route', status: 'rejected' });
    expect(m.replies.filter((r) => r.commandType === 'signals.route')).toHaveLength(1);
  });

  it('bounds the equity series per session and starts a new curve for a new session', () => {
    const m = fold([reply('session.start', 'erin', 'done', summary('erin'), 0)]);
    fold(
      Array.from({ length: maxEquityPointsPerSession + 10 }, (_, i) => ({
        type: 'equity',
        userId: 'erin',
        atMs: 1_000 + i,
        summary: summary('erin', { equityUsd: 1_000 + i }),
      })),
      m,
    );
    const series = m.sessions.get('erin')?.equity ?? [];
    expect(series).toHaveLength(maxEquityPointsPerSession);
    expect(series.at(-1)).toEqual({ atMs: 1_000 + maxEquityPointsPerSession + 9, equityUsd: 1_000 + maxEquityPointsPerSession + 9 });
    // A point older than the last one would make the chart's x axis go back: dropped.
    fold([{ type: 'equity', userId: 'erin', atMs: 5, summary: summary('erin', { equityUsd: 1 }) }], m);
    expect(m.sessions.get('erin')?.equity.at(-1)?.equityUsd).not.toBe(1);
    fold(
      [
        reply('session.stop', 'erin', 'accepted', {}, 1e7, 's'),
        reply('session.stop', 'erin', 'done', { realizedPnlUsd: 0 }, 1e7 + 1, 's'),
        reply('session.start', 'erin', 'done', summary('erin', { capitalUsd: 500, equityUsd: 500 }), 1e7 + 2),
      ],
      m,
    );
    expect(m.sessions.get('erin')?.equity).toEqual([{ atMs: 1e7 + 2, equityUsd: 500 }]);
    expect(m.sessions.get('erin')?.summary.capitalUsd).toBe(500);
  });

  it('lists what each record changed: the new point, not the series; a new curve; the halt; a forgotten session', () => {
    const m = fold([reply('session.start', 'gus', 'done', summary('gus'), 1_000), { type: 'equity', userId: 'gus', atMs: 2_000, summary: summary('gus') }]);
    const changesOf = (event: unknown): ModelChange[] => {
      const changes: ModelChange[] = [];
      foldOutbound(m, String(Number(m.lastId) + 1), JSON.stringify(event), changes);
      return changes;
    };
    const sample = changesOf({ type: 'equity', userId: 'gus', atMs: 3_000, summary: summary('gus', { equityUsd: 990 }) });
    expect(sample).toEqual([
      {
        kind: 'session',
        session: { userId: 'gus', summary: expect.objectContaining({ equityUsd: 990 }), summaryAtMs: 3_000, source: 'equity' },
        resetEquity: false,
      },
      { kind: 'equity', userId: 'gus', point: [3_000, 990] },
    ]);
    expect(changesOf({ type: 'alert', userId: 'gus', kind: 'horizon', message: 'horizon reached', atMs: 4_000 })).toMatchObject([
      { kind: 'alert', alert: { kind: 'horizon' } },
      { kind: 'session', session: { summary: { killSwitch: { engaged: true, reason: 'horizon' } } }, resetEquity: false },
    ]);
    expect(changesOf(reply('admin.halt_all', 'operator', 'done', { halted: true }, 5_000)).map((c) => c.kind)).toEqual(['reply', 'halted']);
    // Halted again: nothing new to say about the halt.
    expect(changesOf(reply('admin.halt_all', 'operator', 'done', { halted: true }, 5_500)).map((c) => c.kind)).toEqual(['reply']);
    changesOf(reply('session.stop', 'gus', 'done', { realizedPnlUsd: 0 }, 6_000, 's'));
    expect(changesOf(reply('session.start', 'gus', 'done', summary('gus', { capitalUsd: 500, equityUsd: 500 }), 7_000))).toMatchObject([
      { kind: 'reply' },
      { kind: 'session', resetEquity: true },
      { kind: 'equity', point: [7_000, 500] },
    ]);
    // Past maxTrackedSessions the closed session seen longest ago goes, and readers are told.
    const many = fold([reply('session.start', 'old', 'done', summary('old', { status: 'closed' }), 1)]);
    for (let i = 0; i < maxTrackedSessions - 1; i += 1) fold([reply('session.start', `u${i}`, 'done', summary(`u${i}`), 10 + i)], many);
    const changes: ModelChange[] = [];
    foldOutbound(many, String(Number(many.lastId) + 1), JSON.stringify(reply('session.start', 'newest', 'done', summary('newest'), 1e6)), changes);
    expect(changes.at(-1)).toEqual({ kind: 'session_forgotten', userId: 'old' });
    expect(many.sessions.has('old')).toBe(false);
  });

  it('skips unknown event types and malformed records without changing the model', () => {
    const m = fold([reply('session.start', 'fay', 'done', summary('fay'), 1_000)]);
    const before = JSON.stringify(stateView(m).sessions);
    fold(
      [
        'not json',
        { type: 'telemetry', x: 1 },
        { type: 'reply', commandId: 5 },
        { type: 'equity', userId: 'fay', atMs: 2_000, summary: { broken: true } },
        null,
        42,
      ],
      m,
    );
    expect(JSON.stringify(stateView(m).sessions)).toBe(before);
    expect(m.ignoredEvents).toBe(6); // the equity event with a broken summary is invalid as a whole
    expect(m.lastId).toBe('7');
  });
});
