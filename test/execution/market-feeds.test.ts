import { describe, expect, it } from 'vitest';
import type { Input } from '../../src/core/decide.js';
import { emptyMarketState } from '../../src/core/state.js';
import type { Engine } from '../../src/engine/engine.js';
import type { MarketData } from '../../src/exchange/port.js';
import { retryMissingFilters } from '../../src/services/execution/market-feeds.js';
import { silentLogger } from '../../src/util/logger.js';
import { btcFilters } from '../core/fixtures.js';
import { waitFor } from '../support/wait.js';

// The live exchange's trading rules, when boot could not read them, are read again until they arrive: live
// sessions are refused meanwhile (no rules), paper trading goes on.

function marketDataFailing(times: number): MarketData & { reads: number } {
  const md = {
    reads: 0,
    async getSymbolFilters() {
      md.reads += 1;
      if (md.reads <= times) throw new Error('exchangeInfo unavailable');
      return { BTCUSDT: btcFilters };
    },
    subscribeBookTicker: () => Promise.reject(new Error('unused')),
    close: async () => undefined,
  };
  return md;
}

describe('live trading rules missing at boot', () => {
  it('are read again until they arrive, then handed to the engine tagged live', async () => {
    const submitted: Input[] = [];
    const engine = { current: { market: emptyMarketState(0, { paper: { BTCUSDT: btcFilters } }) }, submit: async (i: Input) => void submitted.push(i) };
    const live = marketDataFailing(2);
    const retry = retryMissingFilters(engine as unknown as Engine, { paper: marketDataFailing(0), live }, ['BTCUSDT'], silentLogger(), 10);
    await waitFor('the live rules', () => submitted.length > 0);
    await retry.stop();
    expect(live.reads).toBe(3);
    expect(submitted).toEqual([{ kind: 'filters', venue: 'live', filters: { BTCUSDT: btcFilters } }]);
  });

  it('are not read again when boot had them, nor without a live exchange', async () => {
    const engine = { current: { market: emptyMarketState(0, { paper: { BTCUSDT: btcFilters }, live: { BTCUSDT: btcFilters } }) } };
    const live = marketDataFailing(0);
    await retryMissingFilters(engine as unknown as Engine, { paper: marketDataFailing(0), live }, ['BTCUSDT'], silentLogger(), 1).stop();
    await retryMissingFilters(engine as unknown as Engine, { paper: marketDataFailing(0) }, ['ETHUSDT'], silentLogger(), 1).stop();
    expect(live.reads).toBe(0);
  });
});
