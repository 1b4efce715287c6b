import { setTimeout as sleep } from 'node:timers/promises';
import type { LedgerEntry } from '../../src/contract/ledger.js';
import { serializeLedgerEntry } from '../../src/contract/ledger.js';
import { mul, sub, toDecimal, toPrice, toQty, toUsd, zero } from '../../src/model/decimal.js';
import { afterEach } from 'vitest';
import type { MemoryLog } from '../../src/log/memory-log.js';
import { openMemoryLog } from '../../src/log/memory-log.js';
import type { OutboundFollower } from '../../src/services/dashboard/follower.js';
import { startOutboundFollower } from '../../src/services/dashboard/follower.js';
import type { MetricsSource } from '../../src/services/dashboard/metrics.js';
import { createDashboardMetrics } from '../../src/services/dashboard/metrics.js';
import { createDashboardApp } from '../../src/services/dashboard/server.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';

// The dashboard's HTTP app on an in-memory log with a real follower, for the API and event-stream tests; and a
// stand-in for the execution service that answers the commands the app appends.

export const followerLimits = { batchEntries: 100, blockMs: 0, idleMs: 5, retryMs: 50 };

export interface Rig {
  log: MemoryLog;
  follower: OutboundFollower;
  app: ReturnType<typeof createDashboardApp>;
  close(): Promise<void>;
}

export interface RigOptions {
  token?: string | null;
  replyTimeoutMs?: number;
  metrics?: MetricsSource;
  allowLiveStart?: boolean;
  logger?: Logger;
}

/** A rig factory whose rigs are closed after each test. */
export function useDashboardRigs(): (opts?: RigOptions) => Rig {
  const open: Rig[] = [];
  afterEach(async () => {
    for (const rig of open.splice(0)) await rig.close();
  });
  return (opts = {}) => {
    const log = openMemoryLog();
    const follower = startOutboundFollower([log], silentLogger(), followerLimits);
    const metrics = createDashboardMetrics([log], opts.metrics);
    const app = createDashboardApp({
      log,
      follower,
      metrics,
      token: opts.token ?? null,
      adminUserId: 'root-admin',
      logger: opts.logger ?? silentLogger(),
      replyTimeoutMs: opts.replyTimeoutMs ?? 20_000,
      ...(opts.allowLiveStart !== undefined ? { allowLiveStart: opts.allowLiveStart } : {}),
    });
    const r: Rig = {
      log,
      follower,
      app,
      async close() {
        metrics.close();
        await follower.stop();
      },
    };
    open.push(r);
    return r;
  };
}

export async function commitOutbound(log: MemoryLog, events: unknown[]): Promise<void> {
  await log.commit({ wal: [], outbound: events.map((e) => JSON.stringify(e)), ack: [], deadLetters: [] });
}

/** Stands in for the execution service: reads each command and commits the replies `answer` gives. */
export function fakeEngine(
  log: MemoryLog,
  answer: (command: Record<string, unknown>) => unknown[],
): { seen: Record<string, unknown>[]; stop(): Promise<void> } {
  const seen: Record<string, unknown>[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const d of await log.readCommands('fake', 10, 0)) {
        const command = JSON.parse(d.raw) as Record<string, unknown>;
        seen.push(command);
        await log.commit({ wal: [], outbound: answer(command).map((e) => JSON.stringify(e)), ack: [d.entryId], deadLetters: [] });
      }
      await sleep(5);
    }
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** A session summary as the engine writes it (a held BTCUSDT position, stop-loss 5 %). */
export const sampleSummary = {
  userId: 'alice',
  mode: 'paper',
  status: 'active',
  capitalUsd: 1000,
  stopLossPct: 5,
  horizonDeadline: null,
  paused: false,
  killSwitch: { engaged: false, reason: null, atMs: null },
  positions: { BTCUSDT: { qty: 0.01, entryPrice: 50_000 } },
  realizedPnlUsd: 0,
  equityUsd: 995,
  unrealizedPnlUsd: -5,
  grossExposureUsd: 495,
  unpricedSymbols: [],
  openOrders: [],
};

/** One long round trip: bought `qty` at `entry`, sold at `exit`, closed at `closedAtMs` (a minute after it opened). */
export interface SampleTrip {
  symbol: string;
  qty: string;
  entry: string;
  exit: string;
  closedAtMs: number;
}

/**
 * Commits the fill-ledger entries of `trips` for `userId` (one session): a buy at the entry, a sell at the exit
 * realizing qty × (exit − entry), each with a 0.01 commission. Exact decimals, as the engine books them.
 */
export async function commitClosedTrips(log: MemoryLog, userId: string, trips: readonly SampleTrip[]): Promise<void> {
  const sessionId = `${userId}:1`;
  const entry = (t: SampleTrip, n: number, side: 'BUY' | 'SELL'): LedgerEntry => {
    const realized = side === 'SELL' ? mul(toQty(t.qty), sub(toDecimal(t.exit), toDecimal(t.entry))) : zero;
    const fee = toUsd('0.01');
    return {
      kind: 'fill',
      userId,
      sessionId,
      venue: 'paper',
      symbol: t.symbol,
      clientOrderId: `qe-${n}-${side}`,
      exchangeOrderId: null,
      side,
      qty: toQty(t.qty),
      price: toPrice(side === 'BUY' ? t.entry : t.exit),
      feeUsd: fee,
      realizedPnlUsd: toUsd(realized),
      fundingUsd: zero,
      netUsd: toUsd(sub(realized, fee)),
      tradeId: null,
      cause: null,
      timeMs: side === 'BUY' ? t.closedAtMs - 60_000 : t.closedAtMs,
    };
  };
  const entries = trips.flatMap((t, n) => [entry(t, n, 'BUY'), entry(t, n, 'SELL')]);
  await log.commit({
    wal: ['{}'],
    outbound: [],
    ack: [],
    deadLetters: [],
    ledger: entries.map((e) => ({ walIndex: 0, userId, sessionId, data: serializeLedgerEntry(e) })),
  });
}
