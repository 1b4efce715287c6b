import { describe, expect, it } from 'vitest';
import type { Input } from '../../src/core/decide.js';
import { emptyMarketState } from '../../src/core/state.js';
import { withRulesUnreadable } from '../../src/core/venues.js';
import type { Engine } from '../../src/engine/engine.js';
import type { MarketData } from '../../src/exchange/port.js';
import { loadVenueFilters, retryMissingFilters, startFilterRefresh } from '../../src/services/execution/market-feeds.js';
import { silentLogger } from '../../src/util/logger.js';
import { btcFilters } from '../core/fixtures.js';
import { waitFor } from '../support/wait.js';

// The live exchange's trading rules, when boot could not read them, are read again until they arrive: live
// sessions are refused meanwhile (no rules), paper trading goes on.

function marketDataFailing(times: number, reasonOf: (read: number) => string = () => 'exchangeInfo unavailable'): MarketData & { reads: number } {
  const md = {
    reads: 0,
    async getSymbolFilters() {
      md.reads += 1;
      if (md.reads <= times) throw new Error(reasonOf(md.reads));
      return { BTCUSDT: btcFilters };
    },
    subscribeBookTicker: () => Promise.reject(new Error('unused')),
    close: async () => undefined,
  };
  return md;
}

describe('live trading rules missing at boot', () => {
  it('are read again until they arrive, a failure told to the engine when its reason is new, then handed to it tagged live', async () => {
    const submitted: Input[] = [];
    // The engine's market as decide() leaves it: a reason it was told is held (venues.ts withRulesUnreadable).
    const engine = {
      current: { market: emptyMarketState(0, { paper: { BTCUSDT: btcFilters } }) },
      submit: async (i: Input) => {
        submitted.push(i);
        if (i.kind === 'rules_unreadable')
          engine.current.market = { ...engine.current.market, venues: withRulesUnreadable(engine.current.market.venues, i.venue, i.reason) };
      },
    };
    // Boot told the engine the first reason already (service.ts); the retries fail twice with it, then once otherwise.
    engine.current.market = { ...engine.current.market, venues: withRulesUnreadable(engine.current.market.venues, 'live', 'exchangeInfo unavailable') };
    const live = marketDataFailing(4, (read) => (read <= 3 ? 'exchangeInfo unavailable' : 'HTTP 418: banned until later'));
    const retry = retryMissingFilters(engine as unknown as Engine, { paper: marketDataFailing(0), live }, ['BTCUSDT'], silentLogger(), 10);
    await waitFor('the live rules', () => submitted.some((i) => i.kind === 'filters'));
    await retry.stop();
    expect(live.reads).toBe(5);
    // The same reason every retry was a step of the engine each time (every 5 s while the rules stay unreadable).
    expect(submitted).toEqual([
      { kind: 'rules_unreadable', venue: 'live', reason: 'HTTP 418: banned until later' },
      { kind: 'filters', venue: 'live', filters: { BTCUSDT: btcFilters } },
    ]);
  });

  it('that boot could not read are reported with the reason (the service tells the engine once it is up)', async () => {
    const reasons: string[] = [];
    const filters = await loadVenueFilters({ paper: marketDataFailing(0), live: marketDataFailing(99) }, ['BTCUSDT'], silentLogger(), (reason) => {
      reasons.push(reason);
    });
    expect(filters).toEqual({ paper: { BTCUSDT: btcFilters } });
    expect(reasons).toEqual(['exchangeInfo unavailable']);
  }, 20_000);

  it('are not read again when boot had them, nor without a live exchange', async () => {
    const engine = { current: { market: emptyMarketState(0, { paper: { BTCUSDT: btcFilters }, live: { BTCUSDT: btcFilters } }) } };
    const live = marketDataFailing(0);
    await retryMissingFilters(engine as unknown as Engine, { paper: marketDataFailing(0), live }, ['BTCUSDT'], silentLogger(), 1).stop();
    await retryMissingFilters(engine as unknown as Engine, { paper: marketDataFailing(0) }, ['ETHUSDT'], silentLogger(), 1).stop();
    expect(live.reads).toBe(0);
  });
});

describe('trading rules read again while running', () => {
  it('every filterRefreshIntervalMs on every venue, and soon after a filter rejection but at most once per minimum gap', async () => {
    const submitted: Input[] = [];
    const engine = { submit: async (i: Input) => void submitted.push(i) };
    const paper = marketDataFailing(0);
    const live = marketDataFailing(0);
    const periodic = startFilterRefresh(engine as unknown as Engine, { paper, live }, ['BTCUSDT'], silentLogger(), {
      filterRefreshIntervalMs: 20,
      filterRefreshMinGapMs: 60_000,
    });
    await waitFor('two periodic rounds', () => paper.reads >= 2 && live.reads >= 2);
    await periodic.stop();
    expect(submitted.filter((i) => i.kind === 'filters' && i.venue === 'live').length).toBeGreaterThanOrEqual(2);

    const onDemand = startFilterRefresh(engine as unknown as Engine, { paper: marketDataFailing(0), live }, ['BTCUSDT'], silentLogger(), {
      filterRefreshIntervalMs: 3_600_000,
      filterRefreshMinGapMs: 60_000,
    });
    const before = live.reads;
    onDemand.refreshSoon('live'); // at once: no read yet
    await waitFor('the prompted read', () => live.reads === before + 1);
    onDemand.refreshSoon('live'); // within the gap: waits (and a third call adds nothing)
    onDemand.refreshSoon('live');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(live.reads).toBe(before + 1);
    await onDemand.stop();
  });
});
