import { describe, expect, it } from 'vitest';
import { CoreDriver, eventsOf, placed, snapshotOf } from './fixtures.js';

// An order that walks the book is reported trade by trade (ORDER_TRADE_UPDATE with `l`/`L`), while its average
// price is printed to 5 decimals only: each fill is booked at its trade's own price, exactly, and the position is
// the sum of the fills.

describe('an order filled in several trades', () => {
  it('books each trade at its own price, not one derived from the rounded average', () => {
    const d = new CoreDriver();
    d.tick('BTCUSDT', 50_000, 50_000.1);
    d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    const entry = placed(d.command({ id: 'r', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }))[0]?.order;
    if (!entry) throw new Error('no entry');
    const order = d.order(entry.clientOrderId);
    const trade = (cumQty: string, avgPrice: string, lastQty: string, lastPrice: string) => ({
      kind: 'order_update' as const,
      order: {
        ...snapshotOf(order, 'PARTIALLY_FILLED', cumQty, avgPrice, d.nowMs),
        trade: { cumQty, commission: '0.01', commissionAsset: 'USDT', realizedProfit: '0', lastQty, lastPrice },
      },
    });
    d.step(trade('0.001', '50000.00000', '0.001', '50000.0'));
    // (0.001 × 50000.0 + 0.002 × 50000.1) / 0.003 = 50000.0666…, printed 50000.06666: the average alone would
    // put the second trade at 50000.09999.
    d.step(trade('0.003', '50000.06666', '0.002', '50000.1'));
    expect(eventsOf(d.wal, 'fill').map((f) => [String(f.qty), Number(f.price)])).toEqual([
      ['0.001', 50_000],
      ['0.002', 50_000.1],
    ]);
    expect(d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty).toBe('0.003');
  });
});
