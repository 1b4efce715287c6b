import { describe, expect, it } from 'vitest';
import { DecisionContext } from '../../src/core/context.js';
import { onPositionNews } from '../../src/core/position-news.js';
import type { OrderSnapshot } from '../../src/model/orders.js';
import { CoreDriver, eventsOf, stateWithPositions, testConfig } from './fixtures.js';

// News from the user stream beyond order updates: ALGO_UPDATE links a triggered protective stop to the order it
// placed (the adapter hands the link on as `triggeredBy`), and ACCOUNT_UPDATE positions that differ from the
// session's, with no order of ours in flight, ask for a reconcile.

function holding(): CoreDriver {
  const d = new CoreDriver();
  d.state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: null, positions: [{ symbol: 'BTCUSDT', qty: 0.5, entryPrice: 60_000 }] });
  d.tick('BTCUSDT', 59_990, 60_000);
  return d;
}

function stopTrade(triggeredBy: string | undefined): OrderSnapshot {
  return {
    clientOrderId: 'algo-7000000001',
    exchangeOrderId: '4000000123',
    symbol: 'BTCUSDT',
    side: 'SELL',
    status: 'FILLED',
    origQty: '0.5',
    executedQty: '0.5',
    avgPrice: '55000',
    updateTime: 0,
    trade: { cumQty: '0.5', commission: '1', commissionAsset: 'USDT', realizedProfit: '-2500', lastQty: '0.5', lastPrice: '55000' },
    ...(triggeredBy !== undefined ? { triggeredBy } : {}),
  };
}

describe('user-stream news in the core', () => {
  it('a trade placed by the trigger of one of our stops is the stop firing, by id, even with no stop on our books', () => {
    const d = holding();
    const decision = d.step({ kind: 'order_update', order: stopTrade('qsmx53vb5j-3'), userId: 'u', mode: 'paper' });
    expect(eventsOf(decision.wal, 'exchange_fill')).toEqual([expect.objectContaining({ cause: 'protective_stop', clientAlgoId: 'qsmx53vb5j-3' })]);
    expect(eventsOf(decision.wal, 'kill_switch.engaged')).toEqual([expect.objectContaining({ reason: 'protective_stop' })]);
  });

  it('a trade placed by someone else’s conditional order is not taken for our stop', () => {
    const d = holding();
    const decision = d.step({ kind: 'order_update', order: stopTrade('my-own-tp'), userId: 'u', mode: 'paper' });
    expect(eventsOf(decision.wal, 'exchange_fill')).toEqual([expect.objectContaining({ cause: 'manual', clientAlgoId: 'my-own-tp' })]);
  });

  // Called directly: other rules may ask for a read in the same step (the stop sweep), which would blur the count.
  const readsFor = (d: CoreDriver, act: (ctx: DecisionContext) => void): number => {
    const ctx = new DecisionContext(d.state, d.nowMs, testConfig);
    act(ctx);
    return ctx.effects.filter((e) => e.kind === 'reconcile').length;
  };

  it('a pushed position that differs from the session’s asks for a reconcile; an equal one, a foreign symbol or another account does not', () => {
    const d = holding();
    const reads = (positions: { symbol: string; positionAmt: string }[], mode: 'paper' | 'live' = 'paper'): number =>
      readsFor(d, (ctx) =>
        onPositionNews(
          ctx,
          'u',
          mode,
          positions.map((p) => ({ ...p, entryPrice: '60000' })),
        ),
      );
    expect(reads([{ symbol: 'BTCUSDT', positionAmt: '0.500' }])).toBe(0);
    expect(reads([{ symbol: 'DOGEUSDT', positionAmt: '100' }])).toBe(0);
    expect(reads([{ symbol: 'BTCUSDT', positionAmt: '0.3' }], 'live')).toBe(0);
    expect(reads([{ symbol: 'BTCUSDT', positionAmt: '0.3' }])).toBe(1);
    expect(
      reads([
        { symbol: 'BTCUSDT', positionAmt: '0' },
        { symbol: 'ETHUSDT', positionAmt: '1' },
      ]),
    ).toBe(1);
  });
});
