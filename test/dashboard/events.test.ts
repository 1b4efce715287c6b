import { describe, expect, it } from 'vitest';
import type { ChangesMessage, StateResponse } from '../../src/services/dashboard/api-types.js';
import { maxQueuedSseMessagesPerClient, maxSseClients } from '../../src/services/dashboard/event-stream.js';
import { liveStartRefusal } from '../../src/services/dashboard/server.js';
import type { Rig } from '../support/dashboard-rig.js';
import { commitOutbound, fakeEngine, sampleSummary, useDashboardRigs } from '../support/dashboard-rig.js';
import { waitFor } from '../support/wait.js';

// The page's live feed (GET /api/events, server-sent events) and starting a session from the page, against an
// in-memory log with the real follower: one request gets the snapshot and then every change, with no polling;
// a client that stops reading is dropped at its bound; the stream is guarded like every other route.

const rig = useDashboardRigs();

interface SseEvent {
  event: string;
  data: string;
}

/** Reads server-sent events from a response body as they come. */
function sseReader(res: Response): { next(what: string): Promise<SseEvent>; ended(): Promise<boolean>; cancel(): Promise<void> } {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const pending: SseEvent[] = [];
  let done = false;
  const pump = async (): Promise<void> => {
    const chunk = await reader.read();
    if (chunk.done) {
      done = true;
      return;
    }
    buffer += decoder.decode(chunk.value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      pending.push({ event, data });
    }
  };
  return {
    async next(what) {
      while (pending.length === 0) {
        if (done) throw new Error(`event stream ended before ${what}`);
        await pump();
      }
      return pending.shift() as SseEvent;
    },
    async ended() {
      while (!done) await pump();
      return true;
    },
    cancel: () => reader.cancel(),
  };
}

function equity(userId: string, atMs: number, equityUsd: number): Record<string, unknown> {
  return { type: 'equity', userId, summary: { ...sampleSummary, userId, equityUsd }, atMs };
}

async function folded(r: Rig, n: number): Promise<void> {
  await waitFor(`${n} events folded`, () => r.follower.model().foldedEvents >= n);
}

describe('dashboard event stream', () => {
  it('sends a snapshot, then each new equity point as a change on the same request', async () => {
    const r = rig();
    await commitOutbound(r.log, [equity('alice', 1_000, 995)]);
    await folded(r, 1);
    const res = await r.app.request('/api/events');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseReader(res);
    try {
      const snapshot = await events.next('the snapshot');
      expect(snapshot.event).toBe('snapshot');
      const state = JSON.parse(snapshot.data) as StateResponse;
      expect(state.sessions).toMatchObject([{ userId: 'alice', equity: [[1_000, 995]] }]);

      // A new sample on the outbound stream reaches the open stream as a delta: the point, not the series.
      await commitOutbound(r.log, [equity('alice', 6_000, 990)]);
      const changes = await events.next('the changes');
      expect(changes.event).toBe('changes');
      const body = JSON.parse(changes.data) as ChangesMessage;
      expect(body.changes).toContainEqual({ kind: 'equity', userId: 'alice', point: [6_000, 990] });
      expect(body.changes.find((c) => c.kind === 'session')).toMatchObject({ session: { userId: 'alice', summary: { equityUsd: 990 } }, resetEquity: false });
      expect(body.foldedEvents).toBe(2);

      // An alert and a kill switch it implies, in fold order.
      await commitOutbound(r.log, [{ type: 'alert', userId: 'alice', kind: 'stop_loss', message: 'stop-loss hit', atMs: 7_000 }]);
      const next = JSON.parse((await events.next('the alert')).data) as ChangesMessage;
      expect(next.changes.map((c) => c.kind)).toEqual(['alert', 'session']);
      expect(next.changes[1]).toMatchObject({ session: { summary: { killSwitch: { engaged: true, reason: 'stop_loss' } } } });
    } finally {
      await events.cancel();
    }
  });

  it('drops a client that stops reading once its queue passes the bound, and a new one starts from a snapshot', async () => {
    const r = rig();
    const stalled = await r.app.request('/api/events');
    // Each batch the follower folds is one message; the stalled client reads none of them.
    for (let i = 1; i <= maxQueuedSseMessagesPerClient + 5; i += 1) {
      await commitOutbound(r.log, [equity('alice', i * 1_000, 1_000 + i)]);
      await folded(r, i);
    }
    // Dropped: its stream ends (a client kept forever would never end) instead of buffering the rest.
    expect(await sseReader(stalled).ended()).toBe(true);

    const fresh = sseReader(await r.app.request('/api/events'));
    try {
      const state = JSON.parse((await fresh.next('a fresh snapshot')).data) as StateResponse;
      expect(state.sessions[0]?.equity).toHaveLength(maxQueuedSseMessagesPerClient + 5);
    } finally {
      await fresh.cancel();
    }
  });

  it('refuses a stream beyond maxSseClients with 503, and takes one again once a stream closes', async () => {
    const r = rig();
    const streams = await Promise.all(Array.from({ length: maxSseClients }, async () => sseReader(await r.app.request('/api/events'))));
    for (const s of streams) expect((await s.next('a snapshot')).event).toBe('snapshot');
    const refused = await r.app.request('/api/events');
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toMatch(/too many event streams/);
    await streams.pop()?.cancel();
    const again = await waitFor('a stream to be taken again', async () => {
      const res = await r.app.request('/api/events');
      return res.status === 200 ? sseReader(res) : undefined;
    });
    expect((await again.next('a snapshot')).event).toBe('snapshot');
    for (const s of [...streams, again]) await s.cancel();
  });

  it('needs the token like every other route', async () => {
    const r = rig({ token: 'sse-secret' });
    expect((await r.app.request('/api/events')).status).toBe(401);
    expect((await r.app.request('/api/events?token=wrong')).status).toBe(401);
    expect((await r.app.request('/api/events', { headers: { Authorization: 'Bearer sse-secr' } })).status).toBe(401);
    const ok = await r.app.request('/api/events?token=sse-secret');
    expect(ok.status).toBe(200);
    const events = sseReader(ok);
    expect((await events.next('the snapshot')).event).toBe('snapshot');
    await events.cancel();
    // Without a token, a foreign Host is refused as before.
    const open = rig();
    expect((await open.app.request('http://evil.example/api/events')).status).toBe(403);
  });
});

describe('session.start from the dashboard', () => {
  function post(r: Rig, body: unknown): Promise<Response> {
    return Promise.resolve(r.app.request('/api/commands', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }));
  }

  it('refuses a bad capital or a live start with a clear reason, and appends nothing', async () => {
    const r = rig();
    const cases: [unknown, number, RegExp][] = [
      [{ action: 'start', userId: 'bob', mode: 'paper', capitalUsd: -5 }, 400, /capitalUsd: capital must be more than \$0/],
      [{ action: 'start', userId: 'bob', mode: 'paper', capitalUsd: 0 }, 400, /capital must be more than \$0/],
      [{ action: 'start', userId: 'bob', mode: 'paper', capitalUsd: '1000' }, 400, /capital must be a number of USD/],
      [{ action: 'start', userId: 'bob', mode: 'paper', capitalUsd: 2e9 }, 400, /capital must be at most \$1,000,000,000/],
      [{ action: 'start', userId: 'bob', mode: 'paper', capitalUsd: 1000, stopLossPct: 100 }, 400, /stop-loss must be less than 100%/],
      [{ action: 'start', userId: 'bob', mode: 'live', capitalUsd: 1000 }, 403, /live sessions cannot be started from this dashboard/],
    ];
    for (const [body, status, reason] of cases) {
      const res = await post(r, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(reason);
    }
    expect(liveStartRefusal).toMatch(/paper/);
    expect(r.log.commands()).toHaveLength(0);
  });

  it('appends session.start for a paper session (and a live one where live starts are configured)', async () => {
    const r = rig({ allowLiveStart: true });
    const engine = fakeEngine(r.log, (cmd) => [
      {
        type: 'reply',
        commandId: cmd.id,
        userId: cmd.userId,
        commandType: cmd.type,
        status: 'done',
        reason: null,
        result: { ...sampleSummary, userId: cmd.userId, capitalUsd: cmd.capitalUsd },
        atMs: 1,
      },
    ]);
    try {
      const res = await post(r, { action: 'start', userId: 'bob', mode: 'paper', capitalUsd: 2500, stopLossPct: 3, horizonHours: 4 });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { reply: { status: string } }).reply.status).toBe('done');
      expect(engine.seen[0]).toMatchObject({
        type: 'session.start',
        userId: 'bob',
        mode: 'paper',
        capitalUsd: 2500,
        stopLossPct: 3,
        horizonHours: 4,
        source: 'dashboard',
      });
      expect((await post(r, { action: 'start', userId: 'carol', mode: 'live', capitalUsd: 100 })).status).toBe(200);
      expect(engine.seen[1]).toMatchObject({ type: 'session.start', userId: 'carol', mode: 'live' });
    } finally {
      await engine.stop();
    }
  });
});
