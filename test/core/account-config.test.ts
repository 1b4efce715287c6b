import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decide.js';
import type { AccountConfigChange } from '../../src/model/margin.js';
import { CoreDriver } from './fixtures.js';

// An account setting changed on the exchange while a session runs (the user-data stream's ACCOUNT_CONFIG_UPDATE, or an
// ACCOUNT_UPDATE for a margin type): multi-assets margin switched on, a traded symbol's leverage raised above the one
// the session's preflight set, or a traded symbol switched to isolated margin,
// pauses its entries and tells the user what changed and how to set it back; anything else asks nothing. The engine
// used to ignore the event and trade on until its next restart's recheck.

function alerts(d: Pick<Decision, 'outbound'>): string[] {
  return d.outbound.flatMap((o) => (o.type === 'alert' ? [o.message] : []));
}

/** A paper session started at 5x by the preflight. */
function started(): CoreDriver {
  const d = new CoreDriver();
  d.tick('BTCUSDT', 60_000, 60_000.1);
  d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 }, 1, undefined, { ok: true, leverage: 5 });
  expect(d.state.durable.sessions.get('u')?.leverage).toBe(5);
  return d;
}

const change = (d: CoreDriver, c: AccountConfigChange, mode: 'paper' | 'live' = 'paper'): Decision =>
  d.step({ kind: 'account_config', userId: 'u', mode, change: c });

describe('account settings changed on the exchange mid-session', () => {
  it("pauses entries when a traded symbol's leverage is raised above the session's, saying how to set it back", () => {
    const d = started();
    const raised = change(d, { kind: 'leverage', symbol: 'BTCUSDT', leverage: 50 });
    expect(d.state.durable.sessions.get('u')?.paused).toBe(true);
    expect(alerts(raised)).toEqual([expect.stringContaining('the leverage of BTCUSDT was raised to 50x')]);
    expect(alerts(raised)[0]).toContain("/resume checks the account again, sets the session's cross margin and leverage back");
    expect(alerts(raised)[0]).toContain('New entries are paused');
    // Told again on another change, without pausing twice.
    expect(alerts(change(d, { kind: 'multi_assets', on: true }))).toEqual([expect.not.stringContaining('New entries are paused')]);
  });

  it('pauses entries when multi-assets margin is switched on', () => {
    const d = started();
    const on = change(d, { kind: 'multi_assets', on: true });
    expect(d.state.durable.sessions.get('u')?.paused).toBe(true);
    expect(alerts(on)).toEqual([expect.stringContaining('multi-assets margin mode was switched on')]);
  });

  it('pauses entries when a traded symbol is switched to isolated margin', () => {
    const d = started();
    const isolated = change(d, { kind: 'margin_type', symbol: 'BTCUSDT', isolated: true });
    expect(d.state.durable.sessions.get('u')?.paused).toBe(true);
    expect(alerts(isolated)).toEqual([expect.stringContaining('the margin type of BTCUSDT was switched to isolated')]);
    expect(alerts(isolated)[0]).toContain("/resume checks the account again, sets the session's cross margin and leverage back");
  });

  it('asks nothing of a lower or equal leverage, an untraded symbol, multi-assets off, another venue or no session', () => {
    const d = started();
    for (const c of [
      { kind: 'leverage', symbol: 'BTCUSDT', leverage: 3 },
      { kind: 'leverage', symbol: 'BTCUSDT', leverage: 5 },
      { kind: 'leverage', symbol: 'DOGEUSDT', leverage: 75 },
      { kind: 'multi_assets', on: false },
      { kind: 'margin_type', symbol: 'BTCUSDT', isolated: false },
      { kind: 'margin_type', symbol: 'DOGEUSDT', isolated: true },
    ] as const) {
      const decision = change(d, c);
      expect(decision.wal).toEqual([]);
      expect(alerts(decision)).toEqual([]);
    }
    expect(change(d, { kind: 'multi_assets', on: true }, 'live').outbound).toEqual([]);
    expect(d.step({ kind: 'account_config', userId: 'nobody', mode: 'paper', change: { kind: 'multi_assets', on: true } }).outbound).toEqual([]);
    expect(d.state.durable.sessions.get('u')?.paused).toBe(false);
  });
});
