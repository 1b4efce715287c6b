import type { ExchangeAccount } from '../../src/exchange/port.js';

/** An exchange account that answers every call and does nothing: sends end unknown, reads are empty. */
export function quietAccount(overrides: Partial<ExchangeAccount> = {}): ExchangeAccount {
  return {
    placeOrder: async () => ({ kind: 'unknown', reason: 'not in this test' }),
    cancelOrder: async () => ({ kind: 'unknown', reason: 'not in this test' }),
    queryOrder: async () => ({ kind: 'not_found' }),
    getPositions: async () => [],
    getOpenOrders: async () => [],
    placeProtectiveStop: async () => ({ kind: 'accepted' }),
    cancelProtectiveStop: async () => ({ kind: 'accepted' }),
    listProtectiveStops: async () => [],
    subscribeOrderUpdates: async () => ({ close: async () => undefined }),
    close: async () => undefined,
    ...overrides,
  };
}
