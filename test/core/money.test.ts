import { describe, expect, it } from 'vitest';
import { foldEvents } from '../../src/core/events.js';
import type { WalEvent } from '../../src/core/events.js';
import { emptyDurableState, withDurableDefaults } from '../../src/core/state.js';
import type { DurableStateJson } from '../../src/core/state.js';
import type { SymbolFilters } from '../../src/model/market.js';
import { CoreDriver, eventsOf, makeFilters, placed, replies, snapshotOf, testConfig, testFilters, viaJson } from './fixtures.js';

// Money is exact: positions, entry prices and PnL are decimal strings computed without float epsilons. These
// scenarios drift, or are "corrected" by float noise, when positions and PnL are JS numbers. They use only the
// core's inputs (commands, order snapshots as the exchange sends them, reconcile reads), never its helpers.

function startAndEnter(d: CoreDriver, symbol: string, bid: number, ask: number, capitalUsd: number): string {
  d.tick(symbol, bid, ask);
  d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd });
  const entry = placed(d.command({ id: 'route', userId: 'signals', type: 'signals.route', signals: [{ symbol, weight: 1 }] }))[0];
  if (!entry) throw new Error('no entry planned');
  return entry.order.clientOrderId;
}

/** Reports cumulative partial fills (executedQty / avgPrice as the exchange writes them), then a cancel. */
function partialFills(d: CoreDriver, id: string, steps: readonly [executedQty: string, avgPrice: string][]): void {
  for (const [executed, avg] of steps) d.step({ kind: 'order_update', order: snapshotOf(d.order(id), 'PARTIALLY_FILLED', executed, avg, d.nowMs) });
  const last = steps[steps.length - 1];
  d.step({ kind: 'order_update', order: snapshotOf(d.order(id), 'CANCELED', last?.[0] ?? '0', last?.[1] ?? '0', d.nowMs) });
}

/** Stops the session and fills its flatten at `price`; returns the realized PnL the stop reply reports. */
function stopAndFlatten(d: CoreDriver, symbol: string, price: number): unknown {
  const stop = d.command({ id: 'stop', userId: 'u', type: 'session.stop' });
  const flatten = placed(stop).find((p) => p.order.symbol === symbol);
  if (!flatten) throw new Error('no flatten planned');
  const done = d.fill(flatten.order.clientOrderId, price);
  const reply = replies(done).find((r) => r.commandId === 'stop');
  expect(reply?.status).toBe('done');
  return (reply?.result as { realizedPnlUsd?: unknown } | undefined)?.realizedPnlUsd;
}

describe('exact money: no float drift', () => {
  it('three fills of 0.1 then a sell of 0.3 leave exactly zero and realized PnL exact to the cent', () => {
    const d = new CoreDriver();
    const id = startAndEnter(d, 'BTCUSDT', 33_333.3, 33_333.4, 100_000);
    partialFills(d, id, [
      ['0.100', '33333.3'],
      ['0.200', '33333.3'],
      ['0.300', '33333.3'],
    ]);
    const position = d.state.durable.sessions.get('u')?.positions.BTCUSDT;
    expect(String(position?.qty)).toBe('0.3');
    expect(String(position?.entryPrice)).toBe('33333.3');
    // Each fill's price is derived from cumulative averages; exactly, each is 33333.3.
    expect(eventsOf(d.wal, 'fill').map((f) => String(f.price))).toEqual(['33333.3', '33333.3', '33333.3']);

    const realized = stopAndFlatten(d, 'BTCUSDT', 33_333.4);
    // Closed, which the fold allows only with every position exactly zero.
    expect(eventsOf(d.wal, 'session.closed')).toHaveLength(1);
    // 0.3 × (33333.4 − 33333.3) = 0.03 exactly (floats give 0.030000000000654836).
    expect(String(d.state.durable.sessions.get('u')?.realizedPnlUsd)).toBe('0.03');
    expect(realized).toBe(0.03);
    expect(d.state.durable.sessions.get('u')?.status).toBe('closed');
  });

  it('a thousand partial fills of 0.001 at 33333.3 sum to exactly 1 at exactly 33333.3', () => {
    const d = new CoreDriver();
    const id = startAndEnter(d, 'BTCUSDT', 33_333.3, 33_333.4, 100_000);
    const steps = Array.from({ length: 1_000 }, (_, i): [string, string] => [((i + 1) / 1_000).toFixed(3), '33333.3']);
    partialFills(d, id, steps);
    expect(eventsOf(d.wal, 'fill')).toHaveLength(1_000);
    expect(eventsOf(d.wal, 'fill').every((f) => String(f.qty) === '0.001' && String(f.price) === '33333.3')).toBe(true);
    const position = d.state.durable.sessions.get('u')?.positions.BTCUSDT;
    expect(String(position?.qty)).toBe('1');
    expect(String(position?.entryPrice)).toBe('33333.3');

    // The exchange holds exactly what the engine holds: no "correction".
    const reconcile = d.step({ kind: 'reconcile', userId: 'u', positions: [{ symbol: 'BTCUSDT', positionAmt: '1.000', entryPrice: '33333.30' }] });
    expect(eventsOf(reconcile.wal, 'position.adopted')).toEqual([]);
    expect(reconcile.outbound.filter((o) => o.type === 'alert')).toEqual([]);

    const realized = stopAndFlatten(d, 'BTCUSDT', 33_333.4);
    expect(String(d.state.durable.sessions.get('u')?.realizedPnlUsd)).toBe('0.1');
    expect(realized).toBe(0.1);
  });

  it('reconcile leaves a large position that equals the exchange exactly alone, and corrects one a step off', () => {
    // A low-priced symbol: tens of millions of units with 3 decimals, beyond what a double holds exactly.
    const meme: SymbolFilters = makeFilters('MEMEUSDT', {
      tickSize: '0.0000001',
      minPrice: '0.0000001',
      stepSize: '0.001',
      minQty: '0.001',
      maxQty: '1000000000',
      marketStepSize: '0.001',
      marketMaxQty: '1000000000',
      minNotional: '5',
    });
    const d = new CoreDriver({ config: { ...testConfig, symbols: [...testConfig.symbols, 'MEMEUSDT'] }, filters: { ...testFilters, MEMEUSDT: meme } });
    const id = startAndEnter(d, 'MEMEUSDT', 0.0123456, 0.0123457, 1_000_000);
    partialFills(d, id, [
      ['12345678.901', '0.0123456'],
      ['23456789.012', '0.0123456'],
      ['34567890.123', '0.0123456'],
      ['45678901.234', '0.0123456'],
      ['56789012.345', '0.0123456'],
      ['67890123.457', '0.0123456'],
    ]);
    expect(String(d.state.durable.sessions.get('u')?.positions.MEMEUSDT?.qty)).toBe('67890123.457');
    // A second order adds 0.003: as doubles, 67890123.457 + 0.003 is 67890123.46000001.
    const second = placed(d.command({ id: 'route2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'MEMEUSDT', weight: 1 }] }))[0];
    partialFills(d, second?.order.clientOrderId ?? '', [['0.003', '0.0123457']]);
    expect(String(d.state.durable.sessions.get('u')?.positions.MEMEUSDT?.qty)).toBe('67890123.46');
    const same = d.step({ kind: 'reconcile', userId: 'u', positions: [{ symbol: 'MEMEUSDT', positionAmt: '67890123.460', entryPrice: '0.0123456' }] });
    expect(eventsOf(same.wal, 'position.adopted')).toEqual([]);
    expect(same.outbound.filter((o) => o.type === 'alert')).toEqual([]);

    const off = d.step({ kind: 'reconcile', userId: 'u', positions: [{ symbol: 'MEMEUSDT', positionAmt: '67890123.459', entryPrice: '0.0123456' }] });
    expect(eventsOf(off.wal, 'position.adopted').map((e) => String(e.qty))).toEqual(['67890123.459']);
    expect(String(d.state.durable.sessions.get('u')?.positions.MEMEUSDT?.qty)).toBe('67890123.459');
  });
});

describe('old logs and snapshots (amounts as JSON numbers) replay exactly', () => {
  const oldLog: WalEvent[] = [
    { type: 'engine.initialized', epoch: 'old' },
    { type: 'session.started', userId: 'u', mode: 'paper', capitalUsd: 10_000, stopLossPct: 5, horizonDeadlineMs: null, atMs: 1 },
    { type: 'fill', clientOrderId: 'a', userId: 'u', symbol: 'BTCUSDT', side: 'BUY', qty: 0.1, price: 33_333.3, atMs: 2 },
    { type: 'fill', clientOrderId: 'a', userId: 'u', symbol: 'BTCUSDT', side: 'BUY', qty: 0.2, price: 33_333.3, atMs: 3 },
    { type: 'fill', clientOrderId: 'b', userId: 'u', symbol: 'BTCUSDT', side: 'SELL', qty: 0.3, price: 33_333.4, atMs: 4 },
    // Exponent notation is what JSON.stringify writes for small numbers.
    { type: 'position.adopted', userId: 'u', symbol: 'ETHUSDT', qty: 1e-7, entryPrice: 2_000.5, reason: 'old' },
    { type: 'fill', clientOrderId: 'c', userId: 'u', symbol: 'ETHUSDT', side: 'SELL', qty: 3e-7, price: 2_000.25, atMs: 5 },
  ];

  it('folds an old-format event list into exact state', () => {
    const state = foldEvents(emptyDurableState(), viaJson(oldLog), testConfig);
    const session = state.sessions.get('u');
    expect(session?.capitalUsd).toBe('10000');
    expect(session?.positions.BTCUSDT).toEqual({ qty: '0', entryPrice: '0' });
    // 0.3 × 0.1 on BTC, plus 1e-7 × (2000.25 − 2000.5) closing ETH before the flip to short.
    expect(session?.realizedPnlUsd).toBe('0.029999975');
    expect(session?.positions.ETHUSDT).toEqual({ qty: '-0.0000002', entryPrice: '2000.25' });
  });

  it('reads an old-format snapshot into exact state, and goes on folding new events onto it', () => {
    const snapshot = viaJson({
      ...emptyDurableState(),
      epoch: 'old',
      sessions: {
        u: {
          userId: 'u',
          mode: 'paper',
          status: 'active',
          capitalUsd: 10_000,
          stopLossPct: null,
          horizonDeadlineMs: null,
          paused: false,
          killSwitch: { engaged: false, reason: null, atMs: null },
          startedAtMs: 1,
          realizedPnlUsd: 0.030000000000654836,
          positions: { BTCUSDT: { qty: 0.30000000000000004, entryPrice: 33_333.3 }, ETHUSDT: { qty: 1e-7, entryPrice: 2_000.5 } },
          intents: {},
          protectiveStops: {},
          stopCommandId: null,
        },
      },
    }) as unknown as DurableStateJson;
    const state = withDurableDefaults(snapshot);
    const session = state.sessions.get('u');
    expect(session?.capitalUsd).toBe('10000');
    expect(session?.realizedPnlUsd).toBe('0.030000000000654836');
    expect(session?.positions.BTCUSDT).toEqual({ qty: '0.30000000000000004', entryPrice: '33333.3' });
    expect(session?.positions.ETHUSDT).toEqual({ qty: '0.0000001', entryPrice: '2000.5' });
    const next = foldEvents(
      state,
      [{ type: 'fill', clientOrderId: 'd', userId: 'u', symbol: 'ETHUSDT', side: 'SELL', qty: '0.0000001' as never, price: '2001' as never, atMs: 6 }],
      testConfig,
    );
    expect(next.sessions.get('u')?.positions.ETHUSDT?.qty).toBe('0');
    expect(next.sessions.get('u')?.realizedPnlUsd).toBe('0.030000050000654836');
  });

  it('refuses a fill whose amounts are not decimals', () => {
    const bad = [
      ...oldLog.slice(0, 2),
      { type: 'fill', clientOrderId: 'x', userId: 'u', symbol: 'BTCUSDT', side: 'BUY', qty: 'NaN', price: 1, atMs: 2 } as unknown as WalEvent,
    ];
    expect(() => foldEvents(emptyDurableState(), bad, testConfig)).toThrow(/bad fill/);
  });
});
