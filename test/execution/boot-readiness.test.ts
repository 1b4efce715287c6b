import { describe, expect, it } from 'vitest';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { WalEvent } from '../../src/core/events.js';
import { paperCredentials } from '../../src/engine/accounts.js';
import type { AccountCredentials, ExchangeAccount, ExchangeConnector } from '../../src/exchange/port.js';
import type { EngineLog } from '../../src/log/port.js';
import { systemClock } from '../../src/engine/clock.js';
import { toDecimal } from '../../src/model/decimal.js';
import type { Price, Qty, Usd } from '../../src/model/decimal.js';
import { startExecutionService } from '../../src/services/execution/service.js';
import { silentLogger } from '../../src/util/logger.js';
import { logHolding, usePaperExchange } from '../support/paper-exchange.js';
import { repliesFor } from '../support/outbound.js';
import { waitFor } from '../support/wait.js';

// Boot does not make every session wait for every other. 50 idle sessions restart against a slow paper exchange
// (every REST call 150 ms late, 4 sessions reconciled at a time: about 6 s of reconciliation). A command for the
// first session must be decided while later ones still reconcile; the old boot took no command before the last
// session was read. A session.stop for the last session waits for that session's reconciliation (it is moved to
// the front of the queue) and is then decided on the exchange's view: the position opened while the engine was
// down is adopted and flattened, never left behind by a stop decided on the replayed (flat) view.

const sessions = 50;
const userOf = (i: number): string => `rd${i}`;

// Busy sessions (holding a position) are reconciled first but in the background too: 12 of them restart against
// the same slow exchange, 2 at a time (about 3 s of reads). The old boot read every busy session before it took a
// command (with 1 000 of them at 11 request weight each, ~4.5 min of the 2 400-a-minute budget): the service
// must now start before the last busy session is read, and a stop for that session waits for its own read.
const busySessions = 12;
const busyUserOf = (i: number): string => `bz${i}`;

/** The connector's accounts, each noting `positions:<user>` in `timeline` when its positions read is answered. */
function positionReadsInto(connector: ExchangeConnector, timeline: string[]): (credentials: AccountCredentials) => ExchangeAccount {
  return (credentials) => {
    const real = connector.account(credentials);
    const userId = credentials.apiKey.replace(/^paper-/, '');
    // The adapter is a class: keep its prototype, override one read.
    return Object.assign(Object.create(real) as ExchangeAccount, {
      getPositions: async () => {
        const positions = await real.getPositions();
        timeline.push(`positions:${userId}`);
        return positions;
      },
    });
  };
}

describe('per-session readiness at boot', () => {
  const paperExchange = usePaperExchange(21);

  it('decides a reconciled session’s command before the boot ends; a waiting one after its own reconciliation', async () => {
    const { sim, connector } = paperExchange();
    const last = userOf(sessions - 1);
    // While the engine was down, the last user's account bought BTC outside it.
    const placed = await connector
      .account(paperCredentials(last))
      .placeOrder({ clientOrderId: 'while-down', symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', reduceOnly: false });
    expect(placed.kind).toBe('accepted');

    const events: WalEvent[] = [{ type: 'engine.initialized', epoch: 'rd1' }];
    for (let i = 0; i < sessions; i += 1) {
      events.push({
        type: 'session.started',
        userId: userOf(i),
        mode: 'paper',
        capitalUsd: toDecimal(10_000) as Usd,
        stopLossPct: null,
        horizonDeadlineMs: null,
        atMs: Date.now(),
      });
    }
    const log = await logHolding(systemClock, events);
    // Commands already waiting in the stream when the engine restarts.
    await log.appendCommand(JSON.stringify({ id: 'first-status', userId: userOf(0), type: 'status' }));
    await log.appendCommand(JSON.stringify({ id: 'last-stop', userId: last, type: 'session.stop' }));
    sim.faults.latencyMs = 150;

    // One timeline of what the exchange answered and what the engine committed, from the restart on.
    const timeline: string[] = [];
    const account = positionReadsInto(connector, timeline);
    const watched: EngineLog = {
      ...log,
      commit: async (batch) => {
        const ids = await log.commit(batch);
        for (const raw of batch.outbound) {
          const event = JSON.parse(raw) as { type: string; commandId?: string };
          if (event.type === 'reply') timeline.push(`reply:${event.commandId ?? ''}`);
        }
        return ids;
      },
    };
    const config = { ...defaultCoreConfig, symbols: ['BTCUSDT'] };
    const service = await startExecutionService({
      log: watched,
      paper: { marketData: () => connector.marketData(), account },
      marketData: { paper: connector.marketData() },
      config,
      logger: silentLogger(),
      timer: 'manual',
      commandBlockMs: 50,
      firstQuotesWaitMs: 500,
      bootReconcileConcurrency: 4,
      onFatal: (error) => {
        throw error;
      },
    });
    try {
      const positionReads = (): number => timeline.filter((t) => t.startsWith('positions:')).length;
      await waitFor(
        'every session reconciled and both commands answered',
        () => positionReads() >= sessions && timeline.includes('reply:first-status') && timeline.includes('reply:last-stop'),
        15_000,
      );
      // Where the last session's reconciliation read its positions (later reads are the stop's own).
      const firstReads = new Set<string>();
      const lastRead = timeline.findIndex((t) => t.startsWith('positions:') && firstReads.add(t).size === sessions);
      // The first session's status was answered while other sessions were still being read.
      expect(timeline.indexOf('reply:first-status')).toBeLessThan(lastRead);
      // The stop waited for its own session's reads, which were moved ahead of the rest of the queue.
      const stopAt = timeline.indexOf('reply:last-stop');
      expect(timeline.indexOf(`positions:${last}`)).toBeLessThan(stopAt);
      expect((await repliesFor(log, 'first-status'))[0]?.status).not.toBe('rejected');
      expect((await repliesFor(log, 'last-stop'))[0]?.status).not.toBe('rejected');
      sim.faults.latencyMs = 0;
      // Decided on the exchange's view: the position bought while down is flattened by the stop.
      await waitFor(
        'the stopped session flat on the exchange',
        async () => ((await connector.account(paperCredentials(last)).getPositions()).every((p) => Number(p.positionAmt) === 0) ? true : undefined),
        10_000,
      );
    } finally {
      sim.faults.latencyMs = 0;
      await service.stop();
    }
  }, 30_000);

  it('takes commands before every busy session is read; a busy session’s stop waits for its own read', async () => {
    const { sim, connector } = paperExchange();
    const events: WalEvent[] = [{ type: 'engine.initialized', epoch: 'bz1' }];
    for (let i = 0; i < busySessions; i += 1) {
      const userId = busyUserOf(i);
      const bought = await connector
        .account(paperCredentials(userId))
        .placeOrder({ clientOrderId: `bz-entry-${i}`, symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', reduceOnly: false });
      expect(bought.kind).toBe('accepted');
      events.push(
        { type: 'session.started', userId, mode: 'paper', capitalUsd: toDecimal(10_000) as Usd, stopLossPct: null, horizonDeadlineMs: null, atMs: Date.now() },
        { type: 'position.adopted', userId, symbol: 'BTCUSDT', qty: toDecimal('0.002') as Qty, entryPrice: toDecimal(50_000) as Price, reason: 'test' },
      );
    }
    const log = await logHolding(systemClock, events);
    const last = busyUserOf(busySessions - 1);
    await log.appendCommand(JSON.stringify({ id: 'busy-stop', userId: last, type: 'session.stop' }));
    sim.faults.latencyMs = 150;
    const timeline: string[] = [];
    const account = positionReadsInto(connector, timeline);
    const service = await startExecutionService({
      log,
      paper: { marketData: () => connector.marketData(), account },
      marketData: { paper: connector.marketData() },
      config: { ...defaultCoreConfig, symbols: ['BTCUSDT'] },
      logger: silentLogger(),
      timer: 'manual',
      commandBlockMs: 50,
      firstQuotesWaitMs: 500,
      bootReconcileConcurrency: 2,
      onFatal: (error) => {
        throw error;
      },
    });
    try {
      const readAtStart = new Set(timeline.filter((t) => t.startsWith('positions:'))).size;
      expect(readAtStart).toBeLessThan(busySessions);
      await waitFor('the busy session’s stop answered', async () => ((await repliesFor(log, 'busy-stop')).length > 0 ? true : undefined), 15_000);
      expect((await repliesFor(log, 'busy-stop'))[0]?.status).not.toBe('rejected');
      expect(timeline.indexOf(`positions:${last}`)).toBeGreaterThanOrEqual(0);
      sim.faults.latencyMs = 0;
      await waitFor(
        'the stopped busy session flat on the exchange',
        async () => ((await connector.account(paperCredentials(last)).getPositions()).every((p) => Number(p.positionAmt) === 0) ? true : undefined),
        10_000,
      );
      await service.reconciled;
    } finally {
      sim.faults.latencyMs = 0;
      await service.stop();
    }
  }, 30_000);
});
