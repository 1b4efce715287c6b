import { describe, expect, it } from 'vitest';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { alertSchema, parseOutboundEvent } from '../../src/contract/outbound.js';
import { sub, toDecimal } from '../../src/model/decimal.js';
import { toUserDataEvent } from '../../src/exchange/binance/mapping.js';
import { CoreDriver, placed, snapshotOf, stateWithPositions } from './fixtures.js';

// Every booked fill carries a typed notice on the alert that reports it (issue 15): user, session, symbol, side,
// order, exact quantity and price, the commission and maker/taker the exchange reported, so no reader parses the
// alert's wording. The notice is an optional field: readers from before it strip it, and an alert without one
// (from an older engine) still reads.

type Alert = Extract<OutboundEvent, { type: 'alert' }>;
const alertsOf = (d: { outbound: OutboundEvent[] }): Alert[] => d.outbound.filter((e): e is Alert => e.type === 'alert');

function withEntry(): { d: CoreDriver; clientOrderId: string; quantity: string } {
  const d = new CoreDriver();
  d.tick('BTCUSDT', 50_000, 50_000.1);
  d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
  const entry = placed(d.command({ id: 'r', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }))[0]?.order;
  if (!entry) throw new Error('no entry');
  return { d, clientOrderId: entry.clientOrderId, quantity: entry.quantity };
}

describe('typed fill notices', () => {
  it('an engine fill carries session, order, exact amounts, and the trade’s commission and maker flag', () => {
    const { d, clientOrderId, quantity } = withEntry();
    const startedAtMs = d.state.durable.sessions.get('u')?.startedAtMs;
    const order = d.order(clientOrderId);
    const first = d.step({
      kind: 'order_update',
      order: {
        ...snapshotOf(order, 'PARTIALLY_FILLED', '0.01', '50000.1', d.nowMs),
        trade: { cumQty: '0.01', commission: '0.1', commissionAsset: 'USDT', realizedProfit: '0', lastQty: '0.01', lastPrice: '50000.1', maker: true },
      },
    });
    expect(alertsOf(first)).toEqual([
      expect.objectContaining({
        userId: 'u',
        kind: 'fill',
        fill: {
          sessionStartedAtMs: startedAtMs,
          symbol: 'BTCUSDT',
          side: 'BUY',
          clientOrderId,
          purpose: 'entry',
          qty: '0.01',
          price: '50000.1',
          fee: { amount: '0.1', asset: 'USDT' },
          liquidity: 'maker',
        },
      }),
    ]);
    // The rest learnt from a query answer: no trade report, so commission and liquidity are unknown.
    const rest = d.step({ kind: 'order_update', order: snapshotOf(d.order(clientOrderId), 'FILLED', quantity, '50000.1', d.nowMs) });
    expect(alertsOf(rest)[0]?.fill).toMatchObject({ qty: sub(toDecimal(quantity), toDecimal('0.01')), fee: null, liquidity: null });
  });

  it('a trade report of another quantity than the fill (an update missed) gives no fee or liquidity for it', () => {
    const { d, clientOrderId, quantity } = withEntry();
    const got = d.step({
      kind: 'order_update',
      order: {
        ...snapshotOf(d.order(clientOrderId), 'FILLED', quantity, '50000', d.nowMs),
        trade: { cumQty: quantity, commission: '0.1', commissionAsset: 'USDT', realizedProfit: '0', lastQty: '0.001', lastPrice: '50000', maker: false },
      },
    });
    expect(alertsOf(got).find((a) => a.kind === 'fill')?.fill).toMatchObject({ qty: quantity, fee: null, liquidity: null });
  });

  it('a trade the exchange made (a liquidation) carries its notice on the exchange_close alert, taker', () => {
    const d = new CoreDriver();
    d.state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 50, positions: [{ symbol: 'BTCUSDT', qty: 0.5, entryPrice: 60_000 }] });
    d.tick('BTCUSDT', 59_990, 60_000);
    const qty = '0.2';
    const got = d.step({
      kind: 'order_update',
      userId: 'u',
      mode: 'paper',
      order: {
        clientOrderId: 'autoclose-1',
        exchangeOrderId: '991',
        symbol: 'BTCUSDT',
        side: 'SELL',
        status: 'FILLED',
        origQty: qty,
        executedQty: qty,
        avgPrice: '57000',
        updateTime: 0,
        trade: { cumQty: qty, commission: '1.2', commissionAsset: 'USDT', realizedProfit: '-600', lastQty: qty, lastPrice: '57000', maker: false },
      },
    });
    expect(alertsOf(got).find((a) => a.kind === 'exchange_close')?.fill).toEqual({
      sessionStartedAtMs: d.state.durable.sessions.get('u')?.startedAtMs,
      symbol: 'BTCUSDT',
      side: 'SELL',
      clientOrderId: 'autoclose-1',
      purpose: 'liquidation',
      qty,
      price: '57000',
      fee: { amount: '1.2', asset: 'USDT' },
      liquidity: 'taker',
    });
  });

  it('the adapter reads ORDER_TRADE_UPDATE’s maker flag `m` into the trade report', () => {
    const update = (m: boolean | undefined) =>
      toUserDataEvent({
        e: 'ORDER_TRADE_UPDATE',
        T: 1,
        o: {
          s: 'BTCUSDT',
          c: 'qe-1',
          S: 'BUY',
          X: 'FILLED',
          q: '1',
          z: '1',
          ap: '10',
          i: 7,
          x: 'TRADE',
          n: '0.01',
          N: 'USDT',
          l: '1',
          L: '10',
          t: 5,
          ...(m === undefined ? {} : { m }),
        },
      });
    const makerOf = (e: ReturnType<typeof update>) => (e.kind === 'order' ? e.order.trade?.maker : 'not an order');
    expect(makerOf(update(true))).toBe(true);
    expect(makerOf(update(false))).toBe(false);
    expect(makerOf(update(undefined))).toBeUndefined();
  });
});

describe('the fill notice on the outbound contract', () => {
  const notice = {
    sessionStartedAtMs: 1,
    symbol: 'BTCUSDT',
    side: 'BUY',
    clientOrderId: 'qe-1',
    purpose: 'entry',
    qty: '0.002',
    price: '50000.1',
    fee: { amount: '0.02', asset: 'USDT' },
    liquidity: 'taker',
  };
  const alert = { type: 'alert', userId: 'u', kind: 'fill', message: 'BUY 0.002 BTCUSDT @ 50000.1 (entry, qe-1)', atMs: 5 };

  it('is read back as written, with fields a newer engine adds kept', () => {
    const parsed = parseOutboundEvent(JSON.stringify({ ...alert, fill: { ...notice, venueTradeId: '9' } }));
    expect(parsed).toEqual({ ok: true, event: { ...alert, fill: { ...notice, venueTradeId: '9' } } });
  });

  it('an alert’s own schema (what readers from before the notice hold) reads a new alert and strips the notice', () => {
    expect(alertSchema.parse({ ...alert, fill: notice })).toEqual(alert);
  });

  it('an alert without a notice (an older engine) or with an unreadable one still reads, without a notice', () => {
    expect(parseOutboundEvent(alert)).toEqual({ ok: true, event: alert });
    expect(parseOutboundEvent({ ...alert, fill: { ...notice, qty: 'lots' } })).toEqual({ ok: true, event: alert });
  });
});
