import { describe, expect, it } from 'vitest';
import { toUserDataEvent } from '../../src/exchange/binance/mapping.js';

// User-data messages as Binance documents them (user-data-streams/Event-*): strict about the fields we act on,
// tolerant of extra ones, and never throwing on a malformed one.

const algoUpdate = {
  e: 'ALGO_UPDATE',
  T: 1750515742297,
  E: 1750515742303,
  o: {
    caid: 'qsabc-7',
    aid: 2148719,
    at: 'CONDITIONAL',
    o: 'STOP_MARKET',
    s: 'BTCUSDT',
    S: 'SELL',
    ps: 'BOTH',
    f: 'GTC',
    q: '0',
    X: 'TRIGGERED',
    ai: '4000000123',
    tp: '60000',
    p: '0',
    V: 'EXPIRE_MAKER',
    wt: 'CONTRACT_PRICE',
    pm: 'NONE',
    cp: true,
    pP: false,
    R: true,
    tt: 1750515742297,
    gtd: 0,
    someFutureField: 'x',
  },
};

describe('user-data events', () => {
  it('reads ALGO_UPDATE with the actual order id (empty ai before the trigger)', () => {
    expect(toUserDataEvent(algoUpdate)).toEqual({
      kind: 'algo',
      update: {
        clientAlgoId: 'qsabc-7',
        algoId: '2148719',
        symbol: 'BTCUSDT',
        side: 'SELL',
        status: 'TRIGGERED',
        actualOrderId: '4000000123',
        updateTime: 1750515742297,
      },
    });
    const fresh = toUserDataEvent({ ...algoUpdate, o: { ...algoUpdate.o, X: 'NEW', ai: '' } });
    expect(fresh.kind === 'algo' ? fresh.update.actualOrderId : 'x').toBeNull();
  });

  it('reads ACCOUNT_UPDATE positions (one-way only) and funding balances', () => {
    const order = toUserDataEvent({
      e: 'ACCOUNT_UPDATE',
      E: 2,
      T: 1,
      a: {
        m: 'ORDER',
        B: [{ a: 'USDT', wb: '100', cw: '100', bc: '0' }],
        P: [
          { s: 'BTCUSDT', pa: '-0.010', ep: '60000', bep: '0', cr: '0', up: '0', mt: 'cross', iw: '0', ps: 'BOTH' },
          { s: 'ETHUSDT', pa: '1', ep: '3000', ps: 'LONG' },
        ],
      },
    });
    expect(order).toEqual({
      kind: 'account',
      reason: 'ORDER',
      funding: [],
      positions: [{ symbol: 'BTCUSDT', positionAmt: '-0.010', entryPrice: '60000' }],
      exchangeTimeMs: 1,
    });
    const funding = toUserDataEvent({ e: 'ACCOUNT_UPDATE', E: 2, T: 5, a: { m: 'FUNDING_FEE', B: [{ a: 'USDT', wb: '99.5', cw: '99.5', bc: '-0.5' }] } });
    expect(funding.kind === 'account' ? funding.funding : []).toEqual([
      { asset: 'USDT', amount: '-0.5', symbol: null, exchangeTimeMs: 5, exchangeId: 'funding:5:USDT:99.5' },
    ]);
  });

  it("reads ACCOUNT_CONFIG_UPDATE: a symbol's leverage (ac) or the multi-assets mode (ai); one with neither is malformed", () => {
    const at = { e: 'ACCOUNT_CONFIG_UPDATE', E: 1611646737479, T: 1611646737476 };
    expect(toUserDataEvent({ ...at, ac: { s: 'BTCUSDT', l: 25 } })).toEqual({
      kind: 'config',
      changes: [{ kind: 'leverage', symbol: 'BTCUSDT', leverage: 25 }],
    });
    expect(toUserDataEvent({ stream: 'k', data: { ...at, ai: { j: true } } })).toEqual({ kind: 'config', changes: [{ kind: 'multi_assets', on: true }] });
    expect(toUserDataEvent(at)).toMatchObject({ kind: 'malformed', type: 'ACCOUNT_CONFIG_UPDATE' });
    expect(toUserDataEvent({ ...at, ac: { s: 'BTCUSDT', l: '25x' } })).toMatchObject({ kind: 'malformed', type: 'ACCOUNT_CONFIG_UPDATE' });
  });

  it("reads ACCOUNT_UPDATE MARGIN_TYPE_CHANGE as a symbol's margin type changed, its balances not required", () => {
    const at = { e: 'ACCOUNT_UPDATE', E: 1611646737479, T: 1611646737476 };
    const flat = { s: 'BTCUSDT', pa: '0', ep: '0.0', bep: '0.0', cr: '0', up: '0', iw: '0', ps: 'BOTH' };
    expect(toUserDataEvent({ ...at, a: { m: 'MARGIN_TYPE_CHANGE', B: [], P: [{ ...flat, mt: 'isolated' }] } })).toEqual({
      kind: 'config',
      changes: [{ kind: 'margin_type', symbol: 'BTCUSDT', isolated: true }],
    });
    expect(toUserDataEvent({ stream: 'k', data: { ...at, a: { m: 'MARGIN_TYPE_CHANGE', P: [{ s: 'ETHUSDT', mt: 'cross' }] } } })).toEqual({
      kind: 'config',
      changes: [{ kind: 'margin_type', symbol: 'ETHUSDT', isolated: false }],
    });
    // An ORDER update of an isolated position is not a change of its margin type.
    expect(toUserDataEvent({ ...at, a: { m: 'ORDER', B: [{ a: 'USDT', wb: '10', bc: '0' }], P: [{ ...flat, pa: '0.1', mt: 'isolated' }] } })).toMatchObject({
      kind: 'account',
      reason: 'ORDER',
    });
  });

  it('reads listenKeyExpired with E as a string or a number', () => {
    expect(toUserDataEvent({ e: 'listenKeyExpired', E: '1736996475556', listenKey: 'k' })).toEqual({ kind: 'listen_key_expired', listenKey: 'k' });
    expect(toUserDataEvent({ e: 'listenKeyExpired', E: 1576653824250 })).toEqual({ kind: 'listen_key_expired', listenKey: null });
  });

  it('reports malformed messages of known types and ignores unknown types, never throwing', () => {
    expect(toUserDataEvent({ e: 'ALGO_UPDATE', o: { caid: 1 } }).kind).toBe('malformed');
    expect(toUserDataEvent({ e: 'ACCOUNT_UPDATE', T: 1, a: { m: 'ORDER', B: 'nope' } }).kind).toBe('malformed');
    expect(toUserDataEvent({ e: 'ORDER_TRADE_UPDATE', o: {} }).kind).toBe('malformed');
    expect(toUserDataEvent({ e: 'TRADE_LITE' })).toEqual({ kind: 'ignored', type: 'TRADE_LITE' });
    expect(toUserDataEvent(null)).toMatchObject({ kind: 'malformed', type: null });
    expect(toUserDataEvent('x')).toMatchObject({ kind: 'malformed', type: null });
    // The combined-stream wrapper is unwrapped.
    expect(toUserDataEvent({ stream: 'k', data: { e: 'listenKeyExpired', E: 1 } }).kind).toBe('listen_key_expired');
  });
});
