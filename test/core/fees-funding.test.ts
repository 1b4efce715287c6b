import { describe, expect, it } from 'vitest';
import { valueSession } from '../../src/core/mtm.js';
import { withDurableDefaults } from '../../src/core/state.js';
import type { FundingPayment } from '../../src/model/positions.js';
import { CoreDriver, eventsOf, placed, snapshotOf } from './fixtures.js';

// Fees and funding are booked exactly and once: a trade's commission once however often (or late) its update
// arrives, a funding payment once per exchange id and never one from before the session; equity is capital +
// realized − fees + funding + unrealized at bid/ask.

function started(): CoreDriver {
  const d = new CoreDriver();
  d.tick('BTCUSDT', 50_000, 50_000.1);
  d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
  return d;
}

const payment = (exchangeId: string, amount: string, exchangeTimeMs: number): FundingPayment => ({
  asset: 'USDT',
  amount,
  symbol: 'BTCUSDT',
  exchangeTimeMs,
  exchangeId,
});

describe('fees and funding', () => {
  it('books a trade’s commission once, whether its update repeats or an older one arrives late', () => {
    const d = started();
    const entry = placed(d.command({ id: 'r', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }))[0]?.order;
    if (!entry) throw new Error('no entry');
    const order = d.order(entry.clientOrderId);
    const half = (Number(order.quantity) / 2).toFixed(3);
    const update = (status: 'PARTIALLY_FILLED' | 'FILLED', cumQty: string, commission: string) => ({
      kind: 'order_update' as const,
      order: {
        ...snapshotOf(order, status, cumQty, '50000', d.nowMs),
        trade: { cumQty, commission, commissionAsset: 'USDT', realizedProfit: '0' },
      },
    });
    const fees = (): string[] => eventsOf(d.wal, 'fee').map((e) => String(e.feeUsd));
    d.step(update('PARTIALLY_FILLED', half, '1.25'));
    d.step(update('PARTIALLY_FILLED', half, '1.25')); // the same trade delivered twice
    d.step(update('FILLED', order.quantity, '1.25'));
    d.step(update('PARTIALLY_FILLED', half, '1.25')); // an older update arriving late
    expect(fees()).toEqual(['1.25', '1.25']);
    expect(d.state.durable.sessions.u?.feesUsd).toBe('2.5');
  });

  it('does not charge the running session a commission that arrives after its own session closed', () => {
    const d = started();
    const entry = placed(d.command({ id: 'r', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }))[0]?.order;
    if (!entry) throw new Error('no entry');
    const order = d.order(entry.clientOrderId);
    // The fill is learnt without its trade (a query answer), so its commission is not known yet.
    d.step({ kind: 'order_update', order: snapshotOf(order, 'FILLED', order.quantity, '50000', d.nowMs) });
    const flatten = placed(d.command({ id: 'stop', userId: 'u', type: 'session.stop' }))[0]?.order;
    if (!flatten) throw new Error('no flatten');
    d.step({ kind: 'order_update', order: snapshotOf(d.order(flatten.clientOrderId), 'FILLED', flatten.quantity, '50000', d.nowMs) });
    expect(d.state.durable.sessions.u?.status).toBe('closed');
    d.nowMs += 1;
    d.command({ id: 'start2', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    d.step({
      kind: 'order_update',
      order: {
        ...snapshotOf(order, 'FILLED', order.quantity, '50000', d.nowMs),
        trade: { cumQty: order.quantity, commission: '1.25', commissionAsset: 'USDT', realizedProfit: '0' },
      },
    });
    expect(eventsOf(d.wal, 'fee')).toEqual([]);
    expect(d.state.durable.sessions.u?.feesUsd).toBe('0');
  });

  it('books a funding payment once per exchange id, and none from before the session started', () => {
    const d = started();
    const startedAtMs = d.state.durable.sessions.u?.startedAtMs ?? 0;
    d.step({ kind: 'funding', userId: 'u', payment: payment('f1', '-3.1', startedAtMs + 1) });
    d.step({ kind: 'funding', userId: 'u', payment: payment('f1', '-3.1', startedAtMs + 1) });
    d.step({ kind: 'funding', userId: 'u', payment: payment('f0', '-99', startedAtMs - 1) });
    d.step({ kind: 'funding', userId: 'u', payment: payment('f2', '0.6', startedAtMs + 2) });
    expect(eventsOf(d.wal, 'funding').map((e) => String(e.amountUsd))).toEqual(['-3.1', '0.6']);
    expect(d.state.durable.sessions.u?.fundingUsd).toBe('-2.5');
  });

  it('equity is capital + realized − fees + funding + unrealized at bid/ask, exactly', () => {
    const d = started();
    const startedAtMs = d.state.durable.sessions.u?.startedAtMs ?? 0;
    d.step({ kind: 'funding', userId: 'u', payment: payment('f1', '-0.1', startedAtMs + 1) });
    d.step({ kind: 'funding', userId: 'u', payment: payment('f2', '-0.2', startedAtMs + 2) });
    const session = d.state.durable.sessions.u;
    if (!session) throw new Error('no session');
    expect(String(valueSession(session, d.state.market).equityUsd)).toBe('9999.7');
  });

  it('reads a snapshot written before fees and funding existed as none booked', () => {
    const d = started();
    const old = JSON.parse(JSON.stringify(d.state.durable)) as { sessions: Record<string, Record<string, unknown>> };
    for (const s of Object.values(old.sessions)) {
      delete s.feesUsd;
      delete s.fundingUsd;
      delete s.fundingIds;
    }
    const revived = withDurableDefaults(old as never);
    expect(revived.sessions.u).toMatchObject({ feesUsd: '0', fundingUsd: '0', fundingIds: [] });
  });
});
