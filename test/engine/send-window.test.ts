import { describe, expect, it } from 'vitest';
import { executorOn } from '../support/executor.js';
import { usePaperExchange } from '../support/paper-exchange.js';

// An order is sent within its send window or not at all. The core declares an order the exchange does not know
// "never sent" once the not-found grace has passed; an order held in a queue past that point and sent anyway
// would trade while the engine no longer tracks it (found by the deterministic simulation, seed 642).

describe('the send window of an order', () => {
  const paperExchange = usePaperExchange(7);

  it('is not sent once held in the queue past its window, and is reported back as not sent', async () => {
    const { sim, connector } = paperExchange();
    const account = connector.account({ apiKey: 'window-user', apiSecret: 's' });
    let engineNowMs = 1_000_000;
    const { executor, results } = executorOn(account, { limits: { normalConcurrencyPerAccount: 1 }, nowMs: () => engineNowMs });
    const order = (clientOrderId: string) => ({
      clientOrderId,
      symbol: 'SOLUSDT',
      side: 'BUY' as const,
      type: 'MARKET' as const,
      quantity: '1.00',
      reduceOnly: false,
    });
    await account.queryOrder('SOLUSDT', 'warm-up'); // the first call syncs the clock
    const ordersBefore = sim.orders().length;
    const requestsFromMs = Date.now();

    sim.faults.latencyMs = 300; // the first order is slow to answer; the second waits behind it in the queue...
    executor.submit({ kind: 'place', userId: 'u', lane: 'normal', order: order('w-1'), notAfterMs: engineNowMs + 5_000 });
    executor.submit({ kind: 'place', userId: 'u', lane: 'normal', order: order('w-2'), notAfterMs: engineNowMs + 5_000 });
    while (!sim.requests().some((r) => r.path === '/fapi/v1/order' && r.receivedAt >= requestsFromMs)) await new Promise((r) => setTimeout(r, 10));
    engineNowMs += 6_000; // ...past its send window while the first is in flight
    await executor.idle();
    sim.faults.latencyMs = 0;

    expect(results).toHaveLength(2);
    expect(results[1]).toMatchObject({ kind: 'place_result', clientOrderId: 'w-2', outcome: { kind: 'rejected', message: expect.stringMatching(/not sent/) } });
    expect(
      sim
        .orders()
        .slice(ordersBefore)
        .map((o) => o.clientOrderId),
    ).toEqual(['w-1']);
    await connector.marketData().close();
  });
});
