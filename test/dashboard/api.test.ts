import { createHash } from 'node:crypto';
import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { maxDeadLetterPayloadBytes } from '../../src/log/dead-letter.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import type { ClosedResponse, TradesResponse } from '../../src/services/dashboard/api-types.js';
import { defaultDashboardDailyDays, maxClosedTradesPerPage } from '../../src/services/dashboard/closed-view.js';
import { dlqShownEntries, maxCommandBodyBytes, maxTradesPerPage, startDashboard } from '../../src/services/dashboard/server.js';
import { silentLogger } from '../../src/util/logger.js';
import type { Rig } from '../support/dashboard-rig.js';
import { commitClosedTrips, commitOutbound, fakeEngine, followerLimits, sampleSummary, useDashboardRigs } from '../support/dashboard-rig.js';
import { waitFor } from '../support/wait.js';

// The HTTP API against an in-memory log: what the page reads, what it may send, and who may ask.

const rig = useDashboardRigs();
const summary = sampleSummary;

function post(app: Rig['app'], body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    app.request('/api/commands', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

describe('dashboard API', () => {
  it('serves the read model folded from the outbound stream', async () => {
    const { log, app } = rig();
    await commitOutbound(log, [
      { type: 'reply', commandId: 'c1', userId: 'alice', commandType: 'session.start', status: 'done', reason: null, result: summary, atMs: 1_000 },
      { type: 'alert', userId: 'alice', kind: 'reconcile', message: 'the account also holds 1 BNBUSDT', atMs: 1_500 },
      { type: 'mystery', atMs: 1 },
    ]);
    const state = await waitFor('state with alice', async () => {
      const body = (await (await app.request('/api/state')).json()) as { sessions: { userId: string }[]; alerts: unknown[] };
      return body.sessions.length > 0 && body.alerts.length > 0 ? body : undefined;
    });
    expect(state).toMatchObject({
      foldedEvents: 2,
      ignoredEvents: 1,
      sessions: [{ userId: 'alice', summary: { status: 'active', positions: { BTCUSDT: { qty: 0.01 } }, equityUsd: 995 }, equity: [[1_000, 995]] }],
      alerts: [{ userId: 'alice', kind: 'reconcile' }],
      follower: { caughtUp: true, lastError: null },
    });
  });

  it('appends the engine command for an action and returns the engine reply', async () => {
    const { log, app } = rig();
    // Results as the contract has them for each command type (the follower skips replies it cannot parse).
    const results: Record<string, unknown> = {
      'session.stop': { flattening: [] },
      'session.set_stoploss': { stopLossPct: 2.5 },
      'admin.halt_all': { halted: true },
      'admin.resume_all': { halted: false },
    };
    const engine = fakeEngine(log, (cmd) => [
      {
        type: 'reply',
        commandId: cmd.id,
        userId: cmd.userId,
        commandType: cmd.type,
        status: cmd.type === 'session.stop' ? 'accepted' : 'done',
        reason: null,
        result: results[String(cmd.type)] ?? null,
        atMs: 1,
      },
    ]);
    try {
      const res = await post(app, { action: 'stop', userId: 'alice' });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { commandId: string; reply: Record<string, unknown> };
      expect(body.reply).toMatchObject({ type: 'reply', commandId: body.commandId, commandType: 'session.stop', status: 'accepted', userId: 'alice' });
      expect(body.commandId).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
      expect(engine.seen[0]).toMatchObject({ id: body.commandId, type: 'session.stop', userId: 'alice', source: 'dashboard' });

      const sl = (await (await post(app, { action: 'set_stoploss', userId: 'alice', pct: 2.5 })).json()) as { reply: { status: string } };
      expect(sl.reply.status).toBe('done');
      expect(engine.seen[1]).toMatchObject({ type: 'session.set_stoploss', userId: 'alice', pct: 2.5, source: 'dashboard' });

      // Global actions go out as the configured admin, whatever the page sends.
      expect((await post(app, { action: 'halt_all', reason: 'incident' })).status).toBe(200);
      expect((await post(app, { action: 'resume_all' })).status).toBe(200);
      expect(engine.seen.slice(2)).toMatchObject([
        { type: 'admin.halt_all', userId: 'root-admin', reason: 'incident', source: 'dashboard' },
        { type: 'admin.resume_all', userId: 'root-admin', source: 'dashboard' },
      ]);
      expect(new Set(engine.seen.map((c) => c.id)).size).toBe(4);
    } finally {
      await engine.stop();
    }
  });

  it('answers 504 and keeps the command queued when the engine does not answer', async () => {
    const { log, app } = rig({ replyTimeoutMs: 50 });
    const res = await post(app, { action: 'pause', userId: 'alice' });
    expect(res.status).toBe(504);
    const body = (await res.json()) as { commandId: string; error: string };
    expect(body.error).toMatch(/no answer within 50 ms/);
    expect(log.commands().map((c) => JSON.parse(c.data).id)).toEqual([body.commandId]);
  });

  it('refuses bad bodies with 400 and a reason, big ones with 413, and nothing reaches the log', async () => {
    const { log, app } = rig();
    const cases: [unknown, RegExp][] = [
      ['{not json', /not valid JSON/],
      [{ action: 'liquidate', userId: 'alice' }, /action/],
      [{ action: 'stop' }, /userId/],
      [{ action: 'stop', userId: 'al ice' }, /userId: id may hold/],
      [{ action: 'set_stoploss', userId: 'alice', pct: 150 }, /pct/],
      [{ action: 'set_stoploss', userId: 'alice', pct: '5' }, /pct/],
      [{ action: 'stop', userId: 'alice', type: 'admin.halt_all' }, /type|unrecognized/i],
    ];
    for (const [body, reason] of cases) {
      const res = await post(app, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(reason);
    }
    const big = await post(app, { action: 'halt_all', reason: 'x'.repeat(maxCommandBodyBytes) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toMatch(/limit/);
    const form = await app.request('/api/commands', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify({ action: 'resume_all' }),
    });
    expect(form.status).toBe(415);
    const crossSite = await post(app, { action: 'resume_all' }, { Origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(log.commands()).toHaveLength(0);
  });

  it('needs the token on every route when one is set, compared exactly', async () => {
    const { app } = rig({ token: 's3cret-token' });
    for (const path of ['/', '/api/state', '/api/dlq', '/api/trades', '/metrics', '/assets/uPlot.iife.min.js', '/assets/dashboard.js']) {
      expect((await app.request(path)).status, path).toBe(401);
      expect((await app.request(path, { headers: { Authorization: 'Bearer s3cret-tokeN' } })).status, path).toBe(401);
      expect((await app.request(`${path}?token=s3cret-toke`)).status, path).toBe(401);
      expect((await app.request(path, { headers: { Authorization: 'Bearer s3cret-token' } })).status, path).toBe(200);
      expect((await app.request(`${path}?token=s3cret-token`)).status, path).toBe(200);
    }
    expect((await post(app, { action: 'resume_all' })).status).toBe(401);
    // The page carries the token it was opened with into its asset URLs (its fetches add the header).
    const page = await (await app.request('/?token=s3cret-token')).text();
    expect(page).toContain('/assets/uPlot.iife.min.js?token=s3cret-token');
    expect(page).toContain('<script type="module" src="/assets/dashboard.js?token=s3cret-token"></script>');
  });

  it('without a token only answers loopback Host names', async () => {
    const { app } = rig();
    expect((await app.request('http://127.0.0.1:8080/api/state')).status).toBe(200);
    expect((await app.request('http://localhost:8080/api/state')).status).toBe(200);
    expect((await app.request('http://rebound.example:8080/api/state')).status).toBe(403);
  });

  it('serves its DLQ depth and the engine registry on /metrics, and the DLQ on /api/dlq', async () => {
    const engineRegistry = new Registry();
    new Counter({ name: 'qe_test_engine_commands_total', help: 'test', registers: [engineRegistry] }).inc(3);
    const { log, app } = rig({ metrics: engineRegistry });
    await log.commit({
      wal: [],
      outbound: [],
      ack: [],
      deadLetters: [
        { entryId: '9', raw: 'garbage', reason: 'command is not valid JSON' },
        { entryId: '10', raw: '{}', reason: 'invalid command' },
      ],
    });
    const text = await (await app.request('/metrics')).text();
    expect(text).toMatch(/^qe_dlq_depth 2$/m);
    expect(text).toMatch(/^qe_dashboard_event_loop_delay_seconds\{quantile="0.99"\} /m);
    expect(text).toMatch(/^qe_test_engine_commands_total 3$/m);
    // When the engine registry defines a name too (qe_dlq_depth in-process), the family appears once: the engine's.
    const inProcess = new Registry();
    new Gauge({ name: 'qe_dlq_depth', help: 'engine', registers: [inProcess] }).set(7);
    const merged = await (await rig({ metrics: inProcess }).app.request('/metrics')).text();
    expect(merged.match(/^# TYPE qe_dlq_depth /gm)).toHaveLength(1);
    expect(merged).toMatch(/^qe_dlq_depth 7$/m);
    expect(merged).toMatch(/^# TYPE qe_dashboard_event_loop_delay_seconds gauge$/m);
    const dlq = (await (await app.request('/api/dlq')).json()) as {
      depth: number;
      entries: { raw: string; reason: string; rawBytes: number; rawSha256: string }[];
    };
    expect(dlq.depth).toBe(2);
    expect(dlq.entries.map((e) => e.raw)).toEqual(['garbage', '{}']);
    expect(dlq.entries.map((e) => [e.rawBytes, e.rawSha256])).toEqual([
      [7, createHash('sha256').update('garbage').digest('hex')],
      [2, createHash('sha256').update('{}').digest('hex')],
    ]);
  });

  it('counts the DLQ and reads only its newest dlqShownEntries entries, their payloads bounded', async () => {
    const { log, app } = rig();
    const total = dlqShownEntries + 20;
    const big = 'z'.repeat(1024 * 1024);
    await log.commit({
      wal: [],
      outbound: [],
      ack: [],
      deadLetters: Array.from({ length: total }, (_, n) => ({ entryId: String(n), raw: n === total - 1 ? big : `bad ${n}`, reason: 'refused' })),
    });
    const reads = vi.spyOn(log, 'readDeadLetters');
    const dlq = (await (await app.request('/api/dlq')).json()) as {
      depth: number;
      entries: { entryId: string; raw: string; rawBytes: number; rawTruncated: boolean }[];
    };
    expect(reads.mock.calls.every(([n]) => n <= dlqShownEntries)).toBe(true);
    expect(dlq.depth).toBe(total);
    expect(dlq.entries).toHaveLength(dlqShownEntries);
    expect(dlq.entries[0]?.entryId).toBe(String(total - dlqShownEntries));
    expect(dlq.entries.at(-1)).toMatchObject({
      entryId: String(total - 1),
      raw: big.slice(0, maxDeadLetterPayloadBytes),
      rawBytes: big.length,
      rawTruncated: true,
    });
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(new RegExp(`^qe_dlq_depth ${total}$`, 'm'));
    expect(reads.mock.calls.every(([n]) => n <= dlqShownEntries)).toBe(true); // the scrape counted, it did not read
  });

  it('pages the fill ledger on /api/trades within maxTradesPerPage, listing an unreadable record instead of failing', async () => {
    const { app, log } = rig();
    const good =
      '{"schemaVersion":1,"kind":"funding","userId":"al","sessionId":"al:1","venue":"paper","symbol":null,"clientOrderId":null,"exchangeOrderId":null,"side":null,"qty":null,"price":null,"feeUsd":"0","realizedPnlUsd":"0","fundingUsd":"0.25","netUsd":"0.25","tradeId":"f1","cause":null,"timeMs":1}';
    const ledger = [good, '{"kind":"fill","feeUsd":"NaN"}', good].map((data) => ({ walIndex: 0, userId: 'al', sessionId: 'al:1', data }));
    await log.commit({ wal: ['{}'], outbound: [], ack: [], deadLetters: [], ledger });
    const get = async (query: string): Promise<TradesResponse> => (await (await app.request(`/api/trades?${query}`)).json()) as TradesResponse;
    const first = await get('limit=2');
    expect(first.trades.map((t) => t.fundingUsd)).toEqual(['0.25']);
    expect(first.unreadable).toEqual([{ seq: expect.any(String), reason: expect.stringMatching(/^ledger entry \d+: /) }]);
    const second = await get(`limit=2&after=${first.nextAfter ?? ''}`);
    expect([second.trades.length, second.nextAfter]).toEqual([1, null]);
    expect((await get('user=bo')).trades).toEqual([]);
    const csv = await app.request('/api/trades?session=al:1&format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await csv.text()).split('\r\n').filter((l) => l.includes(',funding,'))).toHaveLength(2);
    for (const bad of [`limit=${maxTradesPerPage + 1}`, 'limit=0', 'limit=1.5', 'after=x;y'])
      expect((await app.request(`/api/trades?${bad}`)).status, bad).toBe(400);
  });

  it('answers one user’s closed trades from the fill ledger: a page newest first, daily profit and per-symbol results, exact', async () => {
    const { app, log } = rig();
    const day = 86_400_000;
    const now = Date.now();
    // 25 trips, one closing each day back from today: BTCUSDT gains 0.1 × 10 = 1, ETHUSDT loses 0.5 × 2 = 1 (both before fees).
    const trips = Array.from({ length: 25 }, (_, i) =>
      i % 5 === 0
        ? { symbol: 'ETHUSDT', qty: '0.5', entry: '3000.1', exit: '2998.1', closedAtMs: now - (24 - i) * day }
        : { symbol: 'BTCUSDT', qty: '0.1', entry: '50000.3', exit: '50010.3', closedAtMs: now - (24 - i) * day },
    );
    await commitClosedTrips(log, 'alice', trips);
    await commitClosedTrips(log, 'bob', trips.slice(0, 1));
    const get = async (query: string): Promise<ClosedResponse> => (await (await app.request(`/api/closed?${query}`)).json()) as ClosedResponse;

    const first = await get('user=alice&limit=10');
    expect([first.total, first.trades.length, first.offset, first.limit]).toEqual([25, 10, 0, 10]);
    expect(first.trades[0]).toEqual({
      symbol: 'BTCUSDT',
      side: 'long',
      openedAtMs: (trips[24]?.closedAtMs ?? 0) - 60_000,
      closedAtMs: trips[24]?.closedAtMs,
      qty: '0.1',
      avgEntryPrice: '50000.3',
      avgExitPrice: '50010.3',
      realizedPnlUsd: '1',
      feesUsd: '0.02',
      fundingUsd: '0',
      netPnlUsd: '0.98',
      fills: 2,
    });
    const closes = first.trades.map((t) => t.closedAtMs);
    expect(closes).toEqual([...closes].sort((a, b) => b - a));
    const last = await get('user=alice&limit=10&offset=20');
    expect(last.trades.map((t) => t.closedAtMs)).toEqual(
      trips
        .slice(0, 5)
        .map((t) => t.closedAtMs)
        .reverse(),
    );
    expect((await get('user=alice&offset=25')).trades).toEqual([]);

    // 20 BTCUSDT wins of 0.98, 5 ETHUSDT losses of 1.02: exact sums, best symbol first.
    expect(first.summary).toEqual({ closedTrades: 25, wins: 20, losses: 5, winRatePct: 80, netPnlUsd: '14.5', feesUsd: '0.5', maxDrawdownUsd: '1.02' });
    expect(first.performance).toEqual([
      { symbol: 'BTCUSDT', trades: 20, wins: 20, netPnlUsd: '19.6' },
      { symbol: 'ETHUSDT', trades: 5, wins: 0, netPnlUsd: '-5.1' },
    ]);
    expect(first.daily).toHaveLength(defaultDashboardDailyDays);
    expect(first.daily.at(-1)).toEqual({ day: new Date(now).toISOString().slice(0, 10), trades: 1, netPnlUsd: '0.98' });
    expect(first.daily.map((d) => d.day)).toEqual([...first.daily.map((d) => d.day)].sort());
    expect(first.daily.reduce((n, d) => n + d.trades, 0)).toBe(25);
    expect((await get('user=alice&days=7')).daily).toHaveLength(7);

    expect((await get('user=bob')).total).toBe(1);
    expect((await get('user=carol')).total).toBe(0);
    for (const bad of [
      '',
      'user=a%20b',
      `user=alice&limit=${maxClosedTradesPerPage + 1}`,
      'user=alice&limit=0',
      'user=alice&offset=-1',
      'user=alice&days=91',
      'user=alice&days=1.5',
    ])
      expect((await app.request(`/api/closed?${bad}`)).status, bad).toBe(400);
  });
});

describe('startDashboard', () => {
  it('refuses a non-loopback host without a token', async () => {
    const log = openMemoryLog();
    await expect(startDashboard({ log, host: '0.0.0.0', port: 0, token: null, adminUserId: 'operator', logger: silentLogger() })).rejects.toThrow(
      /without a token/,
    );
    await expect(startDashboard({ log, host: '0.0.0.0', port: 0, token: '', adminUserId: 'operator', logger: silentLogger() })).rejects.toThrow(
      /without a token/,
    );
  });

  it('listens on a free port and serves the page over HTTP', async () => {
    const log = openMemoryLog();
    const dashboard = await startDashboard({ log, host: '127.0.0.1', port: 0, token: null, adminUserId: 'operator', logger: silentLogger(), followerLimits });
    try {
      expect(dashboard.port).toBeGreaterThan(0);
      const res = await fetch(`${dashboard.url}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<title>Quant Engine dashboard</title>');
      const js = await fetch(`${dashboard.url}/assets/uPlot.iife.min.js`);
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      expect(await js.text()).toContain('uPlot');
      // The page's own client, served from its source file whatever the working directory.
      const client = await fetch(`${dashboard.url}/assets/dashboard.js`);
      expect(client.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(await client.text()).toMatch(/^\/\/ @ts-check\n/);
    } finally {
      await dashboard.close();
    }
  });
});
