import { describe, expect, it } from 'vitest';
import { CoreDriver, btcFilters, ethFilters, placed, replies, withConfig } from './fixtures.js';

// Market data per venue: a live session is started, sized, priced, valued and guarded on the live venue's
// feed only, whatever the paper simulator's prices are. Paper at ~60 000, live at ~100 000: a read from the
// wrong venue is off by 40 %.

const config = withConfig({ liveTradingEnabled: true, liveApprovedUserIds: ['lv'] });

function driver(): CoreDriver {
  const d = new CoreDriver({ config });
  d.tick('BTCUSDT', 60_000, 60_000.1);
  d.tick('ETHUSDT', 3_000, 3_000.01);
  d.liveFeed(100_000, 100_000.1);
  return d;
}

function start(d: CoreDriver, id: string, userId: string, mode: 'paper' | 'live', stopLossPct?: number) {
  return replies(d.command({ id, userId, type: 'session.start', mode, capitalUsd: 10_000, ...(stopLossPct ? { stopLossPct } : {}) }))[0];
}

describe('market data per venue', () => {
  it('refuses a live session while the live feed has no fresh quote or no trading rules, and says why', () => {
    const silent = new CoreDriver({ config });
    silent.tick('BTCUSDT', 60_000, 60_000.1);
    silent.tick('ETHUSDT', 3_000, 3_000.01);
    expect(start(silent, 's1', 'lv', 'live')).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/live exchange's market data is not healthy \(no live market data for BTCUSDT, ETHUSDT/),
    });
    expect(start(silent, 's2', 'pp', 'paper')).toMatchObject({ status: 'done' }); // paper is unaffected

    silent.liveFeed();
    silent.nowMs += config.staleFeedMs + 1; // the live quotes are now too old
    silent.tick('BTCUSDT', 60_000, 60_000.1);
    expect(start(silent, 's3', 'lv', 'live')).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/no live market data/) });
    silent.liveFeed();
    expect(start(silent, 's4', 'lv', 'live')).toMatchObject({ status: 'done' });

    const noRules = new CoreDriver({ config, filters: {} });
    noRules.liveFeed();
    expect(start(noRules, 's5', 'lv', 'live')).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/no trading rules from the live exchange/) });
  });

  it('says why the live trading rules could not be read, bounded, until they are', () => {
    const d = new CoreDriver({ config, filters: {} });
    d.liveFeed();
    const usdc = 'BTCUSDC is margined in USDC; the engine books USDT only: trade a USDT-margined symbol instead';
    d.step({ kind: 'rules_unreadable', venue: 'live', reason: usdc });
    expect(start(d, 's1', 'lv', 'live')).toMatchObject({
      status: 'rejected',
      reason: expect.stringContaining(`no trading rules from the live exchange for BTCUSDT, ETHUSDT: ${usdc}`),
    });
    // An error carrying a whole HTTP body is cut.
    d.step({ kind: 'rules_unreadable', venue: 'live', reason: `HTTP 502 ${'x'.repeat(5_000)}` });
    const cut = start(d, 's2', 'lv', 'live');
    expect(cut).toMatchObject({ status: 'rejected', reason: expect.stringContaining('HTTP 502 xxx') });
    expect(JSON.stringify(cut).length).toBeLessThan(1_000);
    // The same reason again (the shell's retry every 5 s while the rules stay unreadable) leaves the market as it was.
    const market = d.state.market;
    d.step({ kind: 'rules_unreadable', venue: 'live', reason: `HTTP 502 ${'x'.repeat(5_000)}` });
    expect(d.state.market).toBe(market);
    // Paper is not concerned; and once the rules are read the reason is gone with the refusal.
    expect(start(d, 's3', 'pp', 'paper')).toMatchObject({ status: 'done' });
    d.step({ kind: 'filters', venue: 'live', filters: { BTCUSDT: btcFilters, ETHUSDT: ethFilters } });
    d.liveFeed(); // quotes after the rules, as the feed keeps sending them
    expect(start(d, 's4', 'lv', 'live')).toMatchObject({ status: 'done' });
  });

  it("sizes and prices each session's entries on its own venue's book", () => {
    const d = driver();
    start(d, 's1', 'lv', 'live');
    start(d, 's2', 'pp', 'paper');
    const routed = placed(d.command({ id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }));
    const byUser = Object.fromEntries(routed.map((e) => [e.userId, e.order]));
    // Post-only at the touch: the live bid for the live session, the paper bid for the paper one.
    expect(byUser.lv).toMatchObject({ side: 'BUY', price: '100000.0', quantity: '0.049' });
    expect(byUser.pp).toMatchObject({ side: 'BUY', price: '60000.0', quantity: '0.083' });
  });

  it('values, stop-checks and stale-checks a live session on live prices only', () => {
    const d = driver();
    start(d, 's1', 'lv', 'live', 5);
    const [entry] = placed(d.command({ id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }));
    if (!entry) throw new Error('no entry');
    d.fill(entry.order.clientOrderId, 100_000);

    // Paper prices 40 % lower must not touch the live session: no stop-loss, equity at the live bid.
    d.tick('BTCUSDT', 60_000, 60_000.1);
    expect(d.state.durable.sessions.get('lv')?.killSwitch.engaged).toBe(false);
    const status = replies(d.command({ id: 'st', userId: 'lv', type: 'status' }))[0];
    expect(status?.result).toMatchObject({ session: { equityUsd: 10_000, positions: { BTCUSDT: { exitPrice: 100_000 } } } });

    // A live move of 11 % against 0.049 BTC loses 539 USD > 5 % of 10 000: the stop fires on the live tick.
    d.tick('BTCUSDT', 89_000, 89_000.1, 'live');
    expect(d.state.durable.sessions.get('lv')?.killSwitch).toMatchObject({ engaged: true, reason: 'stop_loss' });
  });

  it("calls a live session's feed stale when the live feed is silent, however lively the paper feed is", () => {
    const d = driver();
    start(d, 's1', 'lv', 'live');
    const [entry] = placed(d.command({ id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }));
    if (!entry) throw new Error('no entry');
    d.fill(entry.order.clientOrderId, 100_000);
    d.nowMs += config.staleFeedMs + 1;
    d.tick('BTCUSDT', 60_000, 60_000.1);
    d.timer();
    expect(d.state.durable.sessions.get('lv')?.killSwitch).toMatchObject({ engaged: true, reason: 'stale_feed:BTCUSDT' });
    // The flatten is sized on the live venue's rules and goes out for the whole position.
    expect(placed(d.decisions.at(-1) ?? { effects: [] }).map((e) => e.order)).toEqual([
      expect.objectContaining({ type: 'MARKET', side: 'SELL', reduceOnly: true, quantity: '0.049' }),
    ]);
  });
});
