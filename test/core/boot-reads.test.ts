import { describe, expect, it } from 'vitest';
import { CoreDriver } from './fixtures.js';

// What the core asks the exchange for at boot, besides boot's own reconciliation of every open session (its stops,
// open orders and positions, engine/boot.ts), which also stands for the protective-stop pass's periodic check: the
// pass asking for the same reads again doubled the weight of every restart.
// Boot reads the trade list only where a lost commission could be booked: a user+symbol with an order the state
// still holds (a trade of any other order is not the engine's to book, see trade-backstop.ts). Reading it for
// every open session and configured symbol cost 5 weight × symbols × sessions: with 1 000 idle sessions, more
// than a minute's request weight before the first reconciliation read (boot waited for the budget).

describe('reads asked for at boot', () => {
  it('asks for no stop listing or reconciliation of an open session (boot reads it anyway)', () => {
    const core = new CoreDriver();
    core.command({ id: 's1', userId: 'idle', type: 'session.start', mode: 'paper', capitalUsd: 1_000, stopLossPct: 5 });
    core.restart();
    const boot = core.decisions.at(-5);
    expect(boot?.effects.filter((e) => e.kind === 'list_stops' || e.kind === 'reconcile')).toEqual([]);
    // The next periodic check comes a period later, as after any check.
    core.timer(core.config.protectiveStopIdleCheckMs);
    expect(core.decisions.at(-1)?.effects.map((e) => e.kind)).toEqual(['list_stops', 'reconcile']);
  });

  it('asks for no trade list of a session that never placed an order', () => {
    const core = new CoreDriver();
    core.command({ id: 's1', userId: 'idle', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
    core.restart();
    const reads = core.decisions.flatMap((d) => d.effects).filter((e) => e.kind === 'read_trades' && e.userId === 'idle');
    expect(reads).toEqual([]);
  });

  it('asks for the trade list of each symbol a session has a retained order on', () => {
    const core = new CoreDriver();
    core.command({ id: 's1', userId: 'busy', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
    core.tick('BTCUSDT', 60_000, 60_000.1);
    core.tick('ETHUSDT', 3_000, 3_000.01);
    core.command({ id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] });
    const order = core.state.durable.orders.values().find((o) => o.userId === 'busy');
    expect(order?.symbol).toBe('BTCUSDT');
    core.restart();
    const reads = core.decisions.flatMap((d) => d.effects).filter((e) => e.kind === 'read_trades' && e.userId === 'busy');
    expect(reads.map((e) => (e.kind === 'read_trades' ? e.symbol : ''))).toEqual(['BTCUSDT']);
  });
});
