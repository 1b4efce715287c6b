import { describe, expect, it } from 'vitest';
import { orderJson, plainOrderJson, plainOrderUpdate, toOrderSnapshot, toUserDataEvent, userOrderUpdate } from '../../src/exchange/binance/mapping.js';

// The order messages are checked for a plain shape before their schemas (mapping.ts): a message passing the check
// must pass the schema, and read as the schema's output, field for field; a valid plain message must not be turned
// away (nothing else would notice: it only costs time); anything else keeps the schema's reading and errors.

const update = {
  e: 'ORDER_TRADE_UPDATE',
  E: 1_700_000_000_100,
  T: 1_700_000_000_000,
  o: {
    s: 'BTCUSDT',
    c: 'qe1-1',
    S: 'BUY',
    o: 'LIMIT',
    q: '0.010',
    ap: '65000.10',
    x: 'TRADE',
    X: 'PARTIALLY_FILLED',
    i: 42,
    l: '0.004',
    z: '0.004',
    L: '65000.1',
    N: 'USDT',
    n: '0.10400016',
    T: 1_700_000_000_000,
    t: 7,
    m: true,
    rp: '0.00000000',
  },
};
const order = {
  orderId: 42,
  symbol: 'BTCUSDT',
  status: 'NEW',
  clientOrderId: 'qe1-1',
  avgPrice: '0',
  origQty: '0.010',
  executedQty: '0',
  side: 'SELL',
  updateTime: 1_700_000_000_000,
  type: 'LIMIT',
};

type Fields = Record<string, unknown>;
const withO = (o: Fields): Fields => ({ ...update, o: { ...update.o, ...o } });
const without = (fields: Fields, key: string): Fields => Object.fromEntries(Object.entries(fields).filter(([k]) => k !== key));

const updateCases: Fields[] = [
  update,
  without(update, 'T'),
  { ...update, o: without(update.o, 'x') },
  { ...update, o: ['n', 'N', 'rp', 'l', 'L', 't', 'm', 'T', 'x'].reduce((o, k) => without(o, k), update.o as Fields) },
  withO({ N: null, t: '123', i: '42', X: 'FILLED' }),
  withO({ X: 'EXPIRED_IN_MATCH' }),
  withO({ X: 'CANCELED' }),
  withO({ X: 'NEW', x: 'NEW', t: 0 }),
  withO({ X: 'DONE' }),
  withO({ S: 'buy' }),
  withO({ q: 0.01 }),
  withO({ z: 4 }),
  withO({ ap: null }),
  withO({ n: 0.1 }),
  withO({ l: undefined }),
  withO({ t: -1 }),
  withO({ t: 1.5 }),
  withO({ t: 2 ** 60 }),
  withO({ t: '12a' }),
  withO({ m: 'true' }),
  withO({ T: '5' }),
  withO({ T: Number.POSITIVE_INFINITY }),
  withO({ i: null }),
  withO({ c: 5 }),
  { ...update, T: Number.NaN },
  { ...update, T: undefined },
  { ...update, o: null },
  { ...update, o: [] },
  { ...update, e: 'ORDER_TRADE_UPDATES' },
];

const orderCases: Fields[] = [
  order,
  without(order, 'avgPrice'),
  without(without(order, 'updateTime'), 'avgPrice'),
  { ...order, orderId: '42', status: 'PARTIALLY_FILLED' },
  { ...order, status: 'EXPIRED_IN_MATCH' },
  { ...order, status: 'REJECTED' },
  { ...order, status: 'unknown' },
  { ...order, origQty: 0.01 },
  { ...order, executedQty: null },
  { ...order, avgPrice: 0 },
  { ...order, avgPrice: undefined },
  { ...order, updateTime: '1' },
  { ...order, updateTime: Number.POSITIVE_INFINITY },
  { ...order, side: 'BOTH' },
  { ...order, clientOrderId: 1 },
  { ...order, orderId: true },
];

/** The schema's output fields, compared with the same fields of the plain message (the schema drops the others). */
function sameReading(plain: Fields, parsed: Fields): void {
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'object' && value !== null) sameReading(plain[key] as Fields, value as Fields);
    else expect([key, plain[key]]).toEqual([key, value]);
  }
  for (const key of Object.keys(plain)) if (!(key in parsed)) expect([key, 'kept by the schema']).toEqual([key, 'dropped']);
}

/** Keys the schema knows, present as undefined: the plain check leaves such a message to the schema. */
const hasUndefinedField = (value: Fields): boolean =>
  Object.values(value).some((v) => v === undefined || (typeof v === 'object' && v !== null && hasUndefinedField(v as Fields)));

describe('plain order shapes', () => {
  it.each(updateCases.map((c, i) => [i, c] as const))('ORDER_TRADE_UPDATE case %i reads as the schema reads it', (_i, body) => {
    const plain = plainOrderUpdate(body);
    const schema = userOrderUpdate.safeParse(body);
    if (plain !== null) {
      expect(schema.success).toBe(true);
      sameReading(
        {
          e: plain.e,
          ...('T' in plain ? { T: plain.T } : {}),
          o: Object.fromEntries(Object.keys(schema.data?.o ?? {}).map((k) => [k, (plain.o as Fields)[k]])),
        },
        schema.data as Fields,
      );
    } else if (schema.success) {
      const o = body.o as Fields;
      expect(o.X === 'EXPIRED_IN_MATCH' || hasUndefinedField(body) || ['q', 'z', 'ap', 'n', 'rp', 'l', 'L'].some((k) => typeof o[k] === 'number')).toBe(true);
    }
    if (body.e === 'ORDER_TRADE_UPDATE') expect(toUserDataEvent(body).kind).toBe(schema.success ? 'order' : 'malformed');
  });

  it.each(orderCases.map((c, i) => [i, c] as const))('order case %i reads as the schema reads it', (_i, raw) => {
    const plain = plainOrderJson(raw);
    const schema = orderJson.safeParse(raw);
    if (plain !== null) {
      expect(schema.success).toBe(true);
      sameReading(Object.fromEntries(Object.keys(schema.data ?? {}).map((k) => [k, (plain as Fields)[k]])), schema.data as Fields);
    } else if (schema.success) {
      expect(
        raw.status === 'EXPIRED_IN_MATCH' || hasUndefinedField(raw) || ['origQty', 'executedQty', 'avgPrice'].some((k) => typeof raw[k] === 'number'),
      ).toBe(true);
    }
    if (schema.success) expect(toOrderSnapshot(raw).status).toBe(schema.data.status);
    else expect(() => toOrderSnapshot(raw)).toThrow();
  });
});
