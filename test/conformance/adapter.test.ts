import { describe, expect, it } from 'vitest';
import { classifyError } from '../../src/exchange/binance/errors.js';
import {
  toBookTicker,
  toIncomeRecords,
  toOrderSnapshot,
  toPositions,
  toProtectiveStops,
  toSymbolFilters,
  toUserDataEvent,
} from '../../src/exchange/binance/mapping.js';
import type { OrderSnapshot } from '../../src/model/orders.js';
import type { FundingPayment } from '../../src/model/positions.js';
import { loadFixture } from './same-shape.js';

/** The order snapshot a user-data message carries, or null: what the adapter hands the engine. */
const orderOf = (raw: unknown): OrderSnapshot | null => {
  const event = toUserDataEvent(raw);
  return event.kind === 'order' ? event.order : null;
};

/** The funding payments a user-data message carries ([] for anything but a FUNDING_FEE ACCOUNT_UPDATE). */
const fundingOf = (raw: unknown): FundingPayment[] => {
  const event = toUserDataEvent(raw);
  return event.kind === 'account' ? event.funding : [];
};

// The adapter's parsers against the payloads Binance documents (fixtures/SOURCES.md): each documented payload
// must be accepted and read to the exact model values. Where a test needs a payload the docs do not print (a
// TRADE execution, a FUNDING_FEE update, a STOP_MARKET algo order), it is the documented one with the named
// fields changed, so every other field stays as documented.

type Rec = Record<string, unknown>;
const clone = <T>(v: T): T => structuredClone(v);

describe('ORDER_TRADE_UPDATE (Event Order Update)', () => {
  const doc = loadFixture('order-trade-update') as { o: Rec };

  it('the documented NEW event maps to an order snapshot with the exact decimals and no trade', () => {
    expect(orderOf(doc)).toEqual({
      clientOrderId: 'TEST',
      exchangeOrderId: '8886774',
      symbol: 'BTCUSDT',
      side: 'SELL',
      status: 'NEW',
      origQty: '0.001',
      executedQty: '0',
      avgPrice: '0',
      updateTime: 1568879465650,
    });
  });

  it('the same event as a TRADE execution carries the fill: last qty/price, commission, realized PnL, verbatim', () => {
    const trade = clone(doc);
    Object.assign(trade.o, { x: 'TRADE', X: 'PARTIALLY_FILLED', l: '0.0005', z: '0.0005', L: '7103.04', ap: '7103.04000', n: '0.00142060', rp: '-0.12345678' });
    expect(orderOf(trade)).toMatchObject({
      status: 'PARTIALLY_FILLED',
      executedQty: '0.0005',
      avgPrice: '7103.04000',
      trade: { cumQty: '0.0005', commission: '0.00142060', commissionAsset: 'USDT', realizedProfit: '-0.12345678', lastQty: '0.0005', lastPrice: '7103.04' },
    });
  });

  it('is read inside a combined-stream envelope too', () => {
    expect(orderOf({ stream: 'listen-key', data: doc })?.clientOrderId).toBe('TEST');
  });

  it('EXPIRED_IN_MATCH (documented order status) reads as EXPIRED', () => {
    const expired = clone(doc);
    Object.assign(expired.o, { x: 'EXPIRED', X: 'EXPIRED_IN_MATCH' });
    expect(orderOf(expired)?.status).toBe('EXPIRED');
  });
});

describe('ACCOUNT_UPDATE (Event Balance and Position Update)', () => {
  const doc = loadFixture('account-update') as { a: Rec };

  it('the documented ORDER update is no funding payment (the adapter reads positions over REST)', () => {
    expect(fundingOf(doc)).toEqual([]);
  });

  it('a FUNDING_FEE update (cross: balance only, no P, as the page describes) is one payment per asset with the exact amount', () => {
    const funding = clone(doc);
    funding.a.m = 'FUNDING_FEE';
    delete funding.a.P;
    expect(fundingOf(funding)).toEqual([
      { asset: 'USDT', amount: '50.12345678', symbol: null, exchangeTimeMs: 1564745798938, exchangeId: 'funding:1564745798938:USDT:122624.12345678' },
      { asset: 'BUSD', amount: '-49.12345678', symbol: null, exchangeTimeMs: 1564745798938, exchangeId: 'funding:1564745798938:BUSD:1.00000000' },
    ]);
  });
});

describe('events the adapter does not map yet', () => {
  it('ALGO_UPDATE is neither an order update nor a funding payment (its parser comes with the user-stream work)', () => {
    const doc = loadFixture('algo-update');
    expect(orderOf(doc)).toBeNull();
    expect(fundingOf(doc)).toEqual([]);
  });

  it('listenKeyExpired, with its string "E", is ignored by the order and funding parsers without throwing', () => {
    const doc = loadFixture('listen-key-expired') as Rec;
    expect(typeof doc.E).toBe('string'); // the documented type: a reader must not insist on a number
    expect(orderOf(doc)).toBeNull();
    expect(fundingOf(doc)).toEqual([]);
  });
});

describe('<symbol>@bookTicker', () => {
  it('the documented event maps to symbol, touch and transaction time', () => {
    // BookTicker carries numbers (src/model/market.ts): the touch is for decisions, never booked as money.
    expect(toBookTicker(loadFixture('book-ticker'))).toEqual({ symbol: 'BNBUSDT', bid: 25.3519, ask: 25.3652, time: 1568014460891 });
  });
});

describe('REST answers', () => {
  it('the documented error body is a rejection with its code and message', () => {
    const body = loadFixture('error-body');
    expect(classifyError({ message: 'Request failed with status code 400', response: { status: 400, data: body } })).toEqual({
      kind: 'rejected',
      code: -1121,
      message: 'Invalid symbol.',
      httpStatus: 400,
    });
  });

  it('GET /fapi/v1/order (Query Order) maps to an order snapshot with the exact decimals', () => {
    expect(toOrderSnapshot(loadFixture('query-order'))).toEqual({
      clientOrderId: 'abc',
      exchangeOrderId: '1917641',
      symbol: 'BTCUSDT',
      side: 'BUY',
      status: 'NEW',
      origQty: '0.40',
      executedQty: '0',
      avgPrice: '0.00000',
      updateTime: 1579276756075,
    });
  });

  it('positionRisk v3 maps to the position with the exact amount and entry price', () => {
    expect(toPositions(loadFixture('position-risk-v3'))).toMatchObject([{ symbol: 'ADAUSDT', positionAmt: '30', entryPrice: '0.385' }]);
  });

  it('openAlgoOrders: the documented TAKE_PROFIT is not a protective stop; as STOP_MARKET it maps with the exact trigger', () => {
    const doc = loadFixture('open-algo-orders') as Rec[];
    expect(toProtectiveStops(doc)).toEqual([]);
    const stop = clone(doc);
    Object.assign(stop[0] as Rec, { orderType: 'STOP_MARKET' });
    expect(toProtectiveStops(stop)).toEqual([{ clientAlgoId: 'MRumok0dkhrP4kCm12AHaB', symbol: 'BNBUSDT', side: 'SELL', triggerPrice: '750.000' }]);
  });
});

describe('GET /fapi/v1/income records', () => {
  const doc = loadFixture('income-history') as Rec[];

  it('the documented records map exactly, tranId as text', () => {
    expect(toIncomeRecords(doc)).toEqual({
      records: [
        { symbol: '', incomeType: 'TRANSFER', income: '-0.375', asset: 'USDT', info: 'TRANSFER', time: 1570608000000, tranId: '9689322392', tradeId: '' },
        {
          symbol: 'BTCUSDT',
          incomeType: 'COMMISSION',
          income: '-0.01',
          asset: 'USDT',
          info: 'COMMISSION',
          time: 1570636800000,
          tranId: '9689322392',
          tradeId: '2059192',
        },
      ],
      rejected: [],
    });
  });

  const good = doc[1] as Rec;
  const malformed: [string, unknown, RegExp][] = [
    ['income as a float number', { ...good, income: -0.01 }, /^income: /],
    ['income not a decimal', { ...good, income: 'abc' }, /income is not a decimal string/],
    ['income missing', (({ income: _drop, ...rest }) => rest)(good), /^income: /],
    ['time as a string', { ...good, time: '1570636800000' }, /^time: /],
    ['negative tranId', { ...good, tranId: -1 }, /^tranId: /],
    ['no incomeType', { ...good, incomeType: '' }, /^incomeType: /],
    ['not an object', 'COMMISSION', /^\(record\): /],
    ['null', null, /^\(record\): /],
  ];

  it.each(malformed)('a record with %s is set aside with its reason; the others still map', (_name, bad, reason) => {
    const result = toIncomeRecords([doc[0], bad, good]);
    expect(result.records.map((r) => r.incomeType)).toEqual(['TRANSFER', 'COMMISSION']);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]?.index).toBe(1);
    expect(result.rejected[0]?.reason).toMatch(reason);
  });

  it('a body that is not an array is one rejection, never a throw', () => {
    expect(toIncomeRecords({ code: -1121, msg: 'Invalid symbol.' })).toEqual({
      records: [],
      rejected: [{ index: -1, reason: 'income history is not an array' }],
    });
  });
});

describe('exchangeInfo (Exchange Information)', () => {
  const doc = loadFixture('exchange-info') as { symbols: Rec[] };

  it('the documented symbol maps to its filters, decimals as printed', () => {
    expect(toSymbolFilters(doc, ['BLZUSDT']).BLZUSDT).toEqual({
      symbol: 'BLZUSDT',
      status: 'TRADING',
      tickSize: '0.0001',
      minPrice: '0.0001',
      maxPrice: '300',
      stepSize: '1',
      minQty: '1',
      maxQty: '10000000',
      marketStepSize: '1',
      marketMinQty: '1',
      marketMaxQty: '590119',
      minNotional: '5.0',
      multiplierUp: '1.1500',
      multiplierDown: '0.8500',
    });
  });

  it('refuses a symbol margined in another asset than USDT (a USDC contract): its money would be booked as USDT', () => {
    const usdc = clone(doc);
    usdc.symbols = [{ ...(doc.symbols[0] as Rec), symbol: 'BLZUSDC', quoteAsset: 'USDC', marginAsset: 'USDC' }];
    expect(() => toSymbolFilters(usdc, ['BLZUSDC'])).toThrow('BLZUSDC is margined in USDC; the engine books USDT only: trade a USDT-margined symbol instead');
    // A symbol of the file the engine does not trade is not its concern.
    expect(() => toSymbolFilters({ symbols: [...doc.symbols, ...usdc.symbols] }, ['BLZUSDT'])).not.toThrow();
  });
});
