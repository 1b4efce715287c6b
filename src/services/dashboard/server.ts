import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import type { BuiltCommand } from '../../contract/commands.js';
import { buildCommand } from '../../contract/commands.js';
import type { EngineLog } from '../../log/port.js';
import type { PartitionLogs } from '../../log/command-router.js';
import { appendRoutedCommand, everyPartitionLog, routeCommand, singlePartition, userPartitionLog } from '../../log/command-router.js';
import { partitionOfUser } from '../../log/partition.js';
import type { PartitionStatus } from '../../cluster/cluster-status.js';
import type { Logger } from '../../util/logger.js';
import { ledgerCsvColumns, ledgerCsvRow, parseLedgerRecord } from '../../contract/ledger.js';
import type { ClusterResponse, CommandResponse, DlqResponse, StateResponse, TradesResponse } from './api-types.js';
import { idPattern, maxIdChars } from '../../contract/commands.js';
import { maxDailyDays } from '../../core/round-trips.js';
import { readClosedTrades } from '../closed-trades.js';
import { closedTradesView, defaultDashboardDailyDays, maxClosedTradesPerPage } from './closed-view.js';
import type { DashboardCommand } from './command-schema.js';
import { dashboardCommandSchema } from './command-schema.js';
import type { FollowerLimits, OutboundFollower } from './follower.js';
import { defaultFollowerLimits, startOutboundFollower } from './follower.js';
import type { DashboardMetrics, MetricsSource } from './metrics.js';
import { createDashboardMetrics } from './metrics.js';
import { createEventStreamHub } from './event-stream.js';
import { renderPage } from './page.js';
import { stateView } from './read-model.js';
import { staticAssets } from './static-assets.js';

// `quant-engine dashboard`: one local web page, a JSON API and Prometheus metrics. It reads only the
// outbound stream (through the follower's read model) and the dead-letter stream, and acts only by
// appending commands, exactly like the CLI: the engine stays the single writer of trading state.

/** Request bodies larger than this are refused with 413 before they are parsed. */
export const maxCommandBodyBytes = 16 * 1024;
/** How long POST /api/commands waits for the engine's first reply before answering 504, ms. */
export const commandReplyTimeoutMs = 10_000;
/** Dead letters returned by /api/dlq (the newest). */
export const dlqShownEntries = 100;

/** Ledger entries per page of GET /api/trades at most (and when `limit` is not given, this many). */
export const maxTradesPerPage = 500;

export { dashboardCommandSchema };
export type { DashboardCommand };

export function newCommandId(): string {
  return `dash-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

/** The engine command (built by the contract) for a dashboard action. */
export function engineCommand(action: DashboardCommand, adminUserId: string, id: string, nowMs: number): BuiltCommand {
  const base = { id, source: 'dashboard', issuedAtMs: nowMs };
  switch (action.action) {
    case 'halt_all':
      return buildCommand('admin.halt_all', { ...base, userId: adminUserId, ...(action.reason ? { reason: action.reason } : {}) });
    case 'resume_all':
      return buildCommand('admin.resume_all', { ...base, userId: adminUserId });
    case 'set_stoploss':
      return buildCommand('session.set_stoploss', { ...base, userId: action.userId, pct: action.pct });
    case 'stop':
      return buildCommand('session.stop', { ...base, userId: action.userId });
    case 'pause':
      return buildCommand('session.pause', { ...base, userId: action.userId });
    case 'resume':
      return buildCommand('session.resume', { ...base, userId: action.userId });
    case 'status':
      return buildCommand('status', { ...base, userId: action.userId });
    case 'start':
      return buildCommand('session.start', {
        ...base,
        userId: action.userId,
        mode: action.mode,
        capitalUsd: action.capitalUsd,
        ...(action.stopLossPct !== undefined ? { stopLossPct: action.stopLossPct } : {}),
        ...(action.horizonHours !== undefined ? { horizonHours: action.horizonHours } : {}),
      });
  }
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  return timingSafeEqual(digest(given), digest(expected));
}

function presentedToken(c: Context): string | null {
  const header = c.req.header('authorization');
  const bearer = header?.match(/^Bearer\s+(.+)$/i)?.[1];
  return bearer ?? c.req.query('token') ?? null;
}

function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
    .join('; ');
}

export interface DashboardAppDeps {
  log: EngineLog;
  /** Every partition of a cluster deployment (commands routed, a user's fills read on the user's partition, dead letters
   * summed); absent: `log` is the only one. */
  partitions?: PartitionLogs<EngineLog>;
  follower: OutboundFollower;
  /** A partitioned deployment's lease holders and lag (src/cluster/cluster-status.ts); absent: /api/cluster is 404. */
  clusterStatus?: () => Promise<PartitionStatus[]>;
  metrics: DashboardMetrics;
  token: string | null;
  adminUserId: string;
  logger: Logger;
  replyTimeoutMs?: number;
  /** Whether the page may start live sessions (default false: paper only). */
  allowLiveStart?: boolean;
}

/** Why a live start from the page is refused when live starts are not configured. */
export const liveStartRefusal =
  'live sessions cannot be started from this dashboard (it runs with live starts off: QE_DASHBOARD_LIVE_START=1 turns them on); start a paper session';

/** The HTTP app alone (tests drive it with `app.request`). */
export function createDashboardApp(deps: DashboardAppDeps): Hono {
  const app = new Hono();
  const replyTimeoutMs = deps.replyTimeoutMs ?? commandReplyTimeoutMs;
  const token = deps.token;
  const allowLiveStart = deps.allowLiveStart ?? false;
  const partitions = deps.partitions ?? singlePartition(deps.log);
  const events = createEventStreamHub({
    follower: deps.follower,
    nowMs: () => Date.now(),
    onDropped: (queued) => deps.logger.warn({ queued }, 'dashboard: event-stream client too slow; dropped (it reconnects from a snapshot)'),
  });

  app.use('*', async (c, next) => {
    if (token !== null) {
      if (!tokenMatches(presentedToken(c), token)) {
        c.header('WWW-Authenticate', 'Bearer realm="quant-engine dashboard"');
        return c.json({ error: 'unauthorized: send Authorization: Bearer <token> or ?token=<token>' }, 401);
      }
    } else if (!isLoopbackHost(new URL(c.req.url).hostname)) {
      // Without a token the dashboard only listens on loopback; a foreign Host name means DNS rebinding.
      return c.json({ error: 'forbidden: unexpected Host for a dashboard without a token' }, 403);
    }
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-store');
  });

  app.get('/', (c) => c.html(renderPage({ token: c.req.query('token') ?? null, allowLiveStart, partitioned: deps.clusterStatus !== undefined })));

  for (const [path, asset] of Object.entries(staticAssets)) {
    app.get(path, (c) => {
      c.header('Content-Type', asset.contentType);
      return c.body(asset.body);
    });
  }

  app.get('/api/state', (c) => c.json({ ...stateView(deps.follower.model()), follower: deps.follower.status(), nowMs: Date.now() } satisfies StateResponse));

  // The page's live feed (server-sent events): a snapshot, then what changed. EventSource cannot send headers,
  // so the page passes ?token= like its assets; the middleware above checks it exactly as for every route.
  app.get('/api/events', (c) => events.handle(c));

  // Which worker runs each session (issue 13, item 4): every partition's lease holder and lag, with its sessions.
  app.get('/api/cluster', async (c) => {
    const status = deps.clusterStatus;
    const count = deps.partitions?.count;
    if (!status || count === undefined) return c.json({ error: 'not a partitioned deployment' }, 404);
    const sessionsOf = new Map<number, string[]>();
    for (const userId of deps.follower.model().sessions.keys()) {
      const p = partitionOfUser(userId, count);
      sessionsOf.set(p, [...(sessionsOf.get(p) ?? []), userId]);
    }
    const rows = (await status()).map((s) => ({ ...s, sessions: (sessionsOf.get(s.partition) ?? []).sort() }));
    return c.json({ partitions: rows } satisfies ClusterResponse);
  });

  app.get('/api/dlq', async (c) => {
    // The depth is counted, never read; only the newest dlqShownEntries entries (payloads bounded) are read, of each
    // partition on a cluster.
    const logs = await everyPartitionLog(partitions);
    const parts = await Promise.all(logs.map((l) => Promise.all([l.deadLetterCount(), l.readDeadLetters(dlqShownEntries)])));
    const depth = parts.reduce((sum, [d]) => sum + d, 0);
    const entries = parts.flatMap(([, e]) => e).slice(-dlqShownEntries);
    return c.json({ depth, entries } satisfies DlqResponse);
  });

  // The fill ledger, a page at a time: ?user=&session= select, ?after=<nextAfter of the previous page> continues,
  // ?limit= (1..maxTradesPerPage) sizes the page, ?format=csv answers the page as CSV (exact decimals either way).
  app.get('/api/trades', async (c) => {
    const limitText = c.req.query('limit');
    const limit = limitText === undefined ? maxTradesPerPage : Number(limitText);
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= maxTradesPerPage))
      return c.json({ error: `limit must be a whole number from 1 to ${maxTradesPerPage}` }, 400);
    const after = c.req.query('after');
    if (after !== undefined && !/^\d+(-\d+)?$/.test(after)) return c.json({ error: 'after must be the nextAfter of a previous page' }, 400);
    const user = c.req.query('user');
    const session = c.req.query('session');
    // On a cluster each partition has its own ledger: a page is one user's, from that user's partition.
    if (deps.partitions && user === undefined) return c.json({ error: 'on a partitioned log, name the user: ?user=' }, 400);
    const page = await (
      await userPartitionLog(partitions, user ?? '')
    ).readLedger({
      afterId: after ?? null,
      maxEntries: limit,
      ...(user !== undefined ? { userId: user } : {}),
      ...(session !== undefined ? { sessionId: session } : {}),
    });
    const body: TradesResponse = { trades: [], unreadable: [], nextAfter: page.nextAfterId };
    for (const r of page.records) {
      const parsed = parseLedgerRecord(r.id, r.walId, r.data);
      if (parsed.ok) body.trades.push(parsed.entry);
      else body.unreadable.push({ seq: r.id, reason: parsed.reason });
    }
    if (body.unreadable.length > 0) deps.logger.error({ unreadable: body.unreadable }, 'dashboard: unreadable ledger entries');
    if (c.req.query('format') !== 'csv') return c.json(body);
    c.header('Content-Type', 'text/csv; charset=utf-8');
    if (body.nextAfter !== null) c.header('X-Next-After', body.nextAfter);
    return c.body([ledgerCsvColumns.join(','), ...body.trades.map(ledgerCsvRow)].join('\r\n') + '\r\n');
  });

  // One user's closed trades (round trips from the fill ledger, the read model of the bot's /profit): a page newest
  // first (?offset= trades back from the newest, ?limit= 1..maxClosedTradesPerPage), with the summary, ?days= of
  // daily profit (1..maxDailyDays) and the per-symbol results. The ledger walk is bounded (closed-trades.ts).
  app.get('/api/closed', async (c) => {
    const user = c.req.query('user') ?? '';
    if (user.length === 0 || user.length > maxIdChars || !idPattern.test(user)) return c.json({ error: 'user must be a user id' }, 400);
    const whole = (name: string, fallback: number, min: number, max: number): number | string => {
      const text = c.req.query(name);
      const n = text === undefined ? fallback : Number(text);
      return Number.isInteger(n) && n >= min && n <= max ? n : `${name} must be a whole number from ${min} to ${max}`;
    };
    const offset = whole('offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = whole('limit', maxClosedTradesPerPage, 1, maxClosedTradesPerPage);
    const days = whole('days', defaultDashboardDailyDays, 1, maxDailyDays);
    for (const v of [offset, limit, days]) if (typeof v === 'string') return c.json({ error: v }, 400);
    const read = await readClosedTrades(await userPartitionLog(partitions, user), user);
    if (read.unreadable > 0) deps.logger.error({ userId: user, problems: read.problems }, 'dashboard: unreadable ledger entries');
    return c.json(closedTradesView(user, read, { offset: Number(offset), limit: Number(limit), days: Number(days), nowMs: Date.now() }));
  });

  app.get('/metrics', async (c) => {
    const { contentType, body } = await deps.metrics.text();
    c.header('Content-Type', contentType);
    return c.body(body);
  });

  app.post(
    '/api/commands',
    bodyLimit({ maxSize: maxCommandBodyBytes, onError: (c) => c.json({ error: `request body over the ${maxCommandBodyBytes}-byte limit` }, 413) }),
    async (c) => {
      const origin = c.req.header('origin');
      if (origin !== undefined && origin !== new URL(c.req.url).origin) return c.json({ error: `forbidden: cross-origin request from ${origin}` }, 403);
      if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
        return c.json({ error: 'send the command as Content-Type: application/json' }, 415);
      }
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: 'request body is not valid JSON' }, 400);
      }
      const parsed = dashboardCommandSchema.safeParse(body);
      if (!parsed.success) return c.json({ error: `invalid command: ${issuesText(parsed.error)}` }, 400);
      if (parsed.data.action === 'start' && parsed.data.mode === 'live' && !allowLiveStart) return c.json({ error: liveStartRefusal }, 403);
      const commandId = newCommandId();
      const built = engineCommand(parsed.data, deps.adminUserId, commandId, Date.now());
      if (!built.ok) return c.json({ error: built.reason }, 400);
      const command = built.command;
      // Before the append: the reply cannot slip past. A fan-out (halt all, resume all) is answered once every
      // partition it went to has answered.
      const copies = routeCommand(command, partitions.count).length;
      const waiter = deps.follower.expectReply(commandId, copies);
      try {
        await appendRoutedCommand(partitions, command);
      } catch (error) {
        waiter.cancel();
        deps.logger.error({ err: error, commandId }, 'dashboard: command not appended');
        return c.json({ commandId, error: 'the command could not be appended to the log' } satisfies CommandResponse, 503);
      }
      deps.logger.info({ commandId, type: command.type, userId: command.userId }, 'dashboard: command appended');
      const reply = await waiter.first(replyTimeoutMs);
      if (!reply)
        return c.json(
          {
            commandId,
            command,
            error: `no answer within ${replyTimeoutMs} ms (is the execution service running?); the command stays queued`,
          } satisfies CommandResponse,
          504,
        );
      return c.json({ commandId, command, reply } satisfies CommandResponse);
    },
  );

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((error, c) => {
    deps.logger.error({ err: error }, 'dashboard: request failed');
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}

export interface DashboardOptions {
  /** The log; on a cluster, any partition's (with `partitions`). */
  log: EngineLog;
  /** Every partition of a cluster deployment (see DashboardAppDeps.partitions). */
  partitions?: PartitionLogs<EngineLog>;
  /** The partitions' lease holders and lag, for /api/cluster (with `partitions`). */
  clusterStatus?: () => Promise<PartitionStatus[]>;
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Required when host is not loopback. */
  token: string | null;
  /** `admin.halt_all` / `admin.resume_all` are sent as this user (must be in QE_ADMIN_IDS). */
  adminUserId: string;
  /** The engine's prom-client Registry, served after the dashboard's own metrics. */
  metrics?: MetricsSource;
  logger: Logger;
  replyTimeoutMs?: number;
  followerLimits?: FollowerLimits;
  /** Let the page start live sessions (default false: paper only; the engine still needs LIVE_TRADING=1 and an approval). */
  allowLiveStart?: boolean;
}

export interface DashboardHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startDashboard(opts: DashboardOptions): Promise<DashboardHandle> {
  const token = opts.token === null || opts.token === '' ? null : opts.token;
  if (token === null && !isLoopbackHost(opts.host)) {
    throw new Error(`dashboard: refusing to listen on ${opts.host} without a token; set QE_DASHBOARD_TOKEN or use 127.0.0.1`);
  }
  const partitions = opts.partitions;
  const followed = partitions ? await everyPartitionLog(partitions) : [opts.log];
  const follower = startOutboundFollower(followed, opts.logger, opts.followerLimits ?? defaultFollowerLimits);
  const metrics = createDashboardMetrics(followed, opts.metrics);
  const app = createDashboardApp({
    log: opts.log,
    ...(partitions && { partitions }),
    ...(opts.clusterStatus && { clusterStatus: opts.clusterStatus }),
    follower,
    metrics,
    token,
    adminUserId: opts.adminUserId,
    logger: opts.logger,
    ...(opts.replyTimeoutMs ? { replyTimeoutMs: opts.replyTimeoutMs } : {}),
    allowLiveStart: opts.allowLiveStart ?? false,
  });
  let server: ReturnType<typeof serve>;
  let address: AddressInfo;
  try {
    address = await new Promise<AddressInfo>((resolve, reject) => {
      server = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port }, resolve);
      server.once('error', reject);
    });
  } catch (error) {
    metrics.close();
    await follower.stop();
    throw error;
  }
  const urlHost = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  const url = `http://${isLoopbackHost(opts.host) && opts.host === 'localhost' ? 'localhost' : urlHost}:${address.port}`;
  opts.logger.info({ url, auth: token !== null }, 'dashboard listening');
  return {
    url,
    port: address.port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections and open event streams would otherwise hold close() open.
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      metrics.close();
      await follower.stop();
    },
  };
}
