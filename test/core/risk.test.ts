import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Input } from '../../src/core/decide.js';
import { decide } from '../../src/core/decide.js';
import { add, isMultipleOf, snapToStep, sub, toQty } from '../../src/model/decimal.js';
import type { EngineState } from '../../src/core/state.js';
import type { CoreConfig } from '../../src/core/config.js';
import { CoreDriver, T0, eventsOf, placed, replies, snapshotOf, stateWithPositions, testConfig, testFilters, withQuote } from './fixtures.js';

// Risk rules in the pure core, on a simulated clock: stop-loss at conservative marks, horizon and stale feed by
// wall clock, and the stop command's flatten-then-done lifecycle.

const hourMs = 3_600_000;

/** A session holding a position through a real route + fill (so ids, intents and orders are genuine). */
function withPosition(side: 'long' | 'short', capital: number, stopLossPct: number, entry: number, config: CoreConfig = testConfig): CoreDriver {
  const d = new CoreDriver({ config });
  d.tick('BTCUSDT', entry, entry + 0.1);
  d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: capital, stopLossPct });
  const routed = d.command({ id: 'route', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: side === 'long' ? 1 : -1 }] });
  const order = placed(routed)[0];
  if (!order) throw new Error('no entry planned');
  d.fill(order.order.clientOrderId, entry);
  return d;
}

/** Conservative equity, computed independently of the engine: longs exit at the bid, shorts at the ask. */
function conservativeEquity(capital: number, positions: { qty: number; entryPrice: number; bid: number; ask: number }[]): number {
  return positions.reduce((equity, p) => equity + p.qty * ((p.qty > 0 ? p.bid : p.ask) - p.entryPrice), capital);
}

const tickOf = (symbol: string): number => Number(testFilters[symbol]?.tickSize ?? '0.1');

describe('stop-loss: a breached stop always yields a flatten', () => {
  it('engages the kill switch and flattens every held symbol iff equity at bid/ask is at or below the stop level', () => {
    let breaches = 0;
    let safe = 0;
    fc.assert(
      fc.property(
        fc.record({
          side: fc.constantFrom(1, -1),
          units: fc.integer({ min: 1, max: 100_000 }), // × 0.001 BTC
          entry: fc.integer({ min: 1_000, max: 100_000 }),
          move: fc.integer({ min: 1, max: 900 }).map((x) => x / 1_000), // adverse move, fraction of entry
          pct: fc.integer({ min: 1, max: 99 }),
          // capital relative to the capital that this loss would exactly breach: < 1 breaches, > 1 does not
          capitalFactor: fc.double({ min: 0.05, max: 1.5, noNaN: true }),
          spreadTicks: fc.integer({ min: 1, max: 200 }),
          other: fc.option(
            fc.record({ side: fc.constantFrom(1, -1), units: fc.integer({ min: 1, max: 1_000 }), spreadTicks: fc.integer({ min: 1, max: 50 }) }),
            { nil: undefined },
          ),
          via: fc.constantFrom('tick' as const, 'timer' as const),
        }),
        (g) => {
          const qty = Number(((g.side * g.units) / 1_000).toFixed(3));
          const tick = tickOf('BTCUSDT');
          // The exit price the position is marked at, after an adverse move.
          const exit = g.side > 0 ? g.entry * (1 - g.move) : g.entry * (1 + g.move);
          const bid = g.side > 0 ? Number(snapToStep(exit, '0.10', 'down')) : Number(snapToStep(exit, '0.10', 'up')) - g.spreadTicks * tick;
          const ask = g.side > 0 ? bid + g.spreadTicks * tick : Number(snapToStep(exit, '0.10', 'up'));
          if (bid <= 0) return;
          const loss = Math.abs(qty) * g.entry * g.move;
          const capital = Math.max(1, Math.round(((loss * 100) / g.pct) * g.capitalFactor));
          const ethQty = g.other ? Number(((g.other.side * g.other.units) / 1_000).toFixed(3)) : 0;
          const ethQuote = { bid: 3_000, ask: 3_000 + (g.other?.spreadTicks ?? 1) * tickOf('ETHUSDT') };
          const positions = [{ symbol: 'BTCUSDT', qty, entryPrice: g.entry }, ...(g.other ? [{ symbol: 'ETHUSDT', qty: ethQty, entryPrice: 3_000.5 }] : [])];
          let state: EngineState = stateWithPositions({ capitalUsd: capital, stopLossPct: g.pct, positions, nowMs: T0 });
          if (g.other) state = withQuote(state, 'ETHUSDT', ethQuote.bid, ethQuote.ask, T0);
          const now = T0 + 1_000;
          let input: Input;
          if (g.via === 'tick') {
            input = { kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid, ask, time: now } };
          } else {
            state = withQuote(state, 'BTCUSDT', bid, ask, T0 + 500);
            input = { kind: 'timer' };
          }
          const decision = decide(state, input, now, testConfig);
          const session = decision.state.durable.sessions.get('u');

          const equity = conservativeEquity(capital, [
            { qty, entryPrice: g.entry, bid, ask },
            ...(g.other ? [{ qty: ethQty, entryPrice: 3_000.5, ...ethQuote }] : []),
          ]);
          const level = capital * (1 - g.pct / 100);
          // Stay clear of float ties at the boundary: the engine sums in another order.
          if (Math.abs(equity - level) < 1e-6 * capital) return;
          const breached = equity <= level;
          if (!breached) {
            safe += 1;
            expect(session?.killSwitch.engaged).toBe(false);
            expect(placed(decision)).toEqual([]);
            return;
          }
          breaches += 1;
          expect(session?.killSwitch).toMatchObject({ engaged: true, reason: 'stop_loss', atMs: now });
          expect(eventsOf(decision.wal, 'kill_switch.engaged')).toHaveLength(1);
          const flattens = placed(decision);
          expect(flattens.map((f) => f.order.symbol).sort()).toEqual(positions.map((p) => p.symbol).sort());
          for (const p of positions) {
            const f = flattens.find((e) => e.order.symbol === p.symbol);
            const filters = testFilters[p.symbol];
            expect(f).toMatchObject({ userId: 'u', lane: 'priority', order: { type: 'MARKET', reduceOnly: true, side: p.qty > 0 ? 'SELL' : 'BUY' } });
            expect(f?.order.price).toBeUndefined();
            // It closes the whole position: on the market lot grid, at least the position's size.
            expect(isMultipleOf(f?.order.quantity ?? '', filters?.marketStepSize ?? '')).toBe(true);
            expect(Number(f?.order.quantity)).toBeGreaterThanOrEqual(Math.abs(p.qty) - 1e-12);
          }
          expect(decision.outbound.some((o) => o.type === 'alert' && o.kind === 'stop_loss')).toBe(true);
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 200), seed: Number(process.env.FC_SEED ?? 424242) },
    );
    // Both sides of the boundary were exercised.
    expect(breaches).toBeGreaterThan(40);
    expect(safe).toBeGreaterThan(20);
  });

  it('values longs at the bid: mid shows a profit, the bid a breach', () => {
    let state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'BTCUSDT', qty: 1, entryPrice: 60_000 }] });
    state = withQuote(state, 'BTCUSDT', 60_000, 60_000.1, T0);
    // Bid 59_400 = -600 (6% of capital); ask 60_700 puts mid at 60_050, above the entry.
    const decision = decide(state, { kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 59_400, ask: 60_700, time: T0 } }, T0 + 1, testConfig);
    expect(decision.state.durable.sessions.get('u')?.killSwitch).toMatchObject({ engaged: true, reason: 'stop_loss' });
    expect(placed(decision)[0]).toMatchObject({ lane: 'priority', order: { side: 'SELL', type: 'MARKET', reduceOnly: true, quantity: '1.000' } });
    // The alert gives the amounts and the next step, not only "breached".
    const alert = decision.outbound.find((o) => o.type === 'alert' && o.kind === 'stop_loss');
    expect(alert?.type === 'alert' ? alert.message : '').toBe(
      'stop-loss: equity 9400 USDT at bid/ask reached the floor 9500 USDT (5% below the 10000 USDT capital), a loss of 600 USDT; ' +
        'flattening and blocking new entries. Next: /status follows the close; once it is flat, /stop closes this session and /session starts a new one',
    );
  });

  it('values shorts at the ask: mid shows a profit, the ask a breach', () => {
    const state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'BTCUSDT', qty: -1, entryPrice: 60_000 }] });
    const decision = decide(state, { kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 59_300, ask: 60_600, time: T0 } }, T0 + 1, testConfig);
    expect(decision.state.durable.sessions.get('u')?.killSwitch).toMatchObject({ engaged: true, reason: 'stop_loss' });
    expect(placed(decision)[0]).toMatchObject({ lane: 'priority', order: { side: 'BUY', type: 'MARKET', reduceOnly: true, quantity: '1.000' } });
  });

  it('breaches at exactly the stop level (at or below)', () => {
    // 10_000 capital, 5% stop: level 9_500. Long 1 BTC from 60_000 with the bid at 59_500 = equity 9_500 exactly.
    const state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'BTCUSDT', qty: 1, entryPrice: 60_000 }] });
    const above = decide(state, { kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 59_500.1, ask: 59_500.2, time: T0 } }, T0 + 1, testConfig);
    expect(above.state.durable.sessions.get('u')?.killSwitch.engaged).toBe(false);
    const at = decide(state, { kind: 'tick', venue: 'paper', tick: { symbol: 'BTCUSDT', bid: 59_500, ask: 59_500.1, time: T0 } }, T0 + 1, testConfig);
    expect(at.state.durable.sessions.get('u')?.killSwitch).toMatchObject({ engaged: true, reason: 'stop_loss' });
    expect(placed(at)).toHaveLength(1);
  });

  it('keeps flattening: a rejected flatten is retried after flattenRetryMs, never dropped', () => {
    const state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'BTCUSDT', qty: 1, entryPrice: 60_000 }] });
    const d = new CoreDriver();
    d.state = state;
    const first = placed(d.tick('BTCUSDT', 59_000, 59_000.1))[0];
    expect(first?.order).toMatchObject({ type: 'MARKET', reduceOnly: true });
    d.step({ kind: 'place_result', clientOrderId: first?.order.clientOrderId ?? '', outcome: { kind: 'rejected', code: -1001, message: 'disconnected' } });
    // Backs off for flattenRetryMs rather than hammering the exchange...
    expect(placed(d.timer(d.config.flattenRetryMs - 1))).toEqual([]);
    // ...then sends a new flatten under a new id.
    const retry = placed(d.timer(1));
    expect(retry).toEqual([
      expect.objectContaining({ lane: 'priority', order: expect.objectContaining({ type: 'MARKET', reduceOnly: true, side: 'SELL', quantity: '1.000' }) }),
    ]);
    expect(retry[0]?.order.clientOrderId).not.toBe(first?.order.clientOrderId);
  });

  it('counts realized losses: a flat-ish book with realized PnL below the stop still breaches', () => {
    const d = withPosition('long', 10_000, 5, 60_000);
    const qty = Number(d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty ?? 0);
    expect(qty).toBeGreaterThan(0);
    // Realize a 6% loss on a reduce, then hold the rest at a price with no further loss.
    d.tick('BTCUSDT', 60_000, 60_000.1);
    d.command({ id: 'reduce', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
    const reduce = d.state.durable.orders.values().find((o) => o.purpose === 'reduce');
    expect(reduce).toBeDefined();
    const lossPrice = 60_000 - 600 / Number(reduce?.quantity);
    d.fill(reduce?.clientOrderId ?? '', lossPrice);
    expect(Number(d.state.durable.sessions.get('u')?.realizedPnlUsd)).toBeCloseTo(-600, 6); // the loss price itself is a float estimate
    const decision = d.timer(1_000);
    expect(d.state.durable.sessions.get('u')?.killSwitch.reason).toBe('stop_loss');
    expect(placed(decision)[0]?.order).toMatchObject({ type: 'MARKET', reduceOnly: true, side: 'SELL' });
  });
});

describe('horizon (wall clock, not ticks)', () => {
  it('flattens at the deadline with no tick at all', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 48 * hourMs }), fc.integer({ min: 0, max: 10 * hourMs }), fc.constantFrom(1, -1), (horizonMs, lateMs, side) => {
        const deadline = T0 + horizonMs;
        // A fresh boot just before the deadline and not a single quote: only the horizon can fire.
        const state = stateWithPositions({
          capitalUsd: 10_000,
          stopLossPct: 5,
          horizonDeadlineMs: deadline,
          positions: [{ symbol: 'BTCUSDT', qty: side * 0.25, entryPrice: 60_000 }],
          nowMs: deadline - 1,
        });
        expect(state.market.venues.paper.quotes).toEqual({});
        const before = decide(state, { kind: 'timer' }, deadline - 1, testConfig);
        expect(before.state.durable.sessions.get('u')?.killSwitch.engaged).toBe(false);
        expect(placed(before)).toEqual([]);
        const at = decide(before.state, { kind: 'timer' }, deadline + lateMs, testConfig);
        expect(at.state.durable.sessions.get('u')?.killSwitch).toMatchObject({ engaged: true, reason: 'horizon' });
        expect(placed(at)).toEqual([
          expect.objectContaining({
            lane: 'priority',
            order: expect.objectContaining({ symbol: 'BTCUSDT', type: 'MARKET', reduceOnly: true, quantity: '0.250', side: side > 0 ? 'SELL' : 'BUY' }),
          }),
        ]);
      }),
      { numRuns: 100 },
    );
  });

  it('set_horizon through commands: a timer at the deadline flattens, one ms earlier does not', () => {
    // A feed bound longer than the horizon, so the wall-clock horizon is the only rule that can fire.
    const d = withPosition('long', 10_000, 50, 60_000, { ...testConfig, staleFeedMs: 10 * hourMs });
    d.command({ id: 'hz', userId: 'u', type: 'session.set_horizon', hours: 1 });
    expect(placed(d.timer(hourMs - 1))).toHaveLength(0);
    const decision = d.timer(1);
    expect(d.state.durable.sessions.get('u')?.killSwitch.reason).toBe('horizon');
    expect(placed(decision)[0]?.order).toMatchObject({ type: 'MARKET', reduceOnly: true, side: 'SELL' });
  });
});

describe('stale feed', () => {
  it('flattens after staleFeedMs without a tick on a held symbol, then blocks entries with the kill-switch reason', () => {
    const d = withPosition('short', 10_000, 50, 60_000);
    // Ticks of another symbol do not keep BTC fresh.
    d.tick('ETHUSDT', 3_000, 3_000.01);
    expect(placed(d.timer(d.config.staleFeedMs))).toHaveLength(0);
    const decision = d.timer(1);
    expect(d.state.durable.sessions.get('u')?.killSwitch).toMatchObject({ engaged: true, reason: 'stale_feed:BTCUSDT' });
    const flatten = placed(decision);
    expect(flatten).toEqual([
      expect.objectContaining({ lane: 'priority', order: expect.objectContaining({ type: 'MARKET', reduceOnly: true, side: 'BUY', symbol: 'BTCUSDT' }) }),
    ]);
    expect(decision.outbound.some((o) => o.type === 'alert' && o.kind === 'stale_feed')).toBe(true);

    d.fill(flatten[0]?.order.clientOrderId ?? '', 60_000);
    expect(d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty).toBe('0');
    // The feed is back, but the kill switch stays: no entry order for this user.
    d.tick('BTCUSDT', 60_000, 60_000.1);
    const again = d.command({ id: 'route-2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
    expect(placed(again)).toHaveLength(0);
    expect(replies(again)[0]).toMatchObject({
      status: 'done',
      result: { routed: [{ userId: 'u', symbol: 'BTCUSDT', skipped: 'kill switch engaged (stale_feed:BTCUSDT)' }] },
    });
    // Resuming does not lift it either.
    d.command({ id: 'resume', userId: 'u', type: 'session.resume' });
    expect(placed(d.command({ id: 'route-3', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }))).toHaveLength(0);
  });

  it('a held symbol never quoted is stale once staleFeedMs has passed since its feed started, not since boot', () => {
    const booted = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'ETHUSDT', qty: 2, entryPrice: 3_000 }] });
    // A slow boot (reconciliation reads taking 31 s and more) is not a silent feed: nothing is subscribed yet.
    const slowBootMs = T0 + testConfig.staleFeedMs + 31_000;
    expect(decide(booted, { kind: 'timer' }, slowBootMs, testConfig).state.durable.sessions.get('u')?.killSwitch.engaged).toBe(false);
    const subscribed = decide(booted, { kind: 'feed_started', venue: 'paper', symbols: ['BTCUSDT', 'ETHUSDT'] }, slowBootMs, testConfig).state;
    expect(decide(subscribed, { kind: 'timer' }, slowBootMs + testConfig.staleFeedMs, testConfig).state.durable.sessions.get('u')?.killSwitch.engaged).toBe(
      false,
    );
    const decision = decide(subscribed, { kind: 'timer' }, slowBootMs + testConfig.staleFeedMs + 1, testConfig);
    expect(decision.state.durable.sessions.get('u')?.killSwitch.reason).toBe('stale_feed:ETHUSDT');
    expect(placed(decision)[0]?.order).toMatchObject({ symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', reduceOnly: true, quantity: '2.000' });
  });
});

describe('session.stop', () => {
  it('replies accepted, flattens on the priority lane, and closes with done once the fills are in', () => {
    const d = withPosition('long', 10_000, 50, 60_000);
    const qty = Number(d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty ?? 0);
    const stop = d.command({ id: 'stop', userId: 'u', type: 'session.stop' });
    expect(replies(stop).map((r) => [r.commandId, r.status])).toEqual([['stop', 'accepted']]);
    expect(d.state.durable.sessions.get('u')?.status).toBe('stopping');
    const flatten = placed(stop);
    expect(flatten).toEqual([
      expect.objectContaining({
        lane: 'priority',
        order: expect.objectContaining({ type: 'MARKET', reduceOnly: true, side: 'SELL', quantity: qty.toFixed(3) }),
      }),
    ]);
    const id = flatten[0]?.order.clientOrderId ?? '';

    // A partial fill is not enough: still stopping, no done.
    const half = (Math.floor((qty / 2) * 1_000) / 1_000).toFixed(3);
    const partial = d.fill(id, 59_990, 'PARTIALLY_FILLED', half);
    expect(d.state.durable.sessions.get('u')?.status).toBe('stopping');
    expect(replies(partial)).toEqual([]);
    // Repeated inputs meanwhile do not send a second flatten for the same symbol.
    expect(placed(d.timer(500))).toEqual([]);

    // The last trade as the user stream reports it, with its commission (0.05 % of 59 990 × the rest).
    const order = d.order(id);
    const rest = (Number(order.quantity) - Number(half)).toFixed(3);
    const commission = ((Number(rest) * 59_990 * 5) / 10_000).toFixed(8);
    const filled = d.step({
      kind: 'order_update',
      order: {
        ...snapshotOf(order, 'FILLED', order.quantity, '59990', d.nowMs),
        trade: { cumQty: order.quantity, commission, commissionAsset: 'USDT', realizedProfit: '0', lastQty: rest, lastPrice: '59990' },
      },
    });
    expect(d.state.durable.sessions.get('u')?.status).toBe('closed');
    expect(eventsOf(filled.wal, 'session.closed')).toHaveLength(1);
    expect(replies(filled)).toEqual([expect.objectContaining({ commandId: 'stop', status: 'done', commandType: 'session.stop' })]);
    // The answer says what the session made, every dollar: realized, fees and funding, and the net of them (what the
    // trader is left with), not the realized PnL alone while the fees went unsaid.
    const closed = d.state.durable.sessions.get('u');
    if (!closed) throw new Error('no session');
    const net = sub(add(closed.realizedPnlUsd, closed.fundingUsd), closed.feesUsd);
    expect(Number(closed.feesUsd)).toBeGreaterThan(0);
    expect(replies(filled)[0]?.result).toEqual({
      realizedPnlUsd: Number(closed.realizedPnlUsd),
      feesUsd: Number(closed.feesUsd),
      fundingUsd: Number(closed.fundingUsd),
      netPnlUsd: Number(net),
    });
  });

  it('cancels resting entries first and closes only once they are final', () => {
    const d = new CoreDriver();
    d.tick('ETHUSDT', 3_000, 3_000.01);
    d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    const entry = placed(d.command({ id: 'r', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.5 }] }))[0];
    const id = entry?.order.clientOrderId ?? '';
    const order = d.order(id);
    d.step({
      kind: 'place_result',
      clientOrderId: id,
      outcome: {
        kind: 'accepted',
        order: {
          clientOrderId: id,
          exchangeOrderId: '1',
          symbol: 'ETHUSDT',
          side: 'BUY',
          status: 'NEW',
          origQty: order.quantity,
          executedQty: '0',
          avgPrice: '0',
          updateTime: 0,
        },
      },
    });
    const stop = d.command({ id: 'stop', userId: 'u', type: 'session.stop' });
    expect(stop.effects).toContainEqual(expect.objectContaining({ kind: 'cancel', clientOrderId: id, lane: 'priority' }));
    expect(d.state.durable.sessions.get('u')?.status).toBe('stopping');
    const canceled = d.step({
      kind: 'cancel_result',
      clientOrderId: id,
      outcome: {
        kind: 'canceled',
        order: {
          clientOrderId: id,
          exchangeOrderId: '1',
          symbol: 'ETHUSDT',
          side: 'BUY',
          status: 'CANCELED',
          origQty: order.quantity,
          executedQty: '0',
          avgPrice: '0',
          updateTime: 0,
        },
      },
    });
    expect(d.state.durable.sessions.get('u')?.status).toBe('closed');
    expect(replies(canceled)).toEqual([expect.objectContaining({ commandId: 'stop', status: 'done' })]);
  });

  it('with nothing held answers accepted then done at once', () => {
    const d = new CoreDriver();
    d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    const stop = d.command({ id: 'stop', userId: 'u', type: 'session.stop' });
    expect(replies(stop).map((r) => r.status)).toEqual(['accepted', 'done']);
    expect(d.state.durable.sessions.get('u')?.status).toBe('closed');
  });
});

describe('operator halt', () => {
  it('flattens every running session and blocks new entries until resumed', () => {
    const d = withPosition('long', 10_000, 50, 60_000);
    const halt = d.command({ id: 'halt', userId: 'operator', type: 'admin.halt_all', reason: 'drill' });
    expect(placed(halt)).toEqual([
      expect.objectContaining({ lane: 'priority', order: expect.objectContaining({ type: 'MARKET', reduceOnly: true, side: 'SELL' }) }),
    ]);
    d.fill(placed(halt)[0]?.order.clientOrderId ?? '', 60_000);
    const route = d.command({ id: 'r2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 1 }] });
    expect(replies(route)[0]).toMatchObject({ status: 'rejected', reason: 'trading is halted by an operator' });
    expect(placed(route)).toEqual([]);
  });
});

describe('exposure limit', () => {
  it('holds across symbols routed by separate signals, cutting the later one to what is left', () => {
    const d = new CoreDriver();
    d.tick('BTCUSDT', 60_000, 60_000.1);
    d.tick('ETHUSDT', 3_000, 3_000.01);
    d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    const btc = placed(d.command({ id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.8 }] }))[0];
    d.fill(btc?.order.clientOrderId ?? '', 60_000);
    const eth = placed(d.command({ id: 'r2', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'ETHUSDT', weight: 0.8 }] }))[0];
    const btcUsd = Number(btc?.order.quantity) * 60_000.1;
    const ethUsd = Number(eth?.order.quantity) * 3_000.01;
    expect(btcUsd + ethUsd).toBeLessThanOrEqual(10_000);
    expect(ethUsd).toBeGreaterThan(10_000 - btcUsd - 3_000.01 * 0.001 * 2); // cut to what is left, not to zero
  });

  it('scales weights that sum above 1 down together', () => {
    const d = new CoreDriver();
    d.tick('BTCUSDT', 60_000, 60_000.1);
    d.tick('ETHUSDT', 3_000, 3_000.01);
    d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    const routed = placed(
      d.command({
        id: 'r',
        userId: 'signals',
        type: 'signals.route',
        signals: [
          { symbol: 'BTCUSDT', weight: 0.8 },
          { symbol: 'ETHUSDT', weight: -0.8 },
        ],
      }),
    );
    const usd = (symbol: string, price: number): number => Number(routed.find((p) => p.order.symbol === symbol)?.order.quantity) * price;
    // Each gets half the capital, not 80% then the remaining 20%.
    expect(usd('BTCUSDT', 60_000.05)).toBeGreaterThan(5_000 - 60);
    expect(usd('BTCUSDT', 60_000.05)).toBeLessThanOrEqual(5_000);
    expect(usd('ETHUSDT', 3_000.005)).toBeGreaterThan(5_000 - 60);
    expect(routed.find((p) => p.order.symbol === 'ETHUSDT')?.order.side).toBe('SELL');
  });
});

describe('boot reconciliation', () => {
  it('adopts the exchange position, and reports an open order the log does not know', () => {
    const d = withPosition('long', 10_000, 50, 60_000);
    const qty = Number(d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty ?? 0);
    const decision = d.step({
      kind: 'reconcile',
      userId: 'u',
      positions: [{ symbol: 'BTCUSDT', positionAmt: toQty(qty / 2), entryPrice: '60000' }],
      openOrders: [
        {
          clientOrderId: 'someone-else',
          exchangeOrderId: '9',
          symbol: 'BTCUSDT',
          side: 'SELL',
          status: 'NEW',
          origQty: '1',
          executedQty: '0',
          avgPrice: '0',
          updateTime: 0,
        },
      ],
    });
    expect(d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty).toBe(toQty(qty / 2));
    const alerts = decision.outbound.flatMap((o) => (o.type === 'alert' ? [o.message] : []));
    expect(alerts.some((m) => m.includes('someone-else'))).toBe(true);
    expect(alerts.some((m) => m.includes('corrected'))).toBe(true);
  });
});
