import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decide.js';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import { CoreDriver, placed } from './fixtures.js';

// A route's skips go to the signal source in its answer. A session whose capital buys less than one order of a symbol
// (or whose exposure limit other symbols take) never traded it, and its user never heard why: only a start note said
// so, and only for a capital too small at any weight. The user is now told once per reason, until an order for the
// symbol is placed.

type Alert = Extract<OutboundEvent, { type: 'alert' }>;

let routes = 0;

function route(d: CoreDriver, weight: number): Decision[] {
  routes += 1;
  const decisions: Decision[] = [d.command({ id: `route-${routes}`, userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight }] })];
  for (let last = decisions[0]; last?.continuation; last = decisions[decisions.length - 1]) decisions.push(d.step(last.continuation));
  return decisions;
}

function skipAlerts(decisions: readonly Decision[], userId: string): Alert[] {
  return decisions.flatMap((d) => d.outbound).filter((e): e is Alert => e.type === 'alert' && e.kind === 'signal_skipped' && e.userId === userId);
}

function fillAll(d: CoreDriver, decisions: readonly Decision[], price: number): void {
  for (const decision of decisions) for (const p of placed(decision)) d.fill(p.order.clientOrderId, price);
}

describe('a signal a flat session cannot trade', () => {
  it('is told to its user once, with the reason, and not again at the next signal or price', () => {
    const d = new CoreDriver();
    d.tick('BTCUSDT', 60_000, 60_000.1);
    d.command({ id: 'start-small', userId: 'small', type: 'session.start', mode: 'paper', capitalUsd: 5 });
    d.command({ id: 'start-big', userId: 'big', type: 'session.start', mode: 'paper', capitalUsd: 1_000 });
    const first = route(d, 0.5);
    const told = skipAlerts(first, 'small');
    expect(told).toHaveLength(1);
    expect(told[0]?.message).toMatch(/^BTCUSDT signal not traded: target 2\.50 USD \(weight 0\.5 of 5 USD\) is less than one BTCUSDT order step of 0\.001\. /);
    // The user who traded hears nothing of the kind.
    expect(skipAlerts(first, 'big')).toEqual([]);

    // The same signal a minute later, at another price: the same reason with other figures, not said again.
    d.nowMs += 60_000;
    d.tick('BTCUSDT', 61_000, 61_000.1);
    expect(skipAlerts(route(d, 0.5), 'small')).toEqual([]);
  });

  it('is told again after an order for the symbol was placed, and never for a session holding it', () => {
    const d = new CoreDriver();
    d.tick('BTCUSDT', 60_000, 60_000.1);
    // 150 USD: half of it is 0.001 BTC after the step, 60 USD, below the 100 USD minimum notional; all of it trades.
    d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 150 });
    const half = route(d, 0.5);
    expect(skipAlerts(half, 'u').map((a) => a.message)).toEqual([expect.stringMatching(/^BTCUSDT signal not traded: notional 60\.00 below minimum 100\. /)]);

    const whole = route(d, 1);
    expect(placed(whole[0] as Decision)).toHaveLength(1);
    fillAll(d, whole, 60_000);
    // Holding 0.002: halving it is an order of 60 USD, below the minimum too; the user holds BTCUSDT, nothing to tell.
    expect(skipAlerts(route(d, 0.5), 'u')).toEqual([]);

    const exit = route(d, 0);
    fillAll(d, exit, 60_000);
    expect(d.state.durable.sessions.get('u')?.positions.BTCUSDT?.qty ?? '0').toMatch(/^-?0(\.0*)?$/);
    // Flat again after an order: the same reason is told again.
    expect(skipAlerts(route(d, 0.5), 'u')).toHaveLength(1);
  });
});
